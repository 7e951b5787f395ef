"""Compose the subjects and bodies of support conversations from the phrase banks.

A ``TextMaker`` draws from the one seeded ``random.Random`` it is given, so one seed yields the same text.
Bodies are returned as paragraphs plus an optional quote of the previous message; ``render_plain`` and
``render_html`` turn them into what OTRS stores (the plain text goes to ``a_body``; the HTML of rich-text
articles to the ``file-2`` attachment, see OTRS_INTERNALS §13.4).
"""

from __future__ import annotations

import html
import random
import time
from dataclasses import dataclass
from email.utils import formatdate
from types import ModuleType
from typing import Any

# the sibling modules by full name: `from . import` would name the package, whose __init__ imports this module
import otrs_ext.seed.phrases_en as phrases_en
import otrs_ext.seed.phrases_ru as phrases_ru

from .vocabulary import FIXED_DOMAINS, IP_FIRST_OCTETS, NAMESERVERS, plural_ru

TOPICS = ("hosting", "domains", "dns", "ssl", "mail", "billing", "sales", "abuse")
TOPIC_WEIGHTS = (22, 14, 12, 9, 13, 18, 6, 6)
_NO_YO = str.maketrans({"ё": "е", "Ё": "Е"})
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_QUOTE_LINES = 40  # mail clients quote everything; we cut so long threads keep bodies at a few KB
_SUBDOMAINS = ("mail.", "shop.", "www.", "api.", "dev.", "crm.", "m.", "test.")
_MAILBOX_NAMES = ("info", "sales", "office", "admin", "zakaz", "buh", "support", "hr", "director")


def random_ip(rng: random.Random) -> str:
    return f"{rng.choice(IP_FIRST_OCTETS)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


@dataclass
class Body:
    """Paragraphs of a message and the already ``> ``-prefixed quote of the previous one (or '')."""

    paragraphs: list[str]
    quote_header: str = ""
    quote: str = ""


def render_plain(body: Body) -> str:
    text = "\n\n".join(body.paragraphs) + "\n"
    if body.quote:
        text += "\n" + body.quote_header + "\n" + body.quote + "\n"
    return text


def render_html(body: Body) -> tuple[str, str]:
    """(HTML document for ``file-2``, plain rendering for ``a_body``) like OTRS's rich-text editor produces.

    The plain rendering starts with a newline and ends with a blank line, as Znuny's HTML-to-ASCII does for a
    body that starts with ``<p>`` (golden rows, §13.4).
    """
    parts = ["<p>" + html.escape(p, quote=False).replace("\n", "<br />") + "</p>" for p in body.paragraphs]
    plain = "\n" + "\n\n".join(body.paragraphs) + "\n\n"
    if body.quote:
        inner = html.escape(body.quote.replace("\n> ", "\n").removeprefix("> "), quote=False)
        parts.append(
            "<div>" + html.escape(body.quote_header, quote=False) + '</div><blockquote type="cite" '
            'style="border:none;border-left:solid blue 1.5pt;padding:0cm 0cm 0cm 4.0pt">'
            + inner.replace("\n", "<br />") + "</blockquote>"
        )
        plain += body.quote_header + "\n" + body.quote + "\n\n"
    doc = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>'
           '</head><body style="font-family:Geneva,Helvetica,Arial,sans-serif; font-size: 12px;">'
           + "".join(parts) + "</body></html>")
    return doc, plain


def quote(text: str) -> str:
    """The first lines of ``text`` prefixed with ``> `` as a mail client quotes them."""
    lines = text.rstrip("\n").split("\n", _QUOTE_LINES)[:_QUOTE_LINES]
    return "> " + "\n> ".join(lines)


