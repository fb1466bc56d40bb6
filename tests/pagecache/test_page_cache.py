"""The anonymous page cache: a stored page is never stale, never personal and never carries one
reader's CSRF or form token to another (a stored HTML page carries no token at all: its script
fills them in). These tests drive the whole middleware stack."""

from __future__ import annotations

import gzip
import os
import re
import time

import brotli
from django.contrib.auth import get_user_model
from django.test import Client

from speakout.discussion import forms as discussion_forms
from speakout.discussion import services
from speakout.discussion.forms import read_form_token
from speakout.discussion.models import SETTINGS_DEPENDENCY, DiscussionSettings, Reply, Thread
from speakout.pagecache import versions
from speakout.pagecache.middleware import STATUS_HEADER

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission_id" value="([^"]+)"')
MARKER = re.compile(r'value="(fill:[^"]+)"')


def filled(client, response) -> str:
    """The page as its script leaves it (pagecache/fill.js): every fill marker replaced by the
    value the site gives this reader for it."""
    html = response.content.decode()
    markers = sorted(set(MARKER.findall(html)))
    if not markers:
        return html
    answer = client.get("/pagecache/fill", {"m": markers})
    assert answer.status_code == 200, answer.content
    assert "no-store" in answer["Cache-Control"]
    for marker, value in zip(markers, answer.json()["values"], strict=True):
        html = html.replace(f'value="{marker}"', f'value="{value}"')
    return html


CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">')


def thread_of(report) -> Thread:
    return Thread.objects.get(key=report.thread_key)


def page(client, report, **headers):
    response = client.get(report.url, headers=headers)
    assert response.status_code == 200
    return response


def text(response) -> str:
    return response.content.decode()


def post(client, report, body, token, **extra):
    thread = thread_of(report)
    form = {"thread": thread.key, "name": "Ada", "email": "ada@example.org", "body": body,
            "form_token": token, "csrfmiddlewaretoken": extra.pop("csrf", "")}  # fmt: skip
    headers = extra.pop("headers", {})
    form.update(extra)
    return client.post("/discussion/post/", form, headers=headers)


def published_reply(report, body="An early reply.", guest_token="") -> Reply:
    result = services.submit_reply(
        thread=thread_of(report),
        data={"thread": report.thread_key, "name": "Bo", "email": "bo@example.org", "body": body},
        author=services.Author(client_hash="tests", guest_token=guest_token),
        checks=[],
    )
    assert result.outcome == services.PUBLISHED
    return result.reply


def test_second_anonymous_request_is_served_from_the_cache(client, report):
    first = page(client, report)
    second = page(client, report)
    assert first[STATUS_HEADER] == "miss"
    assert second[STATUS_HEADER] == "hit"
    assert "Rents in the old town" in text(second)
    assert "Leave a Reply" in text(second)
    assert "speakout-hole-" not in text(first) + text(second)


def test_two_anonymous_readers_get_the_same_bytes_and_both_can_post(report):
    ada, bo = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page(Client(), report)  # someone else fills the cache
    pages = [page(ada, report), page(bo, report)]
    assert [response[STATUS_HEADER] for response in pages] == ["hit", "hit"]
    # The same bytes for both (and for a CDN): no CSRF token in the page, no cookie.
    assert pages[0].content == pages[1].content
    assert not TOKEN.findall(text(pages[0])) and "csrftoken" not in pages[0].cookies
    html = [filled(ada, pages[0]), filled(bo, pages[1])]
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    for reader, part, body in ((ada, html[0], "Ada was here."), (bo, html[1], "Bo agrees.")):
        sent = post(reader, report, body, FORM_TOKEN.findall(part)[0], headers=same_origin)
        assert sent.status_code == 303, sent.content[:500]
    # The same form sent from another site is refused by the browser's own headers.
    eve = Client(enforce_csrf_checks=True)
    refused = post(
        eve, report, "From elsewhere.", FORM_TOKEN.findall(html[0])[0], headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert refused.status_code == 403
    shown = text(page(Client(), report))
    assert "Ada was here." in shown and "Bo agrees." in shown and "From elsewhere." not in shown


class Clock:
    """Stands in for the ``time`` module where the time trap reads it; moves only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def test_time_trap_tokens_are_fresh_in_every_cached_copy(client, report, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(discussion_forms, "time", clock)
    page(client, report)
    clock.now += 3600  # an hour after the page was stored
    response = page(client, report)
    assert response[STATUS_HEADER] == "hit"
    ages = [read_form_token(token, report.thread_key) for token in FORM_TOKEN.findall(filled(client, response))]
    assert ages and all(age == 0 for age in ages)


def test_every_cached_copy_has_its_own_submission_id(client, report):
    """A submission id marks one form as sent; shared between readers, the second reader's reply
    would be refused as a resend of the first's."""
    readers = [Client() for _round in range(3)]
    copies = [page(reader, report) for reader in readers]
    assert [response[STATUS_HEADER] for response in copies] == ["miss", "hit", "hit"]
    ids = [SUBMISSION.findall(filled(reader, response)) for reader, response in zip(readers, copies, strict=True)]
    assert all(len(found) == 1 for found in ids)
    assert len({found[0] for found in ids}) == 3
    # Two readers open the same cached page, then both send the form.
    readers = [(Client(), "First reader."), (Client(), "Second reader.")]
    pages = [filled(reader, page(reader, report)) for reader, _body in readers]
    for (reader, body), html in zip(readers, pages, strict=True):
        sent = post(reader, report, body, FORM_TOKEN.findall(html)[0], submission_id=SUBMISSION.findall(html)[0])
        assert sent.status_code == 303, sent.content[:300]
    shown = text(page(Client(), report))
    assert "First reader." in shown and "Second reader." in shown


def test_new_reply_edit_moderation_and_report_edit_show_on_the_next_request(client, report):
    assert page(client, report)[STATUS_HEADER] == "miss"
    assert page(client, report)[STATUS_HEADER] == "hit"
    reply = published_reply(report, "A first thought.", guest_token="bo")
    assert "A first thought." in text(page(client, report))

    assert services.edit_reply(reply, "A second thought.", services.Author(guest_token="bo")).ok
    shown = text(page(client, report))
    assert "A second thought." in shown and "A first thought." not in shown

    services.set_status(reply, Reply.Status.TRASH, reason="Off topic")
    assert "A second thought." not in text(page(client, report))
    services.set_status(reply, Reply.Status.APPROVED)
    assert "A second thought." in text(page(client, report))

    report.title = "Rents in the old town, revisited"
    report.save_revision().publish()
    assert "Rents in the old town, revisited" in text(page(client, report))


def test_an_authors_edit_shows_on_the_next_request(report):
    guest = Client()
    form_token = FORM_TOKEN.findall(filled(guest, page(guest, report)))[0]
    assert post(guest, report, "Wrong words.", form_token).status_code == 303
    reader = Client()
    assert "Wrong words." in text(page(reader, report))
    reply = Reply.objects.get(body="Wrong words.")
    edited = guest.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "Right words."})
    assert edited.status_code == 303
    shown = text(page(reader, report))
    assert "Right words." in shown and "Wrong words." not in shown


def test_signed_in_reader_never_gets_a_cached_page(client, report):
    page(Client(), report)
    user = get_user_model().objects.create_user("sam", "sam@example.org", "pw", first_name="Sam")
    client.force_login(user)
    response = page(client, report)
    assert STATUS_HEADER not in response
    assert "You are commenting as <strong>Sam</strong>" in text(response)
    assert "You are commenting as" not in text(page(Client(), report))
    other = Client()
    other.force_login(get_user_model().objects.create_user("kim", "kim@example.org", "pw", first_name="Kim"))
    theirs = text(page(other, report))
    assert "You are commenting as <strong>Kim</strong>" in theirs and "Sam" not in theirs


def test_guest_with_a_held_reply_never_gets_a_cached_page(report):
    rules = DiscussionSettings.load()
    rules.hold_first_reply = True
    rules.save()
    guest, reader = Client(), Client()
    page(reader, report)
    form_token = FORM_TOKEN.findall(filled(guest, page(guest, report)))[0]
    assert post(guest, report, "Please approve me.", form_token).status_code == 303
    assert guest.cookies.get("speakout_guest")
    mine = page(guest, report)
    assert STATUS_HEADER not in mine
    assert "Please approve me." in text(mine) and "Awaiting moderation." in text(mine)
    theirs = page(reader, report)
    assert theirs[STATUS_HEADER] in ("hit", "miss")
    assert "Please approve me." not in text(theirs)
    assert "Please approve me." not in text(page(Client(), report))


def test_other_cookies_query_strings_search_and_admin_bypass_the_cache(client, report):
    page(client, report)
    client.cookies["sessionid"] = "whatever"
    assert STATUS_HEADER not in page(client, report)
    other = Client()
    other.cookies["messages"] = "x"
    assert STATUS_HEADER not in page(other, report)
    anonymous = Client()
    assert STATUS_HEADER not in anonymous.get(report.url + "?replies=newest")
    assert STATUS_HEADER not in anonymous.get("/search/?q=rents")
    assert STATUS_HEADER not in anonymous.get("/admin/login/")
    assert STATUS_HEADER not in anonymous.head("/admin/login/")


def test_compressed_variants_decode_to_the_page(client, report):
    published_reply(report, "Compressed words.")
    plain = page(client, report)
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        for _round in range(2):  # the first builds the variant, the second serves it
            response = page(client, report, accept_encoding=f"{encoding}, deflate")
            assert response["Content-Encoding"] == encoding
            assert "Accept-Encoding" in response["Vary"]
            body = decode(response.content).decode()
            assert body == text(plain)  # the same page, markers and all
    refused = page(client, report, accept_encoding="br;q=0, gzip;q=0")
    assert "Content-Encoding" not in refused
    assert "Leave a Reply" in text(refused)


def test_etag_and_last_modified_allow_a_not_modified_answer(client, report):
    first = page(client, report)
    # The same bytes for every reader: a strong ETag, and a CDN may keep it (and revalidate).
    assert first["ETag"].startswith('"') and first["Last-Modified"]
    assert first["Cache-Control"] == "public, no-cache"
    again = client.get(report.url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    # A copy holds no token, so a reader without a cookie may keep theirs too.
    stranger = Client().get(report.url, headers={"if-none-match": first["ETag"]})
    assert stranger.status_code == 304
    published_reply(report, "News.")
    changed = client.get(report.url, headers={"if-none-match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "News." in text(changed)


def test_head_request_gets_the_headers_only_with_the_length_of_the_get(client, report):
    for encoding in ("identity", "gzip", "br"):
        full = client.get(report.url, headers={"Accept-Encoding": encoding})
        response = client.head(report.url, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200 and response.content == b""
        assert response[STATUS_HEADER] == "hit"
        assert int(response["Content-Length"]) == len(full.content) > 1000, encoding


def test_discussion_settings_change_retires_cached_pages(client, report):
    for number in range(3):
        published_reply(report, f"Reply {number}.")
    assert "Reply 0." in text(page(client, report))
    page(client, report)
    rules = DiscussionSettings.load()
    rules.newest_first = True
    rules.save()
    shown = text(page(client, report))
    assert shown.index("Reply 2.") < shown.index("Reply 0.")


def test_a_page_that_gains_a_view_restriction_leaves_the_cache_at_once(client, site_builder):
    """A standard page has no thread whose version would retire its cached copy: the
    restriction itself must."""
    from wagtail.models import PageViewRestriction

    standard = site_builder.standard_page("Our finances", intro="Open books.")
    for _round in range(2):
        assert "Open books." in text(page(client, standard))
    assert page(client, standard)[STATUS_HEADER] == "hit"
    PageViewRestriction.objects.create(page=standard, restriction_type=PageViewRestriction.PASSWORD, password="pw")
    response = client.get(standard.url)
    assert "Open books." not in response.content.decode()
    assert 'type="password"' in response.content.decode()


def test_private_and_draft_reports_are_not_stored(client, site_builder):
    private = site_builder.report("Members only", private=True)
    for _round in range(2):
        response = client.get(private.url)
        assert STATUS_HEADER not in response


def test_thread_json_is_never_stored_has_a_fresh_form_token_and_follows_new_replies(client, report):
    url = f"/api/threads/{report.thread_key}"
    first, second = client.get(url), client.get(url)
    assert STATUS_HEADER not in first and STATUS_HEADER not in second
    assert first.json()["form_token"] != second.json()["form_token"]
    assert read_form_token(second.json()["form_token"], report.thread_key) < 5
    published_reply(report, "Seen by the widget.")
    replies = client.get(url).json()["replies"]
    assert [reply["body_html"] for reply in replies] == ["<p>Seen by the widget.</p>"]


def test_a_form_sent_without_javascript_goes_through_in_one_press(report):
    """A browser without JavaScript sends the page's fill markers as they are: the time trap does
    not apply (the age is not known) and the markers are no submission id, so two such readers
    each get their own reply stored."""
    page(Client(), report)
    for name in ("Ada", "Bo"):
        reader = Client(enforce_csrf_checks=True)
        html = text(page(reader, report))
        markers = dict(re.findall(r'name="(form_token|submission_id)" value="([^"]+)"', html))
        assert all(value.startswith("fill:") for value in markers.values()) and len(markers) == 2
        body = f"Written with scripts off by {name}.\nTwo lines."
        sent = post(reader, report, body, markers["form_token"], submission_id=markers["submission_id"],
                    headers={"Sec-Fetch-Site": "same-origin"})  # fmt: skip
        assert sent.status_code == 303, sent.content[:500]
        assert Reply.objects.filter(body=body).count() == 1
    # A browser sending neither header meets Django's token check: refused, nothing shown back.
    forged = post(Client(enforce_csrf_checks=True), report, "No token at all.", markers["form_token"])
    assert forged.status_code == 403 and "No token at all." not in forged.content.decode()


def test_fill_refuses_markers_it_did_not_make(client, report):
    html = text(page(client, report))
    marker = MARKER.findall(html)[0]
    assert client.get("/pagecache/fill", {"m": [marker]}).status_code == 200
    forged = marker[:-2] + ("BB" if marker.endswith("AA") else "AA")  # a signature not ours
    other = 'fill:["call","os.system",["true"]]:AAAAAAAAAAAAAAAAAAAAAAAAAAA'
    for bad in (forged, other, "csrf", ""):
        assert client.get("/pagecache/fill", {"m": [marker, bad]}).status_code == 400
    assert client.get("/pagecache/fill").status_code == 400


def test_discussion_settings_saved_by_another_process_are_read_on_the_next_request(db, settings, tmp_path):
    """Without Redis each process's cache is its own: a save made by a command (another process)
    clears nothing here, yet bumps the settings' version where every process reads it, and the
    row kept under the old version is never read again."""
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = str(tmp_path / "versions")
    rules = DiscussionSettings.load()
    held = not rules.hold_first_reply
    assert DiscussionSettings.load().hold_first_reply is not held  # kept in this process's cache
    # What DiscussionSettings.save() does in the other process: the row, then its version.
    DiscussionSettings.objects.filter(pk=rules.pk).update(hold_first_reply=held)
    assert DiscussionSettings.load().hold_first_reply is not held, "still the kept row (no bump yet)"
    versions.bump_now(SETTINGS_DEPENDENCY)
    assert DiscussionSettings.load().hold_first_reply is held


def test_a_kept_page_reads_its_versions_where_they_live_now(client, report, settings, tmp_path):
    """A page kept in the process reads its versions from where they live at the time of the
    request, not where they lived when it was kept: once they move (another folder here), the
    page is built again against the new ones instead of being served under the old."""
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = str(tmp_path / "first")
    page(client, report)
    assert page(client, report)[STATUS_HEADER] == "hit"
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = str(tmp_path / "second")
    assert page(client, report)[STATUS_HEADER] == "miss"
    assert page(client, report)[STATUS_HEADER] == "hit"


def test_a_version_reader_on_a_cache_without_its_own_reader_sees_the_next_bump(settings):
    """Counters in a cache backend other than Redis's (here Django's local memory): the reader a
    kept page checks on every hit reads them afresh each call, in order, None where missing."""
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = ""
    before = versions.current(["reader-test"])["reader-test"]
    read = versions.reader([versions.key("reader-test"), versions.key("never-made")])
    assert read() == [before, None]
    versions.bump_now("reader-test")
    assert read() == [versions.current(["reader-test"])["reader-test"], None] != [before, None]


def test_file_counters_are_links_read_in_one_call_and_replaced_whole(tmp_path):
    """Each counter is a symbolic link whose target is its value: added only if missing (the
    first process's value stands), bumped to a value never used, and cleared with the rest."""
    store = versions.FileVersions(tmp_path)
    name = versions.key("links")
    store.add(name)
    first = store.get_many([name])[name]
    store.add(name)
    assert store.get_many([name])[name] == first, "an add never moves a counter"
    path = store._path(name)
    assert os.path.islink(path) and int(os.readlink(path)) == first
    store.bump(name)
    assert store.get_many([name])[name] > first
    assert not [entry for entry in os.listdir(tmp_path) if entry.startswith(".new-")], "no temporary left"
    store.clear()
    assert store.get_many([name]) == {} and os.listdir(tmp_path) == []


def _earlier_release_current(directory, version_key: str) -> int:
    """How the release before the links read a counter (a plain file, made if missing), as a
    process still running it during an upgrade does."""
    import hashlib
    import tempfile

    path = os.path.join(directory, hashlib.sha1(version_key.encode(), usedforsecurity=False).hexdigest())

    def read():
        try:
            handle = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            return int(os.read(handle, 64))
        finally:
            os.close(handle)

    if read() is None:
        handle, name = tempfile.mkstemp(dir=directory, prefix=".new-")
        with os.fdopen(handle, "wb") as temporary:
            temporary.write(b"123")
        try:
            os.link(name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(name)
    value = read()
    assert value is not None, "the earlier release would raise KeyError here: a 500 on every page it builds"
    return value


def test_a_process_of_the_earlier_release_keeps_working_beside_the_links(tmp_path):
    """During an upgrade a process of the earlier release (plain files) can run beside new ones
    (a command run before the restart, say). The links have names of their own, so neither
    reads the other's counters as broken: the old process builds its pages as before."""
    store = versions.FileVersions(tmp_path)
    name = versions.key("content")
    store.add(name)
    store.bump(name)
    assert _earlier_release_current(tmp_path, name) == 123
    store.bump(name)
    assert _earlier_release_current(tmp_path, name) == 123, "a plain file is never replaced by a link"
    assert store.get_many([name])[name] != 123


def test_an_unreadable_counter_is_replaced_not_a_failure(client, report, settings, tmp_path):
    """Something other than a number where a counter's link should be (a hand edit, a broken
    copy of the data folder) gets a new value: the page is built, not a 500 on every request."""
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = str(tmp_path)
    page(client, report)
    for number, entry in enumerate(os.scandir(tmp_path)):
        os.unlink(entry.path)
        if number % 2:
            os.symlink("not a number", entry.path)
        else:  # a plain file where the link should be
            with open(entry.path, "w") as counter:
                counter.write("123")
    assert page(client, report).status_code == 200
    assert page(client, report)[STATUS_HEADER] == "hit"
    assert all(entry.is_symlink() for entry in os.scandir(tmp_path))


def test_the_hourly_tidy_removes_what_no_process_has_touched_for_a_day(settings, tmp_path):
    """The earlier release's plain files are never read again once its processes are gone, and a
    temporary link is left behind by a process killed between making it and renaming it into
    place; untouched for a day, both go. A counter's link stays, whatever its age, and so does a
    plain file changed within the day (a process of the earlier release may still be using it)."""
    from speakout.pagecache import jobs
    from speakout.worker import scheduled_jobs

    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = str(tmp_path)
    store = versions.file_versions()
    assert store is not None
    store.add(versions.key("content"))
    day_old = time.time() - 25 * 3600
    names = {"old plain": "a" * 40, "new plain": "b" * 40, "old temporary": ".new-0123", "new temporary": ".new-4567"}
    for label, name in names.items():
        path = tmp_path / name
        if "plain" in label:
            path.write_text("123")
        else:
            os.symlink("456", path)
        if label.startswith("old"):
            os.utime(path, (day_old, day_old), follow_symlinks=False)
    link = store._path(versions.key("content"))
    os.utime(link, (day_old, day_old), follow_symlinks=False)

    assert ("pagecache_tidy", 3600, "speakout.pagecache.jobs.tidy_versions") in scheduled_jobs()
    assert jobs.tidy_versions() == 2
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(link), names["new plain"], names["new temporary"]])
    assert store.get_many([versions.key("content")])
