"""Property-based tests: whatever anyone types, nothing active reaches a page."""

import uuid

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from speakout.discussion.rendering import count_links, render_markdown
from speakout.discussion.services import Author, submit_reply
from tests.discussion.helpers import form_data
from tests.discussion.inert import active_content, page_active_content

# Text biased towards the characters that make markup: brackets, quotes, colons, schemes.
MARKUP_BITS = st.sampled_from(
    [
        "<",
        ">",
        '"',
        "'",
        "`",
        "[",
        "]",
        "(",
        ")",
        ":",
        "/",
        "&",
        "#",
        ";",
        "=",
        "*",
        "_",
        "!",
        "\n",
        " ",
        "javascript:",
        "JaVaScRiPt:",
        "data:",
        "vbscript:",
        "<script>",
        "</script>",
        "<img src=x onerror=",
        "<a href=",
        "onload=",
        "style=",
        "&#x6a;",
        "&#106;",
        "\\",
        "%3C",
        "<!--",
        "-->",
        "<svg",
        "]]>",
        "http://",
        "https://example.org",
        "mailto:",
        "\u202e",
        "\u200b",
        "<iframe",
        "<",
        "`",
    ]
)
hostile_text = st.lists(st.one_of(MARKUP_BITS, st.text(max_size=5)), max_size=40).map("".join)


@given(hostile_text)
@settings(max_examples=400, deadline=None)
def test_rendered_bodies_are_always_inert(text):
    assert active_content(render_markdown(text)) == []


@pytest.mark.django_db
@given(body=hostile_text, name=hostile_text, website=hostile_text)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_nothing_typed_into_the_form_becomes_active_on_the_report_page(client, site_builder_once, body, name, website):
    report, thread = site_builder_once
    cache.clear()
    data = form_data(thread, body=body or "x", name=name or "x", website=website)
    result = submit_reply(
        thread=thread, data=data, author=Author(client_hash=uuid.uuid4().hex, guest_token="t"), checks=[]
    )
    html = client.get(report.url).content.decode()
    assert page_active_content(html) == []
    if result.ok:
        assert active_content(result.reply.body_html) == []


@pytest.fixture
def site_builder_once(site_builder, rules):
    from speakout.publishing.discussion import thread_for_report

    report = site_builder.report("Property report")
    return report, thread_for_report(report)


QUEUE_FOR_STATUS = {"approved": "approved", "pending": "pending", "spam": "spam"}


@pytest.mark.django_db
@given(body=hostile_text, name=hostile_text, website=hostile_text)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_nothing_typed_into_the_form_becomes_active_in_the_moderation_queues(
    admin_client, site_builder_once, body, name, website
):
    """Whatever a reply holds, its queue page has exactly the active content (Wagtail's own
    scripts) that the same page has with a harmless reply."""
    report, thread = site_builder_once
    cache.clear()
    data = form_data(thread, body=body or "x", name=name or "x", website=website)
    result = submit_reply(thread=thread, data=data, author=Author(client_hash=uuid.uuid4().hex), checks=[])
    if not result.ok:
        return
    queue = QUEUE_FOR_STATUS[result.reply.status]
    hostile_page = admin_client.get(f"/admin/replies/{queue}/").content.decode()
    result.reply.delete()
    harmless = submit_reply(
        thread=thread, data=form_data(thread, body="plain", name="plain"), author=Author(client_hash="h"), checks=[]
    ).reply
    baseline_page = admin_client.get(f"/admin/replies/{queue}/").content.decode()
    harmless.delete()
    ignore = ("/static/", "/admin/")
    hostile = sorted(
        problem for problem in page_active_content(hostile_page, allowed_scripts=()) if not problem.startswith(ignore)
    )
    baseline = sorted(
        problem for problem in page_active_content(baseline_page, allowed_scripts=()) if not problem.startswith(ignore)
    )
    assert hostile == baseline


@given(body=st.one_of(hostile_text, st.text(max_size=200)), name=st.text(max_size=30))
@example(body="0\r0", name="x")  # a lone CR was stored as it came
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_a_stored_body_is_what_was_typed_and_a_refusal_says_why(site_builder_once, body, name):
    """Whatever is typed ends as stored exactly as typed (line endings aside), or refused with a
    field-specific message: never silently rewritten, never an unexplained refusal."""
    _report, thread = site_builder_once
    data = form_data(thread, body=body, name=name or "x")
    result = submit_reply(
        thread=thread, data=data, author=Author(client_hash=uuid.uuid4().hex, guest_token="t"), checks=[]
    )
    if result.ok:
        result.reply.refresh_from_db()
        assert result.reply.body.strip() == body.replace("\r\n", "\n").replace("\r", "\n").strip()
        assert active_content(result.reply.body_html) == []
    else:
        assert result.errors and all(result.errors.values())
        assert set(result.errors) <= {"body", "name", "email", "website", "__all__"}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            MARKUP_BITS,
            st.sampled_from(["https://a.example", "www.b.example", "<https://c.example>", "x", " ", "\n", "*", "\\"]),
        ),
        max_size=25,
    ).map("".join)
)
def test_links_are_counted_as_the_full_parse_counts_them(text):
    """``count_links`` skips the parse when the text has no "[" or "<"; it must count what the
    parse would."""
    from speakout.discussion.rendering import _markdown

    tokens = _markdown.parseInline(text) if text else []
    marked_up = sum(child.type == "link_open" for block in tokens for child in block.children or [])
    lowered = text.lower()
    bare = lowered.count("http://") + lowered.count("https://") + lowered.count("www.")
    assert count_links(text) == max(marked_up, bare)