class TextMaker:
    """Draws subjects, bodies and log excerpts for one ticket context at a time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.books: dict[str, ModuleType] = {"ru": phrases_ru, "en": phrases_en}

    # --- per ticket ----------------------------------------------------------------------------------------
    def context(self, *, lang: str, customer: Any, topic: str, tn: str, old_tn: str, created: int) -> dict:
        """The placeholder values of one ticket: its domain, IPs, invoice... are the same in every article."""
        rng = self.rng
        book = self.books[lang]
        domain = rng.choice(customer.domains)
        day = time.gmtime(created + rng.randrange(0, 400) * 86400)
        created_tm = time.gmtime(created)
        n = {k: rng.randint(2, 30) for k in ("domains", "sites", "letters", "records", "days", "hours")}
        if lang == "ru":
            counted = {f"n_{k}": plural_ru(v, book.NOUN_FORMS[k]) for k, v in n.items()}
            date = f"{day.tm_mday:02d}.{day.tm_mon:02d}.{day.tm_year}"
            amount = f"{rng.randint(2, 250) * 100:,}".replace(",", "\u00a0")
        else:
            counted = {f"n_{k}": f"{v} {book.NOUN_FORMS[k][1]}" for k, v in n.items()}
            date = f"{day.tm_year}-{day.tm_mon:02d}-{day.tm_mday:02d}"
            amount = f"{rng.randint(2, 250) * 100:,}"
        ns = rng.randrange(0, len(NAMESERVERS) - 1, 2)
        ctx = {
            "lang": lang, "topic": topic, "domain": domain, "domain2": rng.choice(FIXED_DOMAINS),
            "sub": rng.choice(_SUBDOMAINS) + domain, "ip": customer.ip, "ip2": random_ip(rng),
            "server": f"server{rng.randint(10, 399)}.hosting.reg.ru",
            "mailbox": f"{rng.choice(_MAILBOX_NAMES)}@{domain}", "email": customer.email,
            "name": customer.first_name, "full": customer.full_name, "company": customer.company.name,
            "phone": customer.phone, "ns1": NAMESERVERS[ns], "ns2": NAMESERVERS[ns + 1],
            "order": str(rng.randint(1_000_000, 99_999_999)),
            "invoice": f"{time.gmtime(created).tm_year}-{rng.randint(100, 99999):05d}", "amount": amount,
            "date": date, "month": book.MONTHS[time.gmtime(created).tm_mon - 1],
            "php": rng.choice(("7.4", "8.0", "8.1", "8.2", "8.3")), "quota": str(rng.randint(2, 50)),
            "tn": tn, "old_tn": old_tn, "no_yo": customer.no_yo,
            "log_ymd": time.strftime("%Y/%m/%d", created_tm), "log_md": f"{_MON[created_tm.tm_mon - 1]} "
            f"{created_tm.tm_mday:2d}", "log_dmy": f"{created_tm.tm_mday:02d}/{_MON[created_tm.tm_mon - 1]}/"
            f"{created_tm.tm_year}", "log_rfc": formatdate(created, usegmt=True),
            "agent": "", "dept": "", "dept_email": "",
            **counted,
        }
        ctx["subject"] = self._fill(rng.choice(book.SUBJECTS[topic]), ctx)
        return ctx

    def _fill(self, template: str, ctx: dict) -> str:
        return template.format_map(ctx)

    def _pick(self, pool: tuple[str, ...], ctx: dict) -> str:
        return self.rng.choice(pool).format_map(ctx)

    def _picks(self, pool: tuple[str, ...], count: int, ctx: dict) -> list[str]:
        """``count`` different sentences of ``pool`` (people do not repeat a sentence in one message)."""
        return [t.format_map(ctx) for t in self.rng.sample(pool, min(count, len(pool)))]

    def _customer_text(self, body: Body, ctx: dict) -> Body:
        # about half the customers type е for ё, as people do
        if ctx["no_yo"]:
            body.paragraphs = [p.translate(_NO_YO) for p in body.paragraphs]
        return body

    # --- messages ------------------------------------------------------------------------------------------
    def customer_first(self, ctx: dict, *, signature: bool = True) -> Body:
        rng, book, topic = self.rng, self.books[ctx["lang"]], ctx["topic"]
        paras = [self._pick(book.GREETINGS, ctx)] if signature or rng.random() < 0.5 else []
        if rng.random() < 0.3:
            paras.append(self._pick(book.INTROS, ctx))
        problem = self._picks(book.PROBLEMS[topic], 2 if rng.random() < 0.35 else 1, ctx)
        details = self._picks(book.DETAILS[topic], rng.choice((0, 1, 1, 2, 3)), ctx)
        paras.append(" ".join(problem))
        if details:
            paras.append(" ".join(details))
        if rng.random() < 0.18:
            paras.append(self.log_block(ctx))
        paras.append(self._pick(book.QUESTIONS, ctx) + " " + self._pick(book.THANKS, ctx))
        if signature:
            paras.append(self._pick(book.CUSTOMER_SIGNATURES, ctx))
        return self._customer_text(Body(paras), ctx)

    def customer_followup(self, ctx: dict, mood: str, previous: str, who: str, when: str) -> Body:
        rng, book = self.rng, self.books[ctx["lang"]]
        pool = {"bad": book.FOLLOWUPS_BAD, "good": book.FOLLOWUPS_GOOD, "info": book.FOLLOWUPS_INFO}[mood]
        paras = [self._pick(book.GREETINGS, ctx)] if rng.random() < 0.5 else []
        paras.append(self._pick(pool, ctx))
        if mood == "bad" and rng.random() < 0.4:
            paras.append(self._pick(book.DETAILS[ctx["topic"]], ctx))
        if mood != "good" and rng.random() < 0.12:
            paras.append(self.log_block(ctx))
        paras.append(self._pick(book.CUSTOMER_SIGNATURES, ctx))
        body = Body(paras)
        if previous and rng.random() < 0.6:
            body.quote_header = book.QUOTE_HEADER.format(date_time=when, who=who)
            body.quote = quote(previous)
        return self._customer_text(body, ctx)

    def agent_reply(self, ctx: dict, *, ask: bool, previous: str, who: str, when: str) -> Body:
        rng, book, topic = self.rng, self.books[ctx["lang"]], ctx["topic"]
        paras = [self._pick(book.AGENT_GREETINGS, ctx)]
        answer = [self._pick(book.AGENT_OPENERS, ctx)] if rng.random() < 0.6 else []
        answer += self._picks(book.ANSWERS[topic], 2 if rng.random() < 0.4 else 1, ctx)
        paras.append(" ".join(answer))
        paras.append(self._pick(book.AGENT_ASKS if ask else book.AGENT_CLOSINGS, ctx))
        paras.append(book.AGENT_SIGNATURE.format_map(ctx))
        body = Body(paras)
        if previous:
            body.quote_header = book.QUOTE_HEADER.format(date_time=when, who=who)
            body.quote = quote(previous)
        return body

    def note(self, ctx: dict) -> Body:
        rng, book = self.rng, self.books[ctx["lang"]]
        paras = [" ".join(self._picks(book.NOTES[ctx["topic"]], rng.choice((1, 2, 2)), ctx))]
        if rng.random() < 0.5:  # what the agent found out or told the customer
            paras.append(self._pick(book.ANSWERS[ctx["topic"]], ctx))
        if rng.random() < 0.25:
            paras.append(self.log_block(ctx))
        return Body(paras)

    def note_subject(self, ctx: dict) -> str:
        return self.rng.choice(self.books[ctx["lang"]].NOTE_SUBJECTS)

    def phone_customer(self, ctx: dict) -> Body:
        book = self.books[ctx["lang"]]
        first = self.customer_first(ctx, signature=False)
        return Body([self._pick(book.PHONE_CUSTOMER, ctx), *first.paragraphs, ctx["phone"]])

    def phone_agent(self, ctx: dict) -> Body:
        book = self.books[ctx["lang"]]
        return Body([self._pick(book.PHONE_AGENT, ctx), self._pick(book.ANSWERS[ctx["topic"]], ctx)])

    def phone_subject(self, ctx: dict) -> str:
        return self.rng.choice(self.books[ctx["lang"]].PHONE_SUBJECTS).format_map(ctx)

    # --- pasted material -----------------------------------------------------------------------------------
    def log_block(self, ctx: dict, lines: int | None = None) -> str:
        """A pasted log / dig / whois excerpt; heavy-tailed length (mostly a few lines, sometimes 60)."""
        rng = self.rng
        n = lines or min(60, 2 + int(rng.expovariate(1 / 6)))
        maker = _LOGS.get(ctx["topic"], _nginx_lines)
        return "\n".join(maker(rng, ctx, n))


def _stamp(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(24), rng.randrange(60), rng.randrange(60)


def _nginx_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    out = []
    domain, day = ctx["domain"], ctx["log_ymd"]
    for _ in range(n):
        h, m, s = _stamp(rng)
        r = rng.random()
        if r < 0.5:
            pid, conn, page = rng.randint(900, 32000), rng.randint(1, 10**6), rng.randint(1, 90)
            out.append(
                f"{day} {h:02d}:{m:02d}:{s:02d} [error] {pid}#0: *{conn} upstream timed out (110: Connection "
                "timed out) while reading response header from upstream, "
                f"client: {random_ip(rng)}, server: {domain}, "
                f"request: \"GET /catalog/?page={page} HTTP/1.1\", "
                f"upstream: \"fastcgi://unix:/var/run/php/php{ctx['php']}-fpm.sock:\""
            )
        elif r < 0.8:
            size, user, line = rng.randint(1, 64) * 4096, rng.randint(10**6, 10**7), rng.randint(100, 3000)
            out.append(
                "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted "
                f"(tried to allocate {size} bytes) in /var/www/u{user}/data/www/{domain}"
                f"/wp-includes/class-wpdb.php on line {line}"
            )
        else:
            status, size = rng.choice((200, 499, 502, 504)), rng.randint(0, 9000)
            out.append(
                f"{random_ip(rng)} - - [{ctx['log_dmy']}:{h:02d}:{m:02d}:{s:02d} +0300] "
                f"\"POST /wp-login.php HTTP/1.1\" {status} {size} \"-\" \"Mozilla/5.0\""
            )
    return out


def _dig_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    d = ctx["domain"]
    out = [f"$ dig {d} any", ";; ->>HEADER<<- opcode: QUERY, status: NOERROR", ";; ANSWER SECTION:"]
    for _ in range(max(1, n - 3)):
        kind = rng.choice(("A", "MX", "NS", "TXT", "CNAME"))
        value = {
            "A": random_ip(rng), "MX": f"10 mx{rng.randint(1, 3)}.{d}.", "NS": ctx["ns1"] + ".",
            "TXT": '"v=spf1 include:_spf.hosting.reg.ru ~all"', "CNAME": d + ".",
        }[kind]
        out.append(f"{d}.\t\t{rng.choice((300, 3600, 86400))}\tIN\t{kind}\t{value}")
    return out


def _postfix_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    out = []
    for _ in range(n):
        h, m, s = _stamp(rng)
        host, pid = rng.randint(1, 4), rng.randint(1000, 60000)
        out.append(
            f"{ctx['log_md']} {h:02d}:{m:02d}:{s:02d} mx{host} postfix/smtp[{pid}]: "
            f"{rng.getrandbits(40):010X}: to=<{ctx['mailbox']}>, relay=mx.yandex.ru[77.88.21.249]:25, "
            f"delay={rng.randint(0, 90) / 10}, status=bounced (host said: 550 5.7.1 Message rejected under "
            "suspicion of SPAM)"
        )
    return out


def _whois_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    d = ctx["domain"]
    paid = f"{int(ctx['log_ymd'][:4]) + rng.randrange(1, 3)}-0{rng.randint(1, 9)}-1{rng.randrange(10)}"
    return [f"domain:        {d.upper()}", f"nserver:       {ctx['ns1']}.", f"nserver:       {ctx['ns2']}.",
            "state:         REGISTERED, DELEGATED, VERIFIED", "org:           " + ctx["company"],
            "registrar:     REGRU-RU", f"paid-till:     {paid}T21:00:00Z", "source:        TCI"][: max(3, n)]


def _cert_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    d = ctx["domain"]
    out = ["Saving debug log to /var/log/letsencrypt/letsencrypt.log",
           f"Requesting a certificate for {d} and www.{d}"]
    token = f"{rng.getrandbits(128):032x}"
    out += ["Certbot failed to authenticate some domains (authenticator: webroot).",
            f"  Domain: {d}", "  Type:   unauthorized",
            f"  Detail: {random_ip(rng)}: Invalid response from http://{d}/.well-known/acme-challenge/"
            f"{token}: 404"] * max(1, n // 6)
    return out


def _payment_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    return [f"Плательщик: {ctx['company']}", f"ИНН: {rng.randint(10**9, 10**10 - 1)}",
            f"Сумма: {ctx['amount']} руб.",
            f"Назначение платежа: Оплата по счёту № {ctx['invoice']}, НДС не облагается",
            f"Дата: {ctx['date']}"]


def _headers_lines(rng: random.Random, ctx: dict, n: int) -> list[str]:
    out = []
    for i in range(max(3, n)):
        out.append(f"Received: from mail{i}.{ctx['domain2']} ([{random_ip(rng)}]) by mx.example.net with "
                   f"ESMTPS id {rng.getrandbits(48):012x}; {ctx['log_rfc']}")
    out.append(f"From: \"Security\" <noreply@{ctx['domain']}>")
    return out


_LOGS = {
    "hosting": _nginx_lines, "dns": _dig_lines, "mail": _postfix_lines, "domains": _whois_lines,
    "ssl": _cert_lines, "billing": _payment_lines, "abuse": _headers_lines, "sales": _nginx_lines,
}
