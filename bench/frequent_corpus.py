"""A second search corpus: helpdesk mail dense in domains and e-mail addresses, with frequent words.

The seed (``otrs_ext.seed``) writes stories in its own phrase banks; search tuned only on them can miss what a
real helpdesk's mail looks like. This corpus keeps the seed's tickets, queues, states, customers and article
rows, and replaces every article's From/To/Cc, subject and body with text that has

* words matching most articles, as a real helpdesk's greetings and footers do (``FREQUENT_SHARES``: each
  occurs in that share of all articles, 57–99 %), so the heaviest queries match most of the index;
* many domains, subdomains, URLs, e-mail addresses and IPs per article (quoted headers, DNS records, links,
  signatures): 15–40 blended tokens per body, what makes indexing domain-rich mail slow;
* Russian and English mixed, a few thousand distinct ordinary words and tens of thousands of customer domains.

Used by ``bench/bench_search.py --corpus frequent`` and ``bench/bench_reindex.py --corpus frequent``;
``seed_frequent`` is ``run_seed`` with the text swapped (same speed, same row layout; the raw-mail copies of
``article_data_mime_plain`` are not written, search never reads them).
"""

from __future__ import annotations

import functools
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import Engine

from otrs_ext.seed.runner import SeedReport, prepare
from otrs_ext.seed.vocabulary import EN_FIRST, EN_LAST, RU_MAIL_PROVIDERS, translit
from otrs_ext.seed.writer import BulkWriter
from schema_maps import OtrsSchema

#: word -> share of all articles containing it (a form of it, for the Russian ones)
FREQUENT_SHARES = {"please": 0.99, "спасибо": 0.88, "здравствуйте": 0.80, "сайт": 0.64, "hello": 0.57}
#: the helpdesk's own domain: in the signature of most articles
HELPDESK_DOMAIN = "support.hostmaster-24.ru"
HELPDESK_MAILBOX = f"help@{HELPDESK_DOMAIN}"
HELPDESK_SHARE = 0.70
CUSTOMER_DOMAINS = 40_000

_RU_WORDS = (
    "сервер", "домен", "хостинг", "оплата", "счёт", "договор", "почта", "ящик", "пароль", "доступ", "ошибка",
    "сертификат", "перенос", "продление", "регистрация", "запись", "зона", "панель", "управления", "тариф",
    "диск", "квота", "база", "данных", "резервная", "копия", "восстановление", "настройка", "письмо",
    "отправка", "получение", "спам", "фильтр", "блокировка", "нагрузка", "процессор", "память", "лимит",
    "заявка", "клиент", "менеджер", "бухгалтерия", "акт", "сверки", "реквизиты", "платёж", "возврат",
    "средств", "баланс", "услуга", "подключение", "отключение", "срок", "действия", "смена", "владельца",
    "администратор", "редирект", "страница", "главная", "форма", "обратной", "связи", "корзина", "заказ",
    "магазин", "каталог", "товар", "изображение", "загрузка", "медленно", "быстро", "сегодня", "вчера",
    "утром", "вечером", "срочно", "пожалуйста", "помогите", "проверьте", "подскажите", "уточните",
    "работает", "открывается", "перестал", "появилась", "пропала", "выдаёт", "показывает", "требуется",
    "необходимо", "возможно", "неделю", "месяц", "год", "обновление", "версия", "модуль", "плагин",
    "шаблон", "тема", "скрипт", "cron", "задание", "журнал", "логи", "ответ", "вопрос", "проблема",
    "решение", "инструкция", "документация", "скриншот", "вложение", "файл", "архив", "папка", "каталоге",
    "права", "владелец", "группа", "пользователь", "учётная", "логин", "вход", "выход", "сессия", "кэш",
    "браузер", "телефон", "компьютер", "приложение", "интеграция", "api", "ключ", "токен", "вебхук",
    "уведомление", "рассылка", "подписка", "отписка", "жалоба", "претензия", "компенсация", "скидка",
)
_EN_WORDS = (
    "server", "domain", "hosting", "payment", "invoice", "contract", "mailbox", "password", "access", "error",
    "certificate", "transfer", "renewal", "registration", "record", "zone", "control", "panel", "plan",
    "disk", "quota", "database", "backup", "restore", "settings", "message", "delivery", "spam", "filter",
    "blocked", "load", "cpu", "memory", "limit", "request", "customer", "account", "manager", "billing",
    "refund", "balance", "service", "enable", "disable", "expired", "owner", "administrator", "redirect",
    "page", "homepage", "form", "contact", "cart", "order", "shop", "catalog", "product", "image", "upload",
    "slow", "fast", "today", "yesterday", "morning", "evening", "urgent", "help", "check", "advise",
    "working", "loading", "stopped", "appeared", "missing", "shows", "returns", "required", "possible",
    "week", "month", "year", "update", "version", "module", "plugin", "template", "theme", "script", "job",
    "log", "answer", "question", "issue", "solution", "guide", "documentation", "screenshot", "attachment",
    "file", "archive", "folder", "permissions", "group", "user", "login", "session", "cache", "browser",
    "phone", "application", "integration", "key", "token", "webhook", "notification", "newsletter",
    "subscription", "complaint", "discount", "timeout", "gateway", "bounce", "queue", "relay", "sender",
)
_LABELS = ("alpha", "vector", "granit", "orbita", "sigma", "polus", "lotos", "raduga", "spektr", "atlant",
           "feniks", "impuls", "ladoga", "baikal", "sirius", "nimbus", "cobalt", "summit", "maple", "fjord",
           "pixel", "quantum", "harbor", "oak", "pine", "lake", "north", "sun", "blue", "green", "tech",
           "shop", "market", "studio", "cloud", "print", "auto", "travel", "clinic", "school", "books",
           "coffee", "design", "photo", "media", "law", "realty", "build", "garden", "pets", "music", "food")
