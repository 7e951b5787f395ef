"""Word material shared by the seed generator: people, companies, mail providers, domains, addresses.

Plain tuples only (no logic besides transliteration and Russian plural choice), so the lists can grow without
touching the generator. Russian surnames are listed in the masculine form; ``feminine_surname`` derives the
feminine one the way the language does (Петров → Петрова, Высоцкий → Высоцкая).
"""

from __future__ import annotations

RU_MALE = (
    "Иван", "Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Николай", "Павел", "Артём", "Егор",
    "Максим", "Владимир", "Константин", "Олег", "Роман", "Кирилл", "Фёдор", "Пётр", "Юрий", "Виктор",
    "Денис", "Евгений", "Илья", "Антон", "Григорий", "Тимур", "Вадим", "Степан", "Глеб", "Семён",
)
RU_FEMALE = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Екатерина", "Ирина", "Светлана", "Юлия",
    "Алёна", "Дарья", "Ксения", "Полина", "Вера", "Людмила", "Галина", "Марина", "Алина", "Софья",
    "Надежда", "Валерия", "Евгения", "Кристина", "Виктория", "Оксана", "Лариса", "Жанна", "Нина", "Аглая",
)
RU_SURNAMES = (
    "Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков",
    "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
    "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
    "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
    "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин",
    "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов",
    "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
    "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов",
    "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков",
    "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев",
    "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов",
    "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин",
    "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев",
    "Бирюков", "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов",
    "Юдин", "Белоусов", "Нестеров", "Симонов", "Харитонов", "Князев", "Цветков", "Воронцов", "Аксёнов",
    "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков",
    "Плотников", "Дёмин", "Хохлов", "Жданов", "Высоцкий", "Островский", "Ковальский", "Вишневский",
)
EN_FIRST = (
    "John", "Michael", "David", "James", "Robert", "William", "Thomas", "Daniel", "Paul", "Mark", "Emily",
    "Sarah", "Jessica", "Laura", "Emma", "Olivia", "Sophie", "Anna", "Kate", "Rachel", "Peter", "Chris",
    "Alex", "Martin", "Lucas", "Hannah", "Julia", "Nina", "Eva", "Oliver", "Jonas", "Lena", "Marco",
    "Giulia", "Pierre", "Claire", "Tomasz", "Agnieszka", "Jan", "Ingrid",
)
EN_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Anderson",
    "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall",
    "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Roberts",
    "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy",
    "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward",
    "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "Hughes", "Price", "Foster", "Schmidt",
    "Novak", "Kowalski", "Jansen", "Dubois", "Rossi", "Fischer", "Larsen",
)

RU_MAIL_PROVIDERS = ("mail.ru", "yandex.ru", "ya.ru", "bk.ru", "inbox.ru", "list.ru", "gmail.com",
                     "rambler.ru")
EN_MAIL_PROVIDERS = ("gmail.com", "outlook.com", "yahoo.com", "protonmail.com", "icloud.com", "gmx.net")
# Message-ID hosts of those providers' outgoing mail servers
MID_HOSTS = {
    "mail.ru": "smtp46.i.mail.ru", "bk.ru": "smtp46.i.mail.ru", "inbox.ru": "smtp46.i.mail.ru",
    "list.ru": "smtp46.i.mail.ru", "yandex.ru": "mail.yandex.ru", "ya.ru": "mail.yandex.ru",
    "gmail.com": "mail.gmail.com", "rambler.ru": "mail.rambler.ru", "outlook.com": "outlook.com",
    "yahoo.com": "mail.yahoo.com", "protonmail.com": "protonmail.com", "icloud.com": "icloud.com",
    "gmx.net": "gmx.net",
}

