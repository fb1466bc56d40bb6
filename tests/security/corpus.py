"""Hostile and fragile input of our own, for every field a reader can fill in.

Each script-like payload calls ``alert(…)``: no template, library or admin screen of ours ever
writes ``alert(`` itself, so wherever it shows up in a place where a browser would run it, it
came from a commenter (see ``executable.py``). The classes follow past failures of comment
systems: markup and attribute breaking, ``javascript:`` links through Markdown, entity and
case tricks, truncation inside an attribute, Unicode tricks, header injection, SQL-looking text,
huge and empty values, plus text that must come through unchanged.
"""

from __future__ import annotations

MARKUP = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>alert(2)",
    "<scr<script>ipt>alert(3)</scr</script>ipt>",
    "<img src=x onerror=alert(4)>",
    "<img src=x onerror=alert(5)//",
    '<img src="x" onerror="alert(6)"',
    "<svg onload=alert(7)>",
    "<svg><script>alert(8)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(9)>",
    "<iframe src=javascript:alert(10)></iframe>",
    "<iframe srcdoc='<script>alert(11)</script>'></iframe>",
    "<object data=javascript:alert(12)></object>",
    "<embed src=javascript:alert(13)>",
    "<a href=javascript:alert(14)>click</a>",
    '<a href="jav&#x09;ascript:alert(15)">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(16)">entities</a>',
    '<a href=" javascript:alert(17)">space</a>',
    "<a href='JaVaScRiPt:alert(18)'>case</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxOSk8L3NjcmlwdD4=">data alert(19)</a>',
    "<a href=vbscript:alert(20)>vb</a>",
    "<form action=javascript:alert(21)><button>go</button></form>",
    "<button formaction=javascript:alert(22)>x</button>",
    "<input autofocus onfocus=alert(23)>",
    "<details open ontoggle=alert(24)>",
    "<body onload=alert(25)>",
    "<div style=\"background:url('javascript:alert(26)')\">x</div>",
    '<div style="width:expression(alert(27))">x</div>',
    "<style>@import 'javascript:alert(28)';</style>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(29)">',
    "<base href=javascript:alert(30)//>",
    "<link rel=stylesheet href=javascript:alert(31)>",
    "<video><source onerror=alert(32)></video>",
    "<audio src=x onerror=alert(33)>",
    "<marquee onstart=alert(34)>",
    "<isindex action=javascript:alert(35) type=image>",
    "<table background=javascript:alert(36)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(37)>"></noscript>',
    '"><script>alert(38)</script>',
    "'><img src=x onerror=alert(39)>",
    "</textarea><script>alert(40)</script>",
    "</title><script>alert(41)</script>",
    '<!--<img src="--><img src=x onerror=alert(42)//">',
    "<![CDATA[<script>alert(43)</script>]]>",
    '<?xml version="1.0"?><script>alert(44)</script>',
    '<a href="https://example.org" onclick="alert(45)">looks fine</a>',
    '<a href="https://example.org/" title="x" style="position:fixed;top:0" onmouseover="alert(46)">overlay</a>',
    '<img src="https://example.org/p.png" alt="x" onload=alert(47)>',
    '<a href="https://example.org/\x00" onclick=alert(48)>nul</a>',
    "<template><script>alert(49)</script></template>",
    "<xss id=x tabindex=1 onfocusin=alert(50)></xss>",
]

MARKDOWN = [
    "[click](javascript:alert(101))",
    "[click](JAVASCRIPT:alert(102))",
    "[click](javascript&#58;alert(103))",
    "[click]( javascript:alert(104) )",
    "[click](<javascript:alert(105)>)",
    "![image](javascript:alert(106))",
    '![image](x "onerror=alert(107)")',
    "[ref][1]\n\n[1]: javascript:alert(108)",
    "<javascript:alert(109)>",
    "[a](data:text/html,<script>alert(110)</script>)",
    "[a](vbscript:alert(111))",
    '[a](https://example.org/"onmouseover="alert(112))',
    "**bold <img src=x onerror=alert(113)>**",
    "`<script>alert(114)</script>` in code",
    "```html\n<script>alert(115)</script>\n```",
    "> quote <svg onload=alert(116)>",
    '[x](#" onclick="alert(117))',
    "[x](https://example.org 'title\" onclick=\"alert(118)')",
    "* list <a href=javascript:alert(119)>x</a>",
    '<https://example.org/"><script>alert(120)</script>>',
]

