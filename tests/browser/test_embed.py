"""The embed widget and Isso's own client in Chromium, on static pages served from a second
loopback origin (another port) and pointed at the real `speakout run`."""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import StaticSite, allow, approve_as_moderator, wait_out_the_time_trap
from tests.helpers import word_marker
from tests.integration.server import HTTP

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]


@pytest.fixture(scope="module")
def sites(speakout_server, tmp_path_factory):
    allowed = StaticSite(tmp_path_factory.mktemp("allowed-site"))
    stranger = StaticSite(tmp_path_factory.mktemp("other-site"))
    allow(speakout_server, allowed.origin)
    yield allowed, stranger
    allowed.stop()
    stranger.stop()


def widget_page(site, server, key: str, title: str = "Notes from the field") -> str:
    hosted = f"{server.base_url}/embed/thread/?url={site.origin}{key}"
    return site.write(
        f"post-{uuid.uuid4().hex[:8]}.html",
        f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{title}</title>
<style>button {{ display: none !important; }} * {{ color: red !important; }}</style></head><body>
<h1>{title}</h1><p>An article on another site.</p>
<div data-speakout-thread data-speakout-key="{key}" data-speakout-url="{site.origin}{key}">
<a href="{hosted}">Read and reply on Speakout</a></div>
<script src="{server.base_url}/embed.js" defer></script></body></html>""",
    )


class Problems:
    def __init__(self, page):
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))


def post_in_widget(page, name, email, body, opened, *, approved_repliers_only=False):
    page.fill("[data-speakout-thread] input[name=name]", name)
    page.fill("[data-speakout-thread] input[name=email]", email)
    page.fill("[data-speakout-thread] textarea[name=body]", body)
    if approved_repliers_only:
        page.get_by_label("Only approved commenters may reply to me").check()
    wait_out_the_time_trap(opened)
    page.click("[data-speakout-thread] .so-form .so-submit")


def test_widget_lists_replies_takes_held_and_nested_replies_edits_deletes_and_reports(
    new_context, speakout_server, sites
):
    site, _stranger = sites
    marker = word_marker()
    key = f"/posts/{marker}/"
    url = widget_page(site, speakout_server, key)
    first = f"A first thought ({marker})."

    author = new_context().new_page()
    author_problems = Problems(author)
    author.goto(url)
    author.locator(".so-count").wait_for()
    assert author.locator(".so-count").inner_text() == "0 replies"
    assert author.locator(".so-empty").is_visible()
    # The page's own CSS hides every button and paints text red; inside the widget it cannot.
    assert author.locator(".so-submit").is_visible()
    opened = time.monotonic()
    post_in_widget(author, "Wren", f"wren-{marker}@example.org", first, opened, approved_repliers_only=True)
    held = author.locator(".so-reply--held", has_text=first)
    held.wait_for()
    assert "Awaiting moderation." in held.inner_text()
    expect(author.locator(".so-live")).to_contain_text("awaiting moderation")
    assert author.evaluate("localStorage.getItem('speakout-guest')"), "the guest token stays on this page"

    reader = new_context().new_page()
    reader_problems = Problems(reader)
    reader.goto(url)
    reader.locator(".so-count").wait_for()
    assert first not in reader.locator("[data-speakout-thread]").inner_text(), "a held reply is its author's only"

    reply_id = int(held.get_attribute("id").rsplit("-", 1)[1])
    approve_as_moderator(new_context, speakout_server, reply_id)

    reader.reload()
    published = reader.locator(".so-reply", has_text=first)
    published.wait_for()
    assert reader.locator(".so-count").inner_text() == "1 reply"

    # A reply to the reply nests under it.
    opened = time.monotonic()
    published.locator("button", has_text="Reply").click()
    assert "Leave a Reply to Wren" in reader.locator(".so-form-title").inner_text()
    answer = f"An answer to Wren ({marker})."
    post_in_widget(reader, "Ash", f"ash-{marker}@example.org", answer, opened)
    nested = reader.locator(".so-replies .so-replies .so-reply", has_text=answer)
    nested.wait_for()
    # Wren asked for replies from approved commenters only: Ash's first reply waits for a moderator.
    script = (
        "import json; from speakout.discussion.models import Reply;"
        f"wren = Reply.objects.get(body__contains={marker!r}, author_name='Wren');"
        f"ash = Reply.objects.get(body__contains={marker!r}, author_name='Ash');"
        "print(json.dumps([wren.approved_repliers_only, ash.status, ash.moderation_reason]))"
    )
    result = speakout_server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    wren_brake, ash_status, ash_reason = json.loads(result.stdout.strip().splitlines()[-1])
    assert wren_brake is True and ash_status == "pending"
    assert "accepts replies only from approved commenters" in ash_reason

    # The reader reports Wren's reply.
    published.locator("button", has_text="Report").click()
    reader.locator(".so-report input[value=spam]").check()
    reader.locator(".so-report .so-submit").click()
    reader.locator(".so-done").wait_for()
    expect(reader.locator(".so-live")).to_contain_text("moderator")

    # The author edits, then deletes, within the window.
    author.reload()
    mine = author.locator(".so-reply", has_text=first)
    mine.wait_for()
    mine.locator("button", has_text="Edit").click()
    author.locator(".so-edit textarea").fill(f"A second thought ({marker}).")
    author.locator(".so-edit .so-submit").click()
    author.locator(".so-reply", has_text=f"A second thought ({marker}).").wait_for()
    author.locator(".so-reply", has_text="A second thought").locator("button", has_text="Delete").click()
    author.locator(".so-confirm button", has_text="Delete").click()
    author.locator(".so-reply", has_text="A second thought").wait_for(state="detached")
    expect(author.locator(".so-live")).to_contain_text("deleted")

    assert author_problems.errors == [] and reader_problems.errors == []


REMEMBER = "Save my name, email and website in this browser for my next reply"
GUEST_DETAILS = "['speakout-name', 'speakout-email', 'speakout-website'].map(k => localStorage.getItem(k))"


def test_the_widget_keeps_a_guest_s_details_on_the_embedding_page_only_when_asked(new_context, speakout_server, sites):
    """Any script on the embedding site can read its localStorage: the widget keeps a guest's
    name, email and website there only when they tick the same box as on Speakout's own form."""
    site, _stranger = sites
    marker = word_marker()
    url = widget_page(site, speakout_server, f"/posts/{marker}/")
    context = new_context()
    page = context.new_page()
    problems = Problems(page)
    page.goto(url)
    page.locator(".so-form").wait_for()
    remember = page.get_by_label(REMEMBER)
    assert remember.is_visible() and not remember.is_checked(), "offered, and off by default"

    opened = time.monotonic()
    page.fill("[data-speakout-thread] input[name=website]", "https://owl.example.org/")
    first = f"Not remembered unless I ask ({marker})."
    post_in_widget(page, "Night Owl", f"owl-{marker}@example.org", first, opened)
    page.locator(".so-reply--held", has_text=first).wait_for()
    assert page.evaluate(GUEST_DETAILS) == [None, None, None], "kept on the embedding page unasked"
    assert page.evaluate("localStorage.getItem('speakout-guest')"), "the guest token stays"

    page.reload()
    page.locator(".so-reply--held", has_text=first).wait_for()  # still theirs to see, held
    assert page.input_value("[data-speakout-thread] input[name=name]") == ""
    assert not page.get_by_label(REMEMBER).is_checked()

    opened = time.monotonic()
    page.fill("[data-speakout-thread] input[name=website]", "https://owl.example.org/")
    page.get_by_label(REMEMBER).check()
    second = f"Remember me this time ({marker})."
    post_in_widget(page, "Night Owl", f"owl-{marker}@example.org", second, opened)
    page.locator(".so-reply", has_text=second).wait_for()
    assert page.evaluate(GUEST_DETAILS) == ["Night Owl", f"owl-{marker}@example.org", "https://owl.example.org/"]

    again = context.new_page()
    again.goto(url)
    again.locator(".so-form").wait_for()
    assert again.input_value("[data-speakout-thread] input[name=name]") == "Night Owl"
    assert again.input_value("[data-speakout-thread] input[name=email]") == f"owl-{marker}@example.org"
    assert again.input_value("[data-speakout-thread] input[name=website]") == "https://owl.example.org/"
    assert again.get_by_label(REMEMBER).is_checked()
    again.get_by_label(REMEMBER).uncheck()
    assert again.evaluate(GUEST_DETAILS) == [None, None, None], "unticking deletes them"
    assert again.evaluate("localStorage.getItem('speakout-guest')"), "but not the guest token"
    assert problems.errors == []


def test_bad_input_keeps_the_text_and_says_which_field(new_context, speakout_server, sites):
    site, _stranger = sites
    page = new_context().new_page()
    problems = Problems(page)
    page.goto(widget_page(site, speakout_server, f"/posts/{uuid.uuid4().hex[:8]}/"))
    page.locator(".so-form").wait_for()
    opened = time.monotonic()
    post_in_widget(page, "Kit", "kit@example", "Words I want to keep.", opened)
    error = page.locator("#so1-email-error")
    error.wait_for(state="visible")
    assert "valid email" in error.inner_text()
    assert page.locator("[data-speakout-thread] input[name=email]").get_attribute("aria-invalid") == "true"
    assert page.input_value("[data-speakout-thread] textarea[name=body]") == "Words I want to keep."
    expect(page.locator(".so-alert")).to_contain_text("valid email")
    assert problems.errors == [] or all("400" in e for e in problems.errors)


def test_the_widget_speaks_spanish(new_context, speakout_server, sites):
    site, _stranger = sites
    url = widget_page(site, speakout_server, f"/posts/{uuid.uuid4().hex[:8]}/")
    page = new_context().new_page()
    spanish = site.write(
        "es.html",
        Path(site.root / url.rsplit("/", 1)[1]).read_text().replace('lang="en"', 'lang="es"'),
    )
    page.goto(spanish)
    page.locator(".so-count").wait_for()
    assert page.locator(".so-count").inner_text() == "0 respuestas"


def test_without_javascript_the_link_leads_to_the_hosted_thread(new_context, speakout_server, sites):
    site, _stranger = sites
    key = f"/posts/{uuid.uuid4().hex[:8]}/"
    page = new_context(java_script_enabled=False).new_page()
    page.goto(widget_page(site, speakout_server, key))
    page.click("text=Read and reply on Speakout")
    page.wait_for_url(re.compile(r"/embed/thread/"))
    assert "Leave a Reply" in page.locator("#respond").inner_text()
    assert page.locator("#respond textarea[name=body]").is_visible()


def test_a_disallowed_origin_cannot_post(new_context, speakout_server, sites):
    _site, stranger = sites
    page = new_context().new_page()
    page.goto(widget_page(stranger, speakout_server, "/posts/stranger/"))
    page.wait_for_load_state("networkidle")
    # The browser refuses the answers (no CORS header), and a write is refused before any view.
    status = page.evaluate(
        """fetch(arguments_url, {method: "POST", headers: {"Content-Type": "application/json"},
             body: JSON.stringify({body: "x"})}).then(r => r.status, e => "blocked")""".replace(
            "arguments_url", f"'{speakout_server.base_url}/embed/api/replies?key=/posts/stranger/'"
        )
    )
    assert status == "blocked"
    request = urllib.request.Request(
        speakout_server.url("/embed/api/replies?key=/posts/stranger/"),
        data=b'{"body": "x"}',
        headers={"Origin": stranger.origin, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        HTTP.open(request, timeout=10)
        raise AssertionError("the write was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    assert page.locator(".so-count").count() == 0, "the widget shows nothing it was not allowed to read"
    # The thread cannot load here, so the reader keeps the way to the hosted thread.
    link = page.get_by_role("link", name="Read and reply on Speakout")
    assert link.is_visible(), "the fallback link is gone while the thread cannot load"
    assert link.bounding_box()["height"] > 0


def test_the_fallback_link_comes_back_when_the_thread_cannot_load(new_context, speakout_server, sites):
    site, _stranger = sites
    page = new_context().new_page()
    # Strings load, the thread does not (the server is down for this one request).
    page.route(re.compile(r"/embed/api/thread\?"), lambda route: route.fulfill(status=503, body=b"{}"))
    page.goto(widget_page(site, speakout_server, f"/posts/{uuid.uuid4().hex[:8]}/"))
    page.locator(".so-error").wait_for()
    assert page.get_by_role("link", name="Read and reply on Speakout").is_visible()


def test_the_count_script_fills_many_links_from_one_request(new_context, speakout_server, sites):
    site, _stranger = sites
    page = new_context().new_page()
    requests: list[str] = []
    page.on("request", lambda r: "/embed/api/counts" in r.url and requests.append(r.url))
    index = site.write(
        "index.html",
        f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Index</title></head><body>
<ul><li><a href="/posts/one/" data-speakout-count>Replies</a></li>
<li><a href="/posts/two/" data-speakout-count>Replies</a></li>
<li><a href="/elsewhere.html" data-speakout-count="/posts/one/">Replies</a></li></ul>
<script src="{speakout_server.base_url}/embed.js" defer></script></body></html>""",
    )
    page.goto(index)
    page.locator("a", has_text="0 replies").first.wait_for()
    assert page.locator("a", has_text="0 replies").count() == 3
    assert len(requests) == 1


def test_isso_s_own_client_posts_lists_edits_and_deletes(new_context, speakout_server, sites):
    import isso

    site, _stranger = sites
    package = Path(isso.__file__).resolve().parent
    shutil.copy(package / "js" / "embed.min.js", site.root / "embed.min.js")
    shutil.copy(package / "css" / "isso.css", site.root / "isso.css")
    marker = word_marker()
    page_name = f"isso-{marker}.html"
    url = site.write(
        page_name,
        f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Isso here</title></head><body>
<h1>Isso here</h1>
<script data-isso="{speakout_server.base_url}/isso/" data-isso-css-url="{site.origin}/isso.css"
        data-isso-vote="false" src="/embed.min.js"></script>
<section id="isso-thread" data-title="Isso here"></section></body></html>""",
    )
    page = new_context().new_page()
    problems = Problems(page)
    page.goto(url)
    page.locator("#isso-thread .isso-postbox textarea").first.wait_for()
    text = f"Posted by Isso's client ({marker})."
    page.locator("#isso-thread .isso-postbox textarea").first.fill(text)
    page.locator("#isso-thread .isso-postbox input[name=author]").first.fill("Ines")
    page.locator("#isso-thread .isso-postbox input[name=email]").first.fill(f"ines-{marker}@example.org")
    page.locator("#isso-thread .isso-postbox input[type=submit]").first.click()
    comment = page.locator(".isso-comment", has_text=text)
    comment.wait_for()

    # Listed again after a reload: held for moderation, but shown to its author (the cookie).
    page.reload()
    comment = page.locator(".isso-comment", has_text=text)
    comment.wait_for()
    comment_id = int(comment.get_attribute("id").removeprefix("isso-"))
    comment = page.locator(f"#isso-{comment_id}")

    comment.locator(".isso-edit").first.click()
    editor = comment.locator(".isso-textarea").first
    editor.wait_for()
    editor.fill(f"Edited through Isso's client ({marker}).")
    comment.locator(".isso-edit").first.click()
    page.locator(".isso-comment .isso-text", has_text=f"Edited through Isso's client ({marker}).").wait_for()

    comment = page.locator(f"#isso-{comment_id}")
    comment.locator(".isso-delete").first.click()
    comment.locator(".isso-delete").first.click()  # Isso asks to confirm with a second click
    page.locator(f"#isso-{comment_id}").wait_for(state="detached")
    page.reload()
    page.locator("#isso-thread .isso-postbox").first.wait_for()
    assert page.locator(f"#isso-{comment_id}").count() == 0
    assert problems.errors == []


def test_signing_in_through_the_small_window_posts_as_the_account(new_context, speakout_server, sites):
    site, _stranger = sites
    context = new_context()
    login = context.new_page()
    login.goto("/admin/login/")
    login.fill("input[name=login]", speakout_server.admin_username)  # allauth's one login form
    login.fill("input[name=password]", speakout_server.admin_password)
    login.click("main form button[type=submit]")
    login.wait_for_url(re.compile(r"/admin/$"))

    page = context.new_page()
    problems = Problems(page)
    page.goto(widget_page(site, speakout_server, f"/posts/{uuid.uuid4().hex[:8]}/"))
    with context.expect_page() as window:
        page.locator(".so-signin button").click()
    popup = window.value
    if not popup.is_closed():  # it may close itself before a listener is in place
        popup.wait_for_event("close")
    identity = page.locator(".so-identity")
    identity.wait_for()
    assert speakout_server.admin_username in identity.inner_text()
    assert page.evaluate("localStorage.getItem('speakout-user')"), "the token is kept by the page"
    assert page.locator("[data-speakout-thread] input[name=email]").count() == 0
    assert page.get_by_label(REMEMBER).count() == 0, "nothing of a guest's to keep"
    opened = time.monotonic()
    page.fill("[data-speakout-thread] textarea[name=body]", "Signed in from another site.")
    wait_out_the_time_trap(opened)
    page.click("[data-speakout-thread] .so-form .so-submit")
    reply = page.locator(".so-reply", has_text="Signed in from another site.")
    reply.wait_for()
    assert speakout_server.admin_username in reply.locator(".so-author").inner_text()
    assert problems.errors == []


def test_post_anyway_is_offered_in_the_widget(new_context, speakout_server, sites):
    """The widget's form, like the hosted one: a reply with a phone number is refused with the
    API's ``"confirm"``; the widget shows the **Post anyway** box, and the reply sent again with
    it ticked carries ``confirm`` and waits for a moderator."""
    site, _stranger = sites
    marker = word_marker()
    text = f"Ring the landlord on 07700 900123 ({marker})."
    page = new_context().new_page()
    problems = Problems(page)
    page.goto(widget_page(site, speakout_server, f"/posts/{marker}/"))
    page.locator(".so-form").wait_for()
    opened = time.monotonic()
    post_in_widget(page, "Lark", f"lark-{marker}@example.org", text, opened)

    expect(page.locator("#so1-body-error")).to_contain_text("Post anyway")
    assert page.input_value("[data-speakout-thread] textarea[name=body]") == text, "the text is kept"
    box = page.locator("[data-speakout-thread] .so-form input[name=confirm]")
    assert box.count() == 1, "the refusal asks to tick “Post anyway”, but the widget has no such box"
    assert box.get_attribute("value") == "personal_data"

    # A refusal that no longer asks takes the box away; the next one that asks brings it back.
    page.fill("[data-speakout-thread] input[name=email]", "lark@example")
    page.fill("[data-speakout-thread] textarea[name=body]", f"Ring the landlord ({marker}).")
    page.click("[data-speakout-thread] .so-form .so-submit")
    expect(page.locator("#so1-email-error")).to_contain_text("valid email")
    assert box.count() == 0, "the box stays after a refusal that does not ask for it"
    page.fill("[data-speakout-thread] input[name=email]", f"lark-{marker}@example.org")
    page.fill("[data-speakout-thread] textarea[name=body]", text)
    page.click("[data-speakout-thread] .so-form .so-submit")
    expect(page.locator("#so1-body-error")).to_contain_text("Post anyway")
    assert box.count() == 1

    page.get_by_label("Post anyway: a moderator will read it first").check()  # its label names it
    page.click("[data-speakout-thread] .so-form .so-submit")

    held = page.locator(".so-reply--held", has_text=marker)
    held.wait_for()
    expect(page.locator(".so-live")).to_contain_text("awaiting moderation")
    assert page.locator("[data-speakout-thread] input[name=confirm]").count() == 0, "the box goes with the refusal"
    script = f"from speakout.discussion.models import Reply;print(Reply.objects.get(body__contains={marker!r}).status)"
    result = speakout_server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "pending", "posted anyway, for a moderator to read first"
    assert all("400" in error for error in problems.errors), problems.errors
