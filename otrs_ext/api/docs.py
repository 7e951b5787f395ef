"""``/api/v1/openapi.json`` built from the request models, and a readable page for people."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from .openapi import document

bp = Blueprint("docs", __name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>otrs-ext API v1</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code,pre{background:#f4f4f4;padding:.1rem .3rem}h2{border-bottom:1px solid #ddd}</style></head><body>
<h1>otrs-ext API v1</h1><p>Send <code>Authorization: Bearer &lt;key&gt;</code>. Errors are
<code>application/problem+json</code>. Machine-readable: <a href="openapi.json">openapi.json</a>.</p>
%s</body></html>"""


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(json.dumps(document(), ensure_ascii=False, indent=1), mimetype="application/json")


@bp.get("/docs")
def docs_page() -> Response:
    from html import escape

    sections = []
    for path, operations in document()["paths"].items():
        for method, op in operations.items():
            sections.append(f"<h2><code>{escape(method.upper())} /api/v1{escape(path)}</code></h2>"
                            f"<p>{escape(op.get('summary', ''))}</p>")
    return Response(PAGE % "\n".join(sections), mimetype="text/html")
