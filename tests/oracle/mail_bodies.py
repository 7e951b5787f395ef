"""HTML bodies as real mail clients send them (structure, styles and quirks of each client), for the HTML
scenarios. Written for these tests: typical markup of each client, with our own texts."""

from __future__ import annotations

OUTLOOK = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" \
xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" \
xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">\
<meta name="Generator" content="Microsoft Word 15 (filtered medium)"><style><!--
/* Font Definitions */
@font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}
.MsoChpDefault {mso-style-type:export-only;}
@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1 {page:WordSection1;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--></head><body lang="DE" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1"><p class="MsoNormal">Hallo Support-Team,<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">unser Drucker im 2. Stock zeigt seit heute Morgen den Fehler <b>&#8222;E-45 Papierstau&#8220;</b>.\
 Wir haben folgendes versucht:<o:p></o:p></p>
<ul style="margin-top:0cm" type="disc"><li class="MsoListParagraph" style="margin-left:0cm;mso-list:l0 level1 lfo1">\
Ger&auml;t aus- und eingeschaltet<o:p></o:p></li>
<li class="MsoListParagraph" style="margin-left:0cm;mso-list:l0 level1 lfo1">Papierfach geleert<o:p></o:p></li></ul>
<p class="MsoNormal">Details siehe <a href="https://intranet.acme.test/wiki/Drucker">Wiki-Seite</a>.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Mit freundlichen Gr&uuml;&szlig;en<o:p></o:p></p>
<p class="MsoNormal"><span style="font-size:9.0pt;color:#7F7F7F">Jane Doe | ACME GmbH | Tel. +49 30 1234567\
<o:p></o:p></span></p>
<p class="MsoNormal"><img width="120" height="40" style="width:1.25in;height:.4166in" id="Bild_x0020_1" \
src="cid:image001.png@01DA1F2E.5C3B1A20" alt="ACME Logo"><o:p></o:p></p></div></body></html>"""

THUNDERBIRD = """<html>
  <head>

    <meta http-equiv="content-type" content="text/html; charset=UTF-8">
  </head>
  <body>
    <p>Hi,</p>
    <p>thanks for the quick answer. Unfortunately the problem is back:<br>
    </p>
    <pre>Nov 25 19:58:01 printer4 cupsd[812]: Job 4711 stopped: paper jam
Nov 25 19:58:03 printer4 cupsd[812]: Printer state: error</pre>
    <p>Regards,<br>
      Jane<br>
    </p>
    <div class="moz-cite-prefix">On 25.11.25 18:12, Support wrote:<br>
    </div>
    <blockquote type="cite"
      cite="mid:ticket-2025112510000019@support.acme.test">
      <p>Dear Jane,</p>
      <p>please restart the printer and tell us if the error persists.</p>
      <blockquote type="cite">
        <p>Our printer says E-45.</p>
      </blockquote>
    </blockquote>
    <div class="moz-signature">-- <br>
      Jane Doe, ACME</div>
  </body>
</html>"""

GMAIL = """<div dir="ltr"><div>Hello,</div><div><br></div><div>the invoice is attached, the amounts are:</div>\
<div><br></div><table border="1" cellpadding="4" style="border-collapse:collapse"><tbody><tr><th>Item</th>\
<th>Qty</th><th>Price</th></tr><tr><td>Toner&nbsp;XL</td><td>2</td><td>89,90&nbsp;&euro;</td></tr>\
<tr><td>Drum unit</td><td>1</td><td>149,00&nbsp;&euro;</td></tr></tbody></table><div><br></div>\
<div>Contact <a href="mailto:billing@acme.test">billing@acme.test</a> or see \
<a href="https://acme.test/invoices/4711">the portal</a>.</div><div><br></div><div>Best,<br>Jane</div>\
<div><br></div><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 25 Nov 2025 at 18:12, \
Support &lt;<a href="mailto:support@acme.test">support@acme.test</a>&gt; wrote:<br></div>\
<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);\
padding-left:1ex"><div dir="ltr">Could you send us the invoice?</div></blockquote></div>\
<img src="cid:ii_m3x9k2a10" alt="signature.png" width="96" height="32"></div>"""

APPLE_MAIL = """<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>\
<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">\
Hi team,<div><br></div><div>short one: the <i>scanner</i> on floor 3 works again.</div><div><br></div>\
<div>Cheers<br><div><br><blockquote type="cite"><div>On 25. Nov 2025, at 17:00, Support \
&lt;support@acme.test&gt; wrote:</div><br class="Apple-interchange-newline"><div><div>Is the scanner OK?\
</div></div></blockquote></div><br></div></body></html>"""

CYRILLIC = """<div>Добрый день!</div><div><br></div><div>Прошу <b>срочно</b> восстановить доступ к \
<a href="https://crm.example.ru/">CRM</a>:</div><ol><li>логин: <code>i.petrov</code></li>\
<li>ошибка «Доступ запрещён»</li></ol><div>Ёлки-палки, третий раз за неделю…</div><div><br></div>\
<div>--&nbsp;<br>Иван Петров<br>+7 (495) 123-45-67</div>"""

ENTITIES = ("<p>Tom &amp; Jerry &lt;3 &quot;quotes&quot; &#39;single&#39; &copy; 2025 &mdash; &hellip; "
            "&#x263A; &nbsp;&nbsp;spaces&nbsp; &euro;&pound;&yen;</p><p>line<br/>break<br />again</p>"
            "<hr><h1>Heading 1</h1><h2>Heading 2</h2><p>Text with   multiple    spaces\nand a newline.</p>")


def long_html(paragraphs: int = 400) -> str:
    return "".join(f"<p>Paragraph {i}: <b>bold</b>, <i>italic</i>, <a href=\"https://acme.test/{i}\">link {i}</a>"
                   f" and some more words to make it longer – ünïcödé {i * 7919 % 1000}.</p>\n"
                   for i in range(paragraphs))
