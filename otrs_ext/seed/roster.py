"""Who works at and who writes to the seeded helpdesk: departments, agents, companies and customer users.

Pure data, independent of the seed and of the database: agent ``i`` of a department and customer ``i`` are
always the same person (each is drawn from its own ``random.Random`` keyed by its position), so a larger run
is a superset of a smaller one and ``org.ensure_org`` can reuse what an earlier run created.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .text import random_ip
from .vocabulary import (
    DOMAIN_TLDS,
    DOMAIN_WORDS,
    EN_CITIES,
    EN_COMPANY_FORMS,
    EN_COMPANY_WORDS,
    EN_FIRST,
    EN_LAST,
    EN_MAIL_PROVIDERS,
    FIXED_DOMAINS,
    IDN_DOMAINS,
    PROVIDER_DOMAIN,
    RU_CITIES,
    RU_COMPANY_FORMS,
    RU_COMPANY_WORDS,
    RU_FEMALE,
    RU_MAIL_PROVIDERS,
    RU_MALE,
    RU_SURNAMES,
    feminine_surname,
    translit,
)

ROLE_KEYS = ("ro", "move_into", "create", "note", "owner", "priority")


@dataclass(frozen=True)
class Department:
    name: str
    group: str  # permission group of all its queues
    role: str
    role_rw: bool  # the role holds the single 'rw' key instead of the six separate keys
    mailbox: str  # system address local part
    title_ru: str
    title_en: str
    queues: tuple[str, ...]


DEPARTMENTS = (
    Department("Support", "support", "Support agents", True, "support", "Техническая поддержка",
               "Technical Support", ("Support", "Support::Hosting", "Support::Domains",
                                     "Support::Domains::Transfers", "Support::Mail", "Support::SSL")),
    Department("Billing", "billing", "Billing agents", False, "billing", "Финансовый отдел",
               "Billing Department", ("Billing", "Billing::Invoices", "Billing::Refunds")),
    Department("Domains", "domains", "Domain agents", False, "domains", "Отдел доменов", "Domain Department",
               ("Domains", "Domains::Registration", "Domains::DNS")),
    Department("Hosting", "hosting", "Hosting engineers", True, "hosting", "Отдел хостинга", "Hosting Team",
               ("Hosting", "Hosting::Shared", "Hosting::VPS", "Hosting::Dedicated")),
    Department("Sales", "sales", "Sales managers", False, "sales", "Отдел продаж", "Sales",
               ("Sales", "Sales::Partners")),
    Department("Abuse", "abuse", "Abuse desk", False, "abuse", "Служба Abuse", "Abuse Desk",
               ("Abuse", "Abuse::Spam", "Abuse::Phishing")),
)
LEAD_GROUPS = ("support", "billing", "domains", "hosting")  # the team lead holds rw on these
DISPATCH_QUEUE = "Support"  # where mail lands before an agent moves it


@dataclass(frozen=True)
class AgentSpec:
    login: str
    first_name: str
    last_name: str
    lang: str
    department: str
    via_role: bool  # member of the department role; otherwise direct group_user rows
    direct_keys: tuple[str, ...]  # group_user keys on the department group when not via the role
    extra: tuple[tuple[str, str], ...] = ()  # further (group, key) rows, e.g. read-only on another department

    @property
    def email(self) -> str:
        return f"{self.login}@{PROVIDER_DOMAIN}"


@dataclass(frozen=True)
class CompanySpec:
    customer_id: str
    name: str
    lang: str
    city: str
    domain: str


@dataclass(frozen=True)
class CustomerSpec:
    login: str  # = e-mail address
    first_name: str
    last_name: str
    lang: str
    company: CompanySpec
    phone: str
    domains: tuple[str, ...]
    ip: str
    no_yo: bool  # types е instead of ё
    extra_company: str | None  # a second customer_id this user may see (customer_user_customer)

    @property
    def email(self) -> str:
        return self.login

    @property
    def customer_id(self) -> str:
        return self.company.customer_id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _person(rng: random.Random, lang: str) -> tuple[str, str]:
    if lang == "en":
        return rng.choice(EN_FIRST), rng.choice(EN_LAST)
    if rng.random() < 0.5:
        return rng.choice(RU_MALE), rng.choice(RU_SURNAMES)
    return rng.choice(RU_FEMALE), feminine_surname(rng.choice(RU_SURNAMES))


def agents_per_department(tickets: int) -> int:
    return max(3, min(20, 2 + tickets // 5000))


def customer_count(tickets: int) -> int:
    return max(20, tickets // 20)


def agent_roster(tickets: int) -> list[AgentSpec]:
    """The agents for a run of ``tickets`` tickets; the team lead first."""
    rng = random.Random("otrs-ext-seed/lead")
    first, last = _person(rng, "ru")
    out = [AgentSpec(f"{translit(first)}.{translit(last)}", first, last, "ru", "Support", False, (),
                     tuple((g, "rw") for g in LEAD_GROUPS))]
    used = {out[0].login}
    for i in range(agents_per_department(tickets)):
        for dept in DEPARTMENTS:
            rng = random.Random(f"otrs-ext-seed/agent/{dept.name}/{i}")
            lang = "ru" if rng.random() < 0.75 else "en"
            first, last = _person(rng, lang)
            base = f"{translit(first)[0]}.{translit(last)}" if lang == "ru" else f"{first}.{last}".lower()
            login, n = base, 1
            while login in used:
                n += 1
                login = f"{base}{n}"
            used.add(login)
            via_role = i % 3 != 2
            direct = () if via_role else (("rw",) if i % 2 == 0 else ROLE_KEYS)
            extra: tuple[tuple[str, str], ...] = ()
            if dept.name == "Support" and i == 1:  # a supporter who may read billing and note on domains
                extra = (("billing", "ro"), ("domains", "ro"), ("domains", "note"))
            out.append(AgentSpec(login, first, last, lang, dept.name, via_role, direct, extra))
    return out


def company(j: int, used_names: set[str]) -> CompanySpec:
    rng = random.Random(f"otrs-ext-seed/company/{j}")
    lang = "ru" if rng.random() < 0.7 else "en"
    if lang == "ru":
        word = rng.choice(RU_COMPANY_WORDS)
        name = f"{rng.choice(RU_COMPANY_FORMS)} «{word}»"
        city = rng.choice(RU_CITIES)
    else:
        word = rng.choice(EN_COMPANY_WORDS)
        name = f"{word} {rng.choice(EN_COMPANY_FORMS)}"
        city = rng.choice(EN_CITIES)
    if name in used_names:
        name = f"{name} ({city}, {j + 1})"
    used_names.add(name)
    slug = "".join(c for c in translit(word).upper() if "A" <= c <= "Z")[:10] or "CUST"
    label = "".join(c for c in translit(word) if c.isalnum() or c == "-").strip("-")
    if rng.random() < 0.7:
        domain = f"{label}{rng.choice(DOMAIN_TLDS)}"
    else:
        domain = f"{rng.choice(DOMAIN_WORDS)}-{j % 97 + 1}.ru"
    return CompanySpec(f"{slug}-{j + 1:04d}", name, lang, city, domain)


def customer_roster(tickets: int) -> list[CustomerSpec]:
    """The customer users for a run of ``tickets`` tickets (about four per company)."""
    companies: list[CompanySpec] = []
    used_names: set[str] = set()
    used_logins: set[str] = set()
    out = []
    for i in range(customer_count(tickets)):
        j = i // 4
        while len(companies) <= j:
            companies.append(company(len(companies), used_names))
        comp = companies[j]
        rng = random.Random(f"otrs-ext-seed/customer/{i}")
        lang = comp.lang if rng.random() < 0.85 else ("en" if comp.lang == "ru" else "ru")
        first, last = _person(rng, lang)
        f_ascii, l_ascii = translit(first), translit(last)
        if rng.random() < 0.4:
            base = f"{f_ascii}@{comp.domain}" if rng.random() < 0.5 else f"{f_ascii}.{l_ascii}@{comp.domain}"
        else:
            providers = RU_MAIL_PROVIDERS if lang == "ru" else EN_MAIL_PROVIDERS
            digits = str(rng.randint(70, 2005)) if rng.random() < 0.3 else ""
            base = f"{f_ascii}.{l_ascii}{digits}@{rng.choice(providers)}"
        login, n = base, 1
        while login in used_logins:
            n += 1
            local, _, host = base.partition("@")
            login = f"{local}{n}@{host}"
        used_logins.add(login)
        domains = [comp.domain]
        for _ in range(rng.choice((0, 0, 1, 2))):
            r = rng.random()
            if r < 0.08:
                domains.append(rng.choice(IDN_DOMAINS))
            elif r < 0.16:
                domains.append(rng.choice(FIXED_DOMAINS))
            else:
                domains.append(f"{rng.choice(DOMAIN_WORDS)}-{rng.randint(1, 99)}{rng.choice(DOMAIN_TLDS)}")
        if lang == "ru":
            code, a = rng.randint(10, 99), rng.randint(100, 999)
            b, c = rng.randint(10, 99), rng.randint(10, 99)
            phone = f"+7 (9{code}) {a}-{b}-{c}"
        else:
            phone = f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        extra = companies[j - 1].customer_id if j > 0 and rng.random() < 0.05 else None
        out.append(CustomerSpec(login, first, last, lang, comp, phone, tuple(domains), random_ip(rng),
                                lang == "ru" and rng.random() < 0.5, extra))
    return out
