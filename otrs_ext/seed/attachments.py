"""Small real attachments: log files, text exports, PDF-like documents and PNG screenshots.

Images are genuine (decodable) PNGs and are built once per generator from its seeded rng, so drawing one per
article costs nothing. Filenames repeat within an article the way they do in real mail (two
``screenshot.png``); ``dedupe`` renames them like OTRS's storage backend does (``screenshot-1.png``).
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass

from .text import TextMaker

TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    disposition: str = "attachment"
    content_id: str | None = None


def _png(width: int, height: int, rng: random.Random) -> bytes:
    """A grey-scale PNG with a few flat bands of noise, like a cropped screenshot (a few hundred bytes)."""
    rows = []
    for y in range(height):
        shade = 200 + (y * 7) % 50
        row = bytes(shade if rng.random() < 0.9 else rng.randrange(256) for _ in range(width))
        rows.append(b"\x00" + row)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def _pdf(text_lines: list[str]) -> bytes:
    """A minimal one-page PDF carrying the given ASCII lines (enough for viewers to open it)."""
    stream = "BT /F1 10 Tf 50 780 Td 12 TL " + " ".join(f"({ln}) '" for ln in text_lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("ascii")


class AttachmentMaker:
    """Draws the attachments of one article from precomputed material and the ticket's text context."""

    def __init__(self, rng: random.Random, text: TextMaker) -> None:
        self.rng = rng
        self.text = text
        self.images = [_png(rng.randint(40, 160), rng.randint(20, 90), rng) for _ in range(12)]

    def customer_files(self, ctx: dict) -> list[Attachment]:
        rng = self.rng
        out: list[Attachment] = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            kind = rng.random()
            if kind < 0.35:
                cid = None
                disposition = "attachment"
                if rng.random() < 0.4:  # pasted into the mail body: inline with a Content-ID
                    stamp = f"{rng.getrandbits(32):08X}.{rng.getrandbits(32):08X}"
                    cid = f"<image{rng.randint(1, 9):03d}.png@01DB{stamp}>"
                    disposition = "inline"
                name = rng.choice(("screenshot.png", "image001.png", "error.png"))
                out.append(Attachment(name, "image/png", rng.choice(self.images), disposition, cid))
            elif kind < 0.7:
                name = rng.choice(("error.log", "access.log", "dig.txt", "headers.txt", "mail.log"))
                body = self.text.log_block(ctx, lines=rng.randint(5, 120)) + "\n"
                out.append(Attachment(name, TEXT_TYPE, body.encode("utf-8")))
            elif kind < 0.85:
                invoice = f"invoice_{ctx['invoice']}.pdf"
                name = rng.choice(("platezhka.pdf", "scan.pdf", invoice, "contract.pdf"))
                amount = ctx["amount"].replace("\u00a0", " ")  # the PDF text is ASCII
                lines = [f"Invoice {ctx['invoice']}", f"Order {ctx['order']}", f"Amount {amount} RUB"]
                out.append(Attachment(name, "application/pdf", _pdf(lines)))
            else:
                domains = [ctx["domain"]] + [f"site{i}.ru" for i in range(1, rng.randint(2, 40))]
                rows = "\n".join(f"{d};{ctx['date']};active" for d in domains)
                out.append(Attachment("domains.csv", "text/csv; charset=utf-8",
                                      ("domain;paid_till;state\n" + rows + "\n").encode("utf-8")))
        return dedupe(out)

    def agent_files(self, ctx: dict) -> list[Attachment]:
        name = self.rng.choice((f"invoice_{ctx['invoice']}.pdf", "instructions.pdf", "act.pdf"))
        lines = [f"Invoice {ctx['invoice']}", f"Order {ctx['order']}"]
        return [Attachment(name, "application/pdf", _pdf(lines))]


def dedupe(files: list[Attachment]) -> list[Attachment]:
    """Rename repeated filenames ``name-1.ext``, ``name-2.ext`` as OTRS's article storage does."""
    used: set[str] = set()
    out = []
    for f in files:
        name, n = f.filename, 0
        stem, dot, ext = f.filename.rpartition(".")
        while name in used:
            n += 1
            name = f"{stem}-{n}.{ext}" if dot else f"{f.filename}-{n}"
        used.add(name)
        if name != f.filename:
            f = Attachment(name, f.content_type, f.content, f.disposition, f.content_id)
        out.append(f)
    return out