RU_COMPANY_FORMS = ("ООО", "ООО", "ООО", "АО", "ИП", "ПАО", "АНО")
RU_COMPANY_WORDS = (
    "Ромашка", "Вектор", "Альфа", "Техносфера", "Северный ветер", "Гранит", "Меридиан", "Сигма", "Восход",
    "Кристалл", "Орбита", "Стройинвест", "Полюс", "Лотос", "Интеграл", "Радуга", "Горизонт", "Спектр",
    "Атлант", "Берёзка", "Вертикаль", "Феникс", "Прогресс", "Импульс", "Ладога", "Байкал", "Сириус",
    "Магистраль", "Новые технологии", "Домашний уют", "Зелёный сад", "Цифровой мир", "Книжный дом",
    "Мастерская кода", "Пекарня на углу", "Светлый путь", "Тёплый дом", "Уральские самоцветы", "Волна",
)
EN_COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Northwind", "Blue Harbor", "Red Pine", "Silver Lake", "Bright Path",
    "Nimbus", "Quantum", "Pixel Forge", "Green Leaf", "Stonebridge", "Clearwater", "Oakridge", "Sunrise",
    "Bluebird", "Ironclad", "Cobalt", "Lighthouse", "Fjord", "Maple", "Summit", "Harbor Lights",
)
EN_COMPANY_FORMS = ("Ltd", "LLC", "GmbH", "Inc.", "Studio", "Group", "B.V.")

RU_CITIES = ("Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород",
             "Самара", "Ростов-на-Дону", "Краснодар", "Пермь", "Воронеж", "Тюмень", "Калининград",
             "Ярославль")
EN_CITIES = ("London", "Berlin", "Amsterdam", "Riga", "Tallinn", "Prague", "Warsaw", "Vienna", "Helsinki",
             "Dublin", "Munich", "Lisbon")

# Second-level labels for customer domains (ASCII) and a few Cyrillic IDNs, which matter for search.
DOMAIN_WORDS = (
    "shop", "store", "market", "studio", "dev", "cloud", "print", "auto", "flowers", "pizza", "travel",
    "fitness", "clinic", "school", "kids", "books", "coffee", "design", "photo", "media", "news", "law",
    "realty", "build", "garden", "pets", "music", "games", "tech", "service", "moda", "beauty", "food",
)
DOMAIN_TLDS = (".ru", ".ru", ".ru", ".com", ".net", ".org", ".su", ".online", ".store", ".site")
IDN_DOMAINS = ("ромашка.рф", "пример.рф", "магазин-цветов.рф", "пекарня.рф", "школа-танцев.рф", "кофейня.рф")
# What people write about in tickets: the provider's own names and famous examples
FIXED_DOMAINS = ("reg.ru", "example.reg.ru", "shop-42.ru", "mail.example.com", "example.com",
                 "test.example.org")
IP_FIRST_OCTETS = (31, 37, 45, 77, 78, 79, 81, 85, 87, 89, 91, 92, 93, 94, 95, 109, 128, 141, 176, 178,
                   185, 188, 193, 194, 195, 212, 213, 217)
NAMESERVERS = ("ns1.reg.ru", "ns2.reg.ru", "ns1.hosting.reg.ru", "ns2.hosting.reg.ru", "ns5.hosting.reg.ru",
               "ns6.hosting.reg.ru", "dns1.yandex.net", "ns.cloudflare.com")
PROVIDER_DOMAIN = "helpdesk.example.ru"  # agents' and system addresses' mail domain
AGENT_FQDN = "otrs.helpdesk.example.ru"  # host part of outgoing Message-IDs

_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", " ": "-", "«": "", "»": "", "№": "", ".": "", ",": "",
})


def translit(text: str) -> str:
    """Lower-case ASCII transliteration of a Russian word (Фёдоров → fedorov); other text is only lowered."""
    return text.lower().translate(_TRANSLIT)


def feminine_surname(surname: str) -> str:
    """The feminine form of a Russian surname given in the masculine form."""
    if surname.endswith("ий"):
        return surname[:-2] + "ая"
    if surname.endswith(("ов", "ев", "ёв", "ин")):
        return surname + "а"
    return surname


def plural_ru(n: int, forms: tuple[str, str, str]) -> str:
    """``n`` with the Russian noun form for it: (1 домен, 2 домена, 5 доменов); 11–14 take the third form."""
    n100 = n % 100
    n10 = n % 10
    if n10 == 1 and n100 != 11:
        form = forms[0]
    elif 2 <= n10 <= 4 and not 12 <= n100 <= 14:
        form = forms[1]
    else:
        form = forms[2]
    return f"{n} {form}"