_TLDS = (".ru", ".ru", ".ru", ".ru", ".com", ".net", ".org", ".su", ".online", ".store", ".site", ".рф")
_SUBDOMAINS = ("www", "mail", "shop", "api", "dev", "crm", "m", "test", "cdn", "admin", "old", "new")
_MAILBOXES = ("info", "sales", "office", "admin", "zakaz", "buh", "support", "hr", "director", "noreply",
              "webmaster", "postmaster", "manager", "order")
_PATHS = ("catalog", "product", "cart", "admin", "wp-admin", "login", "api/v1/orders", "news", "contacts",
          "about", "images/banner.png", "index.php", "bitrix/admin", "search")
_NAMES_RU = ("Иван", "Алексей", "Мария", "Ольга", "Дмитрий", "Анна", "Сергей", "Елена", "Павел", "Ирина")
_RU_LAST = ("Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Морозов", "Волков", "Лебедев", "Козлов",
            "Новиков", "Фёдоров", "Орлов", "Зайцев", "Медведев", "Белов", "Тарасов")


def domain_of(n: int) -> str:
    """Customer domain number ``n`` (1..CUSTOMER_DOMAINS; the lower, the more often it occurs)."""
    label = _LABELS[n % len(_LABELS)]
    tld = _TLDS[(n // len(_LABELS)) % len(_TLDS)]
    if tld == ".рф":
        return f"{('пример', 'магазин', 'ромашка', 'кофейня')[n % 4]}-{n}.рф"
    return f"{label}-{n}{tld}" if n > 60 else f"{label}{tld}"


def _sentence(rng: random.Random, words: Sequence[str], low: int = 5, high: int = 14) -> str:
    picked = [rng.choice(words) for _ in range(rng.randint(low, high))]
    return picked[0].capitalize() + " " + " ".join(picked[1:]) + rng.choice((".", ".", ".", "?", "!"))


class FrequentText:
    """Draws the text columns of one article at a time from a seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # --- addresses ---------------------------------------------------------------------------------------
    def domain(self) -> str:
        """One of ``CUSTOMER_DOMAINS`` customer domains (Zipf-like: a few are very common)."""
        return domain_of(int(CUSTOMER_DOMAINS ** self.rng.random()))  # log-uniform over 1..CUSTOMER_DOMAINS

    def host(self) -> str:
        return f"{self.rng.choice(_SUBDOMAINS)}.{self.domain()}"

    def person(self) -> tuple[str, str]:
        """(display name, e-mail address)."""
        rng = self.rng
        if rng.random() < 0.6:
            first, last = rng.choice(_NAMES_RU), rng.choice(_RU_LAST)
            local = rng.choice((f"{translit(first)}.{translit(last)}", f"{translit(last)}{rng.randint(1, 99)}",
                                translit(first)[0] + "." + translit(last)))
        else:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            local = rng.choice((f"{first}.{last}".lower(), f"{first[0]}{last}".lower(), f"{last}.{first[0]}".lower()))
        host = self.domain() if rng.random() < 0.65 else rng.choice(RU_MAIL_PROVIDERS)
        return f"{first} {last}", f"{local}@{host}"

    def mailbox(self) -> str:
        return f"{self.rng.choice(_MAILBOXES)}@{self.domain()}"

    def url(self) -> str:
        rng = self.rng
        query = f"?id={rng.randint(1, 99999)}&utm_source=mail" if rng.random() < 0.3 else ""
        return f"http{'s' if rng.random() < 0.7 else ''}://{self.host()}/{rng.choice(_PATHS)}{query}"

    def ip(self) -> str:
        rng = self.rng
        return f"{rng.choice((31, 37, 45, 77, 85, 91, 95, 109, 176, 185, 193, 212))}.{rng.randrange(256)}." \
               f"{rng.randrange(256)}.{rng.randrange(1, 255)}"

    # --- text --------------------------------------------------------------------------------------------
    def _technical(self) -> str:
        """A pasted block full of blended tokens: DNS records, mail headers, a log line or links."""
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            zone = self.domain()
            return "\n".join(f"{rng.choice(('', 'www.', 'mail.', 'api.'))}{zone}. 3600 IN "
                             f"{rng.choice(('A', 'MX 10', 'CNAME', 'TXT'))} "
                             f"{self.ip() if rng.random() < 0.5 else 'mx' + str(rng.randint(1, 3)) + '.' + zone + '.'}"
                             for _ in range(rng.randint(2, 5)))
        if kind == 1:
            name, address = self.person()
            return (f"From: {name} <{address}>\nTo: {self.mailbox()}\nCc: {self.person()[1]}\n"
                    f"Message-ID: <{rng.getrandbits(40):x}.{rng.randint(1, 9999)}@mx{rng.randint(1, 9)}."
                    f"{self.domain()}>\nReceived: from {self.host()} ({self.ip()}) by mx.{self.domain()}")
        if kind == 2:
            return "\n".join(f"{self.ip()} - - \"GET /{rng.choice(_PATHS)} HTTP/1.1\" "
                             f"{rng.choice((200, 301, 403, 404, 500, 502))} {rng.randint(100, 99999)} "
                             f"\"{self.url()}\"" for _ in range(rng.randint(1, 4)))
        return " ".join(self.url() for _ in range(rng.randint(2, 5)))

    def article(self, *, first: bool, subject: str | None = None) -> dict[str, str]:
        """a_from, a_to, a_cc, a_subject, a_body of one article."""
        rng = self.rng
        ru = rng.random() < 0.65
        name, address = self.person()
        words = _RU_WORDS if ru else _EN_WORDS
        other = _EN_WORDS if ru else _RU_WORDS
        lines: list[str] = []
        share = FREQUENT_SHARES
        if rng.random() < share["здравствуйте"]:
            lines.append(rng.choice(("Здравствуйте!", "Здравствуйте.", f"Здравствуйте, {rng.choice(_NAMES_RU)}!")))
        if rng.random() < share["hello"]:
            lines.append(rng.choice(("Hello,", "Hello!", f"Hello {rng.choice(EN_FIRST)},")))
        for _ in range(rng.randint(2, 6)):
            sentence = _sentence(rng, words if rng.random() < 0.85 else other)
            if rng.random() < 0.45:
                sentence += f" {rng.choice(('См.', 'See', 'Адрес:', 'URL:', 'Пишите на', 'Contact'))} " + \
                    rng.choice((self.url(), self.mailbox(), self.host(), self.person()[1], self.ip()))
            lines.append(sentence)
        if rng.random() < share["сайт"]:
            lines.append(rng.choice((f"Сайт {self.domain()} не открывается с {self.ip()}.",
                                     f"На сайте {self.url()} ошибка 502.",
                                     f"Перенесите сайт {self.host()} на новый тариф.",
                                     f"Проверьте, пожалуйста, сайта {self.domain()} нет в выдаче.")))
        for _ in range(rng.randint(1, 3)):
            lines.append(self._technical())
        if rng.random() < share["спасибо"]:
            lines.append(rng.choice(("Спасибо!", "Заранее спасибо.", "Спасибо за обращение.", "Спасибо, ждём ответа.")))
        signature = f"--\n{name}\n{address}\n{rng.choice(('Тел.', 'Phone'))} +7 9{rng.randint(10, 99)} " \
                    f"{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        lines.append(signature)
        if rng.random() < HELPDESK_SHARE:
            lines.append(f"Служба поддержки {HELPDESK_DOMAIN} · {HELPDESK_MAILBOX}")
        if rng.random() < share["please"]:
            lines.append("Please keep the ticket number in the subject when replying / Пожалуйста, сохраняйте "
                         "номер заявки в теме письма.")
        if not first and rng.random() < 0.5:  # a quote of an earlier mail: more blended tokens, no frequent words
            quoted = [_sentence(rng, words) for _ in range(rng.randint(1, 3))] + [self._technical()]
            lines.append(f"> {self.person()[1]} wrote:\n> " + "\n".join(quoted).replace("\n", "\n> "))
        cc = ", ".join(self.person()[1] for _ in range(rng.choice((0, 0, 1, 2))))
        return {
            "a_from": f"{name} <{address}>",
            "a_to": HELPDESK_MAILBOX if rng.random() < 0.5 else self.mailbox(),
            "a_cc": cc,
            "a_subject": subject or _sentence(rng, words, 2, 6)[:-1] + f" ({self.domain()})",
            "a_body": "\n\n".join(lines) + "\n",
        }


def rewrite(articles: list[dict], rng: random.Random) -> None:
    """Replace the text columns of a batch's articles (in ticket order) with this corpus's text."""
    maker = FrequentText(rng)
    previous_ticket, subject = None, ""
    for article in articles:
        first = article["ticket_id"] != previous_ticket
        fresh = maker.article(first=first, subject=None if first else "Re: " + subject)
        if first:
            subject = fresh["a_subject"]
        previous_ticket = article["ticket_id"]
        article.update(fresh)


def seed_frequent(engine: Engine, schema: OtrsSchema, *, tickets: int, articles_per_ticket: float, seed: int,
                  batch_size: int = 1000, progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """``run_seed`` with this corpus's text in every article (see the module docstring)."""
    started = time.perf_counter()
    with engine.begin() as conn:
        plan = prepare(conn, schema, tickets=tickets, articles_per_ticket=articles_per_ticket, seed=seed)
    rng = random.Random(f"otrs-ext-frequent:{seed}:{plan.ids.ticket}")
    writer = BulkWriter(engine)
    done = {"tickets": 0}

    def committed(n: int) -> None:
        done["tickets"] += n
        if progress is not None:
            progress(done["tickets"], tickets)

    made = articles = 0
    try:
        while made < tickets:
            n = min(batch_size, tickets - made)
            batch = plan.batch(n)
            made += n
            rewrite(batch.articles, rng)
            batch.plain.clear()  # raw mails of the seed's text: nothing reads them here
            articles += len(batch.articles)
            writer.submit(batch.tables(schema, plan.article_ids), functools.partial(committed, n))
    finally:
        writer.close()
    counts = dict(plan.created)
    for name, count in writer.rows.items():
        counts[name] = counts.get(name, 0) + count
    return SeedReport(tickets=made, articles=articles, counts=counts, seconds=time.perf_counter() - started,
                      table_seconds=dict(writer.seconds))