# Text that must arrive exactly as typed (stored unchanged, shown as text).
MUST_SURVIVE = [
    "مرحبا بكم في النقاش، شكراً على التقرير",
    'שלום, תודה על הדו"ח',
    "Ünïcödé, ñandú, façade, Øresund, Łódź, İstanbul",
    "中文的回复：我们支持这份报告。",
    "日本語の返信です。ありがとう！",
    "Emoji 🙂🏳️‍🌈👩🏽‍⚕️ and flags 🇪🇸🇬🇧",
    "Maths: a < b && c > d, 5 > 3 < 4, x = y & z",
    'Code: `if (a < b) { return "x"; }` and <not a tag>',
    "SQL in prose: '; DROP TABLE speakout_discussion_reply; --",
    "\" OR 1=1 -- and ' OR '1'='1",
    "Template-looking: {{ 7*7 }} {% debug %} ${7*7} #{7*7}",
    "Percent: 100% %s %d %(name)s {0} {name}",
    "Backslashes \\n \\t \\\\ and C:\\Users\\x",
    "Slashes // and /* comment */ and <!-- not a comment -->",
    "Ampersands &amp; &lt; &#x3C; written literally",
    "Line one\n\nLine two after a blank line\n- a list item",
    "Tab\tseparated\tvalues",
    "A very long word " + "x" * 400,
    "Mixed: Hello مرحبا שלום 你好 👋",
    "Quotes: “curly” ‘single’ «guillemets» „low“",
]

UNICODE_TRICKS = [
    "Bidi override \u202eevil\u202c in a body",
    "Isolates \u2066inside\u2069 text",
    "Zero\u200bwidth\u200cjoiner\u200dhere",
    "Word\ufeffjoiner BOM",
    "Combining: Z\u0351\u0352\u0353\u0354a\u0355\u0356l\u0357\u0358g\u0359o",
    "Homoglyph: Аdmin (Cyrillic A) and раураl",
    "Soft\u00adhyphen",
    "Line separator\u2028and paragraph separator\u2029here",
    "Variation selectors ︎︎︎ and tags \U000e0041\U000e0042",
    "Surrogate-range emoji 😀 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]

CONTROL = [
    "nul\x00byte",
    "bell\x07char",
    "escape\x1b[31mred",
    "vertical\x0btab",
    "form\x0cfeed",
    "delete\x7fchar",
]

SIZES = [
    "",
    " ",
    "\n\n\n",
    "x",
    "y" * 65535,
    "z" * 65536,
    ("word " * 13000).strip(),
]

NAMES = [
    "<script>alert(201)</script>",
    '"><img src=x onerror=alert(202)>',
    "Robin\r\nBcc: victim@example.org",
    "Robin\nSubject: hi",
    "Ro\u202ebin",
    "Ro\u200bbin",
    "Аdmin",  # Cyrillic А
    "Harbour Lane Collective",
    "admin",
    "x" * 100,
    "x" * 101,
    "",
    "   ",
    "'; DROP TABLE auth_user; --",
    "María José Ñúñez",
    "محمد",
    "🙂",
    "{{ request.user }}",
    "nul\x00name",
    "javascript:alert(203)",
]

WEBSITES = [
    "javascript:alert(301)",
    "JavaScript:alert(302)",
    " javascript:alert(303)",
    "data:text/html,<script>alert(304)</script>",
    "vbscript:alert(305)",
    'https://example.org/"><script>alert(306)</script>',
    "https://example.org/' onmouseover='alert(307)",
    "http://127.0.0.1/admin",
    "http://localhost/",
    "http://10.0.0.1/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://user:pass@example.org/",
    "ftp://example.org/",
    "//example.org/",
    "example.org",
    "https://example.org/\r\nSet-Cookie: x=1",
    "https://exa mple.org/",
    "https://example.org/" + "a" * 600,
    "https://xn--80ak6aa92e.com/",
    "https://example.org/path?q=<script>alert(308)</script>",
    'https://example.org/#"onclick="alert(309)',
]

EMAILS = [
    "robin@example.org\r\nBcc: victim@example.org",
    "robin@example.org\nBcc: victim@example.org",
    "robin@example.org, victim@example.org",
    "robin@example.org;victim@example.org",
    "<script>alert(401)</script>@example.org",
    '"<img src=x onerror=alert(402)>"@example.org',
    "robin@[127.0.0.1]",
    "robin",
    "@example.org",
    "robin@",
    "a" * 250 + "@example.org",
    "robin@exa mple.org",
    "robin@example.org\x00",
    "ROBIN@EXAMPLE.ORG",
    "robin+tag@example.org",
    "ñandú@ejemplo.es",
    "robin@xn--80ak6aa92e.com",
    "",
]


def bodies() -> list[str]:
    return MARKUP + MARKDOWN + MUST_SURVIVE + UNICODE_TRICKS + CONTROL + SIZES


def every_field_case() -> list[tuple[str, str]]:
    """(field, value) for every hostile value of every field."""
    return (
        [("body", value) for value in bodies()]
        + [("name", value) for value in NAMES]
        + [("website", value) for value in WEBSITES]
        + [("email", value) for value in EMAILS]
    )
