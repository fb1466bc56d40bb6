"""The checker behind the hostile-input suite finds live script and passes shown text."""

import pytest

from .executable import live_payloads

LIVE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "<iframe src='data:text/html,alert(1)'></iframe>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<style>body{background:url('javascript:alert(1)')}</style>",
    "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
    "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>",
]
SHOWN = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<p>alert(1) in a sentence</p>",
    "<a href='https://example.org/alert(1)' title='alert(1)'>x</a>",
    "<textarea>&lt;img src=x onerror=alert(1)&gt;</textarea>",
    "<input value='&quot;&gt;&lt;script&gt;alert(1)'>",
]


@pytest.mark.parametrize("html", LIVE)
def test_live_script_is_found(html):
    assert live_payloads(html)


@pytest.mark.parametrize("html", SHOWN)
def test_shown_text_is_not(html):
    assert live_payloads(html) == []
