"""The agents' search language, parsed into a small AST and rendered as a Sphinx extended-syntax MATCH string.

What people type::

    printer offline            both words (stemmed: "printers" finds "printer", "серверы" finds "сервер")
    "disk quota exceeded"      the phrase
    serv*                      words starting with "serv" (at least 3 characters before the star)
    -spam                      not containing "spam" (needs at least one positive term)
    dns OR mx  /  dns | mx     either; OR binds tighter than the implicit AND, as in Sphinx
    from:ivan subject:"счёт"   limit a term to a field: from, to (To and Cc), subject, body, title, number
    reg.ru  ivan@mail.ru       domains, e-mails, IPs, dotted/hyphenated names: see ``Domain``

Safety does not rest on escaping: every term is reduced to the characters the index tokenises as word
characters (``indexdef.CHARSET_TABLE``) or blend characters (``.@-+``), everything else being a separator
for the index anyway. The rendered string therefore contains only word characters (the private-use ones of
``blends.SEPARATOR_CODES`` included), blend characters inside terms, spaces and the operators this module
writes itself (``" | ( ) @ - = * ,``), and the service still passes it as a bound parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationError
from .blends import BLEND, MAX_RUN_PARTS, WORD, encode
from .indexdef import RUN_SOURCES, runs_field

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MIN_WILDCARD_CHARS = 3  # indexdef min_infix_len: shorter wildcards would not expand

#: scope keyword -> Sphinx field list; ``to`` covers Cc as people expect from a mail client
FIELD_SCOPES: dict[str, tuple[str, ...]] = {
    "from": ("a_from",),
    "to": ("a_to", "a_cc"),
    "subject": ("subject",),
    "body": ("body",),
    "title": ("title",),
    "number": ("tn",),
}

_NOT_INDEXED = re.compile(f"[^{WORD}{BLEND}]+")
_BLEND_SPLIT = re.compile(f"[{BLEND}]+")
_SEARCHABLE = re.compile(f"[{WORD}]")


# --- the AST -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False
    exact: bool = False  # "=серверов": this word form only, no stemming


@dataclass(frozen=True)
class Phrase:
    """Words that must stand next to each other, in order."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    """A token with inner blend characters: ``reg.ru``, ``ivan@mail.ru``, ``10.0.0.1``, ``wi-fi``.

    The index keeps the whole blended token, its parts, and the runs of parts inside longer tokens
    (``blends``), so the exact keyword ``=reg.ru`` finds a standalone ``reg.ru`` as well as ``support@reg.ru``
    and ``www.reg.ru``: exactly the articles where ``reg.ru`` occurs at a token boundary, which is what
    ``LIKE '%reg.ru%'`` finds minus ``myreg.ru``-style hits inside a longer word. A prefix (``reg.r*``) is a
    keyword prefix over the same tokens. Longer than the indexed runs (``blends.MAX_RUN_PARTS``), the query
    falls back to the phrase of the exact parts AND the infix ``*raw*``, which has the same meaning and is
    slower.
    """

    parts: tuple[str, ...]
    raw: str
    prefix: bool = False


@dataclass(frozen=True)
class Scoped:
    fields: tuple[str, ...]
    node: Node


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class Any_:
    """OR of alternatives."""

    nodes: tuple[Node, ...]


Node = Word | Phrase | Domain | Scoped | Not | Any_


@dataclass(frozen=True)
class Query:
    """The implicit AND of ``clauses``; ``match`` is the Sphinx MATCH() string, ``highlight`` the query for
    ``CALL SNIPPETS`` (positive terms only, without field limits)."""

    text: str
    clauses: tuple[Node, ...]

    @property
    def match(self) -> str:
        return " ".join(render(node) for node in self.clauses)

    @property
    def highlight(self) -> str:
        return " | ".join(_render_plain(leaf) for leaf in positive_leaves(self.clauses))


# --- parsing -------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r'\s*(?:(?P<or>\|)|(?P<neg>-)?(?P<exact>=)?(?:(?P<field>[A-Za-z]+):)?'
    r'(?:"(?P<phrase>[^"]*)"?|(?P<bare>[^\s"|]+)))'
)


def parse(text: str) -> Query:
    """Parse what the user typed; raise ``ValidationError`` (path ``q``) with a readable message if it cannot
    be searched."""
    if len(text) > MAX_QUERY_CHARS:
        _fail(f"is too long: at most {MAX_QUERY_CHARS} characters")
    raw_items: list[Node | str] = []  # nodes, and "OR" markers
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # cannot happen with the pattern above, but never loop forever
            _fail(f"cannot read the query at character {pos + 1}")
        pos = m.end()
        if m.group("or") or (m.group("bare") == "OR" and not m.group("neg") and not m.group("field")):
            raw_items.append("OR")
            continue
        node = _item(m)
        if node is not None:
            raw_items.append(node)
    clauses = _combine(raw_items)
    if not clauses:
        _fail("contains nothing searchable: type at least one word (letters or digits)")
    if sum(_count(c) for c in clauses) > MAX_TERMS:
        _fail(f"has too many terms: at most {MAX_TERMS}")
    if all(isinstance(c, Not) for c in clauses):
        _fail("needs at least one word to search for; exclusions (-word) alone cannot be searched")
    return Query(text=text, clauses=tuple(clauses))


def _item(m: re.Match[str]) -> Node | None:
    negated = bool(m.group("neg"))
    field = m.group("field")
    fields: tuple[str, ...] | None = None
    if field is not None:
        fields = FIELD_SCOPES.get(field.lower())
        if fields is None:  # "http:" or "Ticket:" are text, not scopes: the colon is a separator
            return _wrap(_text_node(f"{field} {m.group('phrase') or m.group('bare') or ''}"), None, negated)
    if m.group("phrase") is not None:
        node = _phrase_node(m.group("phrase"))
    else:
        bare = m.group("bare") or ""
        if bare.endswith(":") and bare[:-1].lower() in FIELD_SCOPES:
            _fail(f"'{bare}' needs a word after it, e.g. {bare}ivan")
        node = _text_node(bare)
        if m.group("exact") and isinstance(node, Word) and not node.prefix:
            node = Word(node.text, exact=True)
    if node is None and fields is not None:
        _fail(f"'{field}:' needs a word after it, e.g. {field}:ivan")
    return _wrap(node, fields, negated)


def _wrap(node: Node | None, fields: tuple[str, ...] | None, negated: bool) -> Node | None:
    if node is None:
        return None
    if fields is not None:
        node = Scoped(fields, node)
    return Not(node) if negated else node


def _text_node(bare: str) -> Node | None:
    """A bare term: a word, a prefix, a domain/e-mail, or (when it held separators) the phrase of its pieces."""
    prefix = bare.endswith("*")
    pieces = [p for p in (_trim(p) for p in _NOT_INDEXED.split(bare.replace("*", " "))) if p]
    if not pieces:
        return None
    if len(pieces) > 1:  # "foo)bar" is indexed as foo, bar next to each other
        return Phrase(tuple(part for piece in pieces for part in _parts(piece)))
    piece = pieces[0]
    parts = _parts(piece)
    if len(parts) > 1:
        if prefix and len(piece) < MIN_WILDCARD_CHARS:
            _fail(f"'{bare}': a wildcard needs at least {MIN_WILDCARD_CHARS} characters before the *")
        return Domain(parts, piece.lower(), prefix)
    word = parts[0]
    if prefix and len(word) < MIN_WILDCARD_CHARS:
        _fail(f"'{bare}': a wildcard needs at least {MIN_WILDCARD_CHARS} characters before the *")
    return Word(word, prefix)


def _phrase_node(inner: str) -> Node | None:
    words = tuple(part for piece in _NOT_INDEXED.split(inner.replace("*", " ")) for part in _parts(piece))
    if not words:
        return None
    return Word(words[0]) if len(words) == 1 else Phrase(words)


def _parts(piece: str) -> tuple[str, ...]:
    return tuple(p for p in _BLEND_SPLIT.split(piece) if _SEARCHABLE.search(p))


def _trim(piece: str) -> str:
    """Blend characters at the ends are not part of a word (``ivan@`` is ``ivan``; ``-`` was taken already)."""
    return piece.strip(".@+-") if _SEARCHABLE.search(piece) else ""


def _combine(items: list[Node | str]) -> list[Node]:
    """Turn the flat list into AND clauses, folding ``a OR b OR c`` into one ``Any_``."""
    clauses: list[Node] = []
    pending_or = False
    for item in items:
        if item == "OR":
            if not clauses or pending_or:
                _fail("OR needs a term on both sides, e.g. dns OR mx")
            pending_or = True
            continue
        assert not isinstance(item, str)
        if pending_or:
            left = clauses.pop()
            alternatives = (*left.nodes, item) if isinstance(left, Any_) else (left, item)
            if any(isinstance(a, Not) for a in alternatives):
                _fail("an exclusion (-word) cannot be one side of OR")
            clauses.append(Any_(alternatives))
            pending_or = False
        else:
            clauses.append(item)
    if pending_or:
        _fail("OR needs a term on both sides, e.g. dns OR mx")
    return clauses


def _count(node: Node) -> int:
    if isinstance(node, Word):
        return 1
    if isinstance(node, (Phrase, Domain)):
        return len(node.words) if isinstance(node, Phrase) else len(node.parts)
    if isinstance(node, (Scoped, Not)):
        return _count(node.node)
    return sum(_count(n) for n in node.nodes)


def _fail(message: str) -> None:
    raise ValidationError([("q", message)])


# --- rendering -----------------------------------------------------------------------------------------
def _exact(word: str) -> str:
    """Digits (ticket numbers, IP parts) and domain parts are matched in exactly their form: ``=`` skips
    stemming, which index_exact_words allows."""
    return f"={word.lower()}"


def render(node: Node) -> str:
    if isinstance(node, Word):
        if node.prefix:
            return f"{node.text.lower()}*"
        return _exact(node.text) if node.exact or node.text.isdigit() else node.text.lower()
    if isinstance(node, Phrase):
        return '"' + " ".join(_exact(w) if w.isdigit() else w.lower() for w in node.words) + '"'
    if isinstance(node, Domain):
        if len(node.parts) <= MAX_RUN_PARTS:  # the whole token, or a run inside a longer one
            if node.prefix:
                return f"({node.raw}* | {encode(node.raw)}*)"
            return f"({_exact(node.raw)} | {_exact(encode(node.raw))})"
        if node.prefix:  # a phrase cannot end in a wildcard in Sphinx 2.2: the infix alone
            return f"*{node.raw}*"
        phrase = '"' + " ".join(_exact(p) for p in node.parts) + '"'
        return f"({phrase} *{node.raw}*)"
    if isinstance(node, Scoped):
        # a domain may match in the fields' runs (see Domain); other terms stand in the fields themselves
        fields = node.fields if not _has_domain(node.node) else with_runs(node.fields)
        spec = fields[0] if len(fields) == 1 else "(" + ",".join(fields) + ")"
        return f"(@{spec} {render(node.node)})"  # the brackets end the field limit again
    if isinstance(node, Not):
        return f"-{render(node.node)}" if isinstance(node.node, (Word, Phrase)) else f"-({render(node.node)})"
    return "(" + " | ".join(render(n) for n in node.nodes) + ")"


def with_runs(fields: tuple[str, ...]) -> tuple[str, ...]:
    """These index fields and their runs fields: where a domain or e-mail term in them can match."""
    return (*fields, *(runs_field(name) for name in fields if name in RUN_SOURCES))


def _has_domain(node: Node) -> bool:
    if isinstance(node, Domain):
        return True
    if isinstance(node, (Scoped, Not)):
        return _has_domain(node.node)
    return isinstance(node, Any_) and any(_has_domain(n) for n in node.nodes)


def positive_leaves(nodes: tuple[Node, ...]) -> list[Word | Phrase | Domain]:
    out: list[Word | Phrase | Domain] = []
    for node in nodes:
        if isinstance(node, Not):
            continue
        if isinstance(node, Scoped):
            out.extend(positive_leaves((node.node,)))
        elif isinstance(node, Any_):
            out.extend(positive_leaves(node.nodes))
        else:
            out.append(node)
    return out


def _render_plain(leaf: Word | Phrase | Domain) -> str:
    """For snippets: no infix (it would light up ``myreg.ru`` too), the domain as its exact phrase."""
    if isinstance(leaf, Domain):
        return '"' + " ".join(_exact(p) for p in leaf.parts) + '"' if not leaf.prefix else f"{leaf.parts[0]}"
    return render(leaf)
