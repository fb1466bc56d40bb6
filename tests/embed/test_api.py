"""The widget's endpoints: threads by page path, created by their first reply from allowed
origins only, CORS with credentials off, the Origin check on writes, counts and strings."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from speakout.discussion import services
from speakout.discussion.models import Reply, Thread
from speakout.embed import origins
from speakout.embed.models import AllowedOrigin
from speakout.embed.tokens import sign_user_token
from tests.discussion.helpers import old_form_token as old_token
from tests.embed.helpers import OTHER, SITE

pytestmark = pytest.mark.django_db


def post(client, key, headers=None, **fields):
    payload = {
        "name": "Robin",
        "email": "robin@example.org",
        "body": "A reply from another site.",
        "form_token": old_token(key),
        "url": f"{SITE}{key}",
        "title": "A post on the blog",
    }
    payload.update(fields)
    return client.post(
        f"/embed/api/replies?key={key}", json.dumps(payload), content_type="application/json", headers=headers or {}
    )


def test_an_unknown_page_reads_as_an_empty_thread_that_accepts_replies(client, rules, allowed_site):
    response = client.get("/embed/api/thread?key=/posts/new/")
    assert response.status_code == 200
    body = response.json()
    assert body["thread"]["count"] == 0 and body["replies"] == []
    assert body["thread"]["accepts_replies"] is True
    assert body["form_token"]
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Credentials" not in response
    assert not Thread.objects.exists(), "reading creates nothing"


def test_the_first_reply_creates_the_thread_titled_by_its_address(client, rules, allowed_site):
    """The title a caller sends is never stored: anyone can claim an allowed origin from outside
    a browser, and the title goes into the site's pages and mails."""
    response = post(client, "/posts/first/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "published" and body["guest_token"]
    thread = Thread.objects.get(key="/posts/first/")
    assert thread.url == thread.title == f"{SITE}/posts/first/"
    listed = client.get("/embed/api/thread?key=/posts/first/").json()
    assert listed["thread"]["count"] == 1
    assert listed["replies"][0]["body_html"] == "<p>A reply from another site.</p>"


def test_a_refused_first_reply_leaves_no_thread_and_keeps_the_errors_field_specific(client, rules, allowed_site):
    response = post(client, "/posts/empty/", body="")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    assert response.json()["form_token"]
    assert not Thread.objects.filter(key="/posts/empty/").exists()


def test_the_page_url_must_be_on_the_calling_origin(client, rules, allowed_site):
    response = post(client, "/posts/x/", url=f"{OTHER}/posts/x/")
    assert response.status_code == 400
    assert "url" in response.json()["errors"]


def test_a_disallowed_origin_cannot_post_or_preflight(rules, allowed_site):
    stranger = Client(HTTP_ORIGIN=OTHER)
    response = post(stranger, "/posts/x/")
    assert response.status_code == 403
    assert response.json()["code"] == "origin"
    assert "Access-Control-Allow-Origin" not in response
    preflight = stranger.options("/embed/api/replies?key=/x/", headers={"Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight
    # The discussion API's writes are guarded the same way.
    Thread.objects.create(key="report-1", url="http://testserver/r/")
    api = stranger.post("/api/threads/report-1/replies", "{}", content_type="application/json")
    assert api.status_code == 403
    assert not Reply.objects.exists()


def test_an_allowed_origin_gets_a_preflight_without_credentials(client, allowed_site):
    response = client.options(
        "/embed/api/replies?key=/x/",
        headers={"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "X-Speakout-Guest" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response
    assert "Origin" in response["Vary"]


def test_the_site_itself_gets_no_cors_headers(client, allowed_site):
    response = client.get("/")
    assert "Access-Control-Allow-Origin" not in response


def test_a_held_reply_is_visible_to_its_author_only(client, rules, allowed_site):
    rules.hold_first_reply = True
    rules.save()
    response = post(client, "/posts/held/")
    assert response.status_code == 201 and response.json()["outcome"] == "held"
    guest = response.json()["guest_token"]
    mine = client.get("/embed/api/thread?key=/posts/held/", headers={"X-Speakout-Guest": guest}).json()
    assert [r["status"] for r in mine["replies"]] == ["held"]
    assert mine["replies"][0]["can_change"] and mine["replies"][0]["body"] == "A reply from another site."
    assert client.get("/embed/api/thread?key=/posts/held/").json()["replies"] == []


def test_the_notification_boxes_reach_the_subscriptions(client, rules, allowed_site):
    from speakout.subscriptions.models import Subscription

    response = post(client, "/posts/notify/", notify_replies=True, notify_posts=True)
    assert response.status_code == 201
    assert Subscription.objects.filter(email="robin@example.org").count() == 2


def test_a_sign_in_token_posts_as_the_account(client, rules, allowed_site, django_user_model):
    user = django_user_model.objects.create_user("ada", "ada@example.org", "pw", first_name="Ada", last_name="L")
    token = sign_user_token(user, SITE)
    headers = {"X-Speakout-User": token}
    viewer = client.get("/embed/api/thread?key=/p/", headers=headers).json()["viewer"]
    # No verified address (allauth has none for her): the boxes about her reply start unticked.
    assert viewer == {"signed_in": True, "name": "Ada L", "wishes_by_default": False}
    response = post(client, "/p/", name="", email="", headers=headers)
    assert response.status_code == 201, response.content
    reply = Reply.objects.get()
    assert reply.user == user and reply.author_name == "Ada L"
    # A token handed to one origin is worthless on another.
    AllowedOrigin.objects.create(origin=OTHER)
    other = Client(HTTP_ORIGIN=OTHER).get("/embed/api/thread?key=/p/", headers=headers).json()
    assert other["viewer"]["signed_in"] is False


def change(client, reply_id, body="Better **words**", headers=None):
    return client.patch(
        f"/embed/api/replies/{reply_id}", json.dumps({"body": body}), content_type="application/json", headers=headers
    )


def signed_in_reply(client, django_user_model, key="/p/"):
    """A reply posted through the widget by an account signed in there, and her token's header."""
    user = django_user_model.objects.create_user("ada", "ada@example.org", "pw", first_name="Ada")
    headers = {"X-Speakout-User": sign_user_token(user, SITE)}
    response = post(client, key, name="", email="", headers=headers)
    assert response.status_code == 201, response.content
    reply = Reply.objects.get(pk=response.json()["reply"]["id"])
    assert reply.user == user
    return reply, headers


def test_a_reader_signed_in_through_the_widget_edits_and_deletes_their_own_reply(
    client, rules, allowed_site, django_user_model
):
    """The widget shows Edit and Delete on her reply (``can_change``), so they must work with
    the same token: ``/api/`` reads the guest header only."""
    reply, headers = signed_in_reply(client, django_user_model)
    shown = client.get("/embed/api/thread?key=/p/", headers=headers).json()["replies"][0]
    assert shown["can_change"] is True
    response = change(client, reply.pk, headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "published"
    assert body["reply"]["body_html"] == "<p>Better <strong>words</strong></p>"
    assert body["reply"]["own"] is True and body["reply"]["can_change"] is True
    assert response["Access-Control-Allow-Origin"] == SITE
    reply.refresh_from_db()
    assert reply.body == "Better **words**" and reply.edited_at is not None
    deleted = client.delete(f"/embed/api/replies/{reply.pk}", headers=headers)
    assert deleted.status_code == 200, deleted.content
    assert deleted.json() == {"outcome": "deleted", "id": reply.pk}
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.TRASH


def test_no_one_else_changes_a_signed_in_reader_s_reply_through_the_widget(
    client, rules, allowed_site, django_user_model
):
    """As on ``/api/``: a held reply is not found by anyone but its writer (404), a published one
    is found but may not be changed (403); nothing changes either way."""
    reply, own = signed_in_reply(client, django_user_model)
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.PENDING)
    someone = django_user_model.objects.create_user("bo", "bo@example.org", "pw")
    others = [{"X-Speakout-User": sign_user_token(someone, SITE)}, {}]
    for headers in others:
        assert change(client, reply.pk, "Hijacked", headers=headers).status_code == 404
        assert client.delete(f"/embed/api/replies/{reply.pk}", headers=headers).status_code == 404
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.APPROVED)
    for headers in others:
        edited = change(client, reply.pk, "Hijacked", headers=headers)
        assert edited.status_code == 403 and edited.json()["code"] == "forbidden"
        deleted = client.delete(f"/embed/api/replies/{reply.pk}", headers=headers)
        assert deleted.status_code == 403 and deleted.json()["code"] == "forbidden"
    reply.refresh_from_db()
    assert reply.body == "A reply from another site." and reply.edited_at is None
    assert reply.status == Reply.Status.APPROVED
    unknown = change(client, 2**70, headers=own)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_a_sign_in_token_of_another_origin_changes_nothing(client, rules, allowed_site, django_user_model):
    reply, headers = signed_in_reply(client, django_user_model)
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.PENDING)
    AllowedOrigin.objects.create(origin=OTHER)
    elsewhere = Client(HTTP_ORIGIN=OTHER)
    assert change(elsewhere, reply.pk, "Hijacked", headers=headers).status_code == 404
    assert elsewhere.delete(f"/embed/api/replies/{reply.pk}", headers=headers).status_code == 404
    reply.refresh_from_db()
    assert reply.body == "A reply from another site." and reply.status == Reply.Status.PENDING


def test_a_guest_still_edits_and_deletes_their_reply_through_the_widget(client, rules, allowed_site):
    response = post(client, "/posts/guest/")
    reply_id, guest = response.json()["reply"]["id"], response.json()["guest_token"]
    headers = {"X-Speakout-Guest": guest}
    edited = change(client, reply_id, headers=headers)
    assert edited.status_code == 200, edited.content
    assert edited.json()["reply"]["can_change"] is True
    assert client.delete(f"/embed/api/replies/{reply_id}", headers=headers).json() == {
        "outcome": "deleted",
        "id": reply_id,
    }
    assert Reply.objects.get(pk=reply_id).status == Reply.Status.TRASH


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_an_allowed_origin_may_edit_and_delete_with_the_sign_in_header(client, allowed_site, method):
    response = client.options(
        "/embed/api/replies/1",
        headers={"Access-Control-Request-Method": method, "Access-Control-Request-Headers": "x-speakout-user"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert method in [m.strip() for m in response["Access-Control-Allow-Methods"].split(",")]
    allowed_headers = [h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")]
    assert "x-speakout-user" in allowed_headers and "x-speakout-guest" in allowed_headers


def test_key_prefix_separates_sites_with_the_same_paths(rules, allowed_site):
    AllowedOrigin.objects.create(origin=OTHER, key_prefix="other:")
    other = Client(HTTP_ORIGIN=OTHER)
    response = post(other, "/about/", url=f"{OTHER}/about/", form_token=old_token("other:/about/"))
    assert response.status_code == 201
    assert Thread.objects.get().key == "other:/about/"
    assert Client(HTTP_ORIGIN=SITE).get("/embed/api/thread?key=/about/").json()["thread"]["count"] == 0


def test_counts_for_many_pages_in_one_request(client, rules, allowed_site):
    thread = Thread.objects.create(key="/a/", url=f"{SITE}/a/")
    for n, body in enumerate(("One reply here.", "Another one here.")):
        email = f"kim{n}@example.org"
        data = {"thread": "/a/", "name": "Kim", "email": email, "body": body, "form_token": old_token("/a/")}
        assert services.submit_reply(thread=thread, data=data, author=services.Author(client_hash=f"c{n}")).ok
    response = client.get("/embed/api/counts?key=/a/&key=/b/&lang=es")
    assert response.status_code == 200
    assert response.json() == {"counts": {"/a/": 2, "/b/": 0}, "text": {"/a/": "2 respuestas", "/b/": "0 respuestas"}}


def test_strings_come_in_english_and_spanish(client):
    english = client.get("/embed/api/strings?lang=en").json()
    spanish = client.get("/embed/api/strings?lang=es-ES").json()
    assert english["lang"] == "en" and spanish["lang"] == "es"
    assert english["strings"]["leave"] == "Leave a Reply"
    assert spanish["strings"]["leave"] != english["strings"]["leave"]
    assert english["strings"].keys() == spanish["strings"].keys()


@pytest.mark.parametrize(
    "asked, language, direction",
    [
        ("fr-CA", "fr", "ltr"),
        ("pt-BR", "pt-br", "ltr"),
        ("pt", "pt-br", "ltr"),
        ("ar-MA", "ar", "rtl"),
        ("xx", "en", "ltr"),
    ],
)
def test_strings_come_in_every_offered_language(client, settings, asked, language, direction):
    settings.LANGUAGE_CODE = "en"
    english = client.get("/embed/api/strings?lang=en").json()
    answer = client.get(f"/embed/api/strings?lang={asked}").json()
    assert (answer["lang"], answer["dir"]) == (language, direction)
    assert answer["strings"].keys() == english["strings"].keys()
    if language != "en":
        assert answer["strings"]["leave"] != english["strings"]["leave"]


def test_the_widget_gets_every_plural_form_of_the_count(client):
    """Arabic counts have six forms; the widget picks one by the count's CLDR category."""
    samples = client.get("/embed/api/strings?lang=ar").json()["strings"]["count_samples"]
    by_count = {int(n): text for n, text in samples.items()}
    assert len(set(by_count[n] for n in (0, 1, 2, 3, 11, 100))) >= 4
    assert by_count[3] == "%(count)d ردود" and by_count[11] == "%(count)d ردًّا" and by_count[2] == "%(count)d ردّان"
    spanish = client.get("/embed/api/strings?lang=es").json()["strings"]["count_samples"]
    assert spanish["1000000"] != spanish["2"], "Spanish says “de respuestas” after a million"


def test_the_script_and_styles_are_served_at_stable_addresses(client):
    script = client.get("/embed.js")
    assert script.status_code == 200 and b"data-speakout-thread" in b"".join(script.streaming_content)
    assert client.get("/embed.css").status_code == 200


def test_the_hosted_page_shows_the_thread_and_takes_a_reply_without_javascript(rules, allowed_site):
    reader = Client()
    url = f"{SITE}/posts/plain/"
    page = reader.get("/embed/thread/", {"url": url, "title": "Plain"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Leave a Reply" in html and "No replies yet" in html
    action = html.split('class="reply-form"')[0].rsplit('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    csrf = reader.cookies["csrftoken"].value if "csrftoken" in reader.cookies else ""
    response = reader.post(
        action,
        {
            "thread": "/posts/plain/",
            "name": "Sam",
            "email": "sam@example.org",
            "body": "Posted without scripts.",
            "form_token": old_token("/posts/plain/"),
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert response.status_code == 303, response.content.decode()[:500]
    assert response["Location"].startswith("/embed/thread/?url=")
    thread = Thread.objects.get(key="/posts/plain/")
    assert thread.url == thread.title == url
    again = reader.get(response["Location"].split("#")[0])
    assert "Posted without scripts." in again.content.decode()


def test_the_hosted_page_is_only_for_allowed_sites(db):
    assert Client().get("/embed/thread/", {"url": f"{OTHER}/x/"}).status_code == 404


def test_threads_of_other_sites_are_moderated_like_any_other(client, rules, allowed_site, django_user_model):
    rules.hold_first_reply = True
    rules.save()
    assert post(client, "/posts/queue/", title="Queued elsewhere").json()["outcome"] == "held"
    moderator = Client()
    moderator.force_login(django_user_model.objects.create_superuser("mod", "mod@example.org", "pw"))
    queue = moderator.get("/admin/replies/pending/").content.decode()
    assert "Queued elsewhere" not in queue and f"{SITE}/posts/queue/" in queue


def test_the_allow_list_has_an_admin_screen(allowed_site, django_user_model):
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("boss", "boss@example.org", "pw"))
    listing = admin.get("/admin/embed_origins/")
    assert listing.status_code == 200 and SITE in listing.content.decode()
    created = admin.post(
        "/admin/embed_origins/new/",
        {"origin": "HTTPS://News.Example.org:443/", "key_prefix": "", "note": "", "is_active": "on"},
    )
    assert created.status_code == 302, created.content.decode()[:3000]
    assert AllowedOrigin.objects.filter(origin="https://news.example.org").exists()
    refused = admin.post("/admin/embed_origins/new/", {"origin": "https://x.example.org/path", "is_active": "on"})
    assert refused.status_code == 200 and "no path" in refused.content.decode()


def test_a_signed_in_writer_s_federate_box_reaches_reply_posted(client, rules, allowed_site, django_user_model):
    """The embed takes the form's "also post this reply to the Fediverse" box; with a sign-in
    token the reply is the account's, so the federation app may act on it."""
    from speakout.discussion.signals import reply_posted

    wishes = []

    def listen(sender, reply, federate=None, **kwargs):
        wishes.append((reply.user_id, federate))

    user = django_user_model.objects.create_user("ada", "ada@example.org", "pw", first_name="Ada")
    headers = {"X-Speakout-User": sign_user_token(user, SITE)}
    reply_posted.connect(listen, sender=Reply, dispatch_uid="test-embed-federate")
    try:
        response = post(client, "/p/", name="", email="", federate=True, headers=headers)
    finally:
        reply_posted.disconnect(sender=Reply, dispatch_uid="test-embed-federate")
    assert response.status_code == 201, response.content
    assert wishes == [(user.pk, True)]


def test_an_origin_allowed_in_another_process_is_served_at_its_next_request(client, allowed_site):
    """Without Redis each process keeps the allow-list in its own memory. `speakout manage
    speakout_embed_allow` (another process) must reach the web process at once, not up to
    CACHE_SECONDS later."""
    other = "https://other.example.net"
    assert origins.allowed(other) is None  # this process now holds the list
    another_process = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "other"}}
    with override_settings(CACHES=another_process):
        AllowedOrigin.objects.create(origin=other)
    assert origins.allowed(other) is not None
    answer = Client(HTTP_ORIGIN=other).get("/embed/api/strings")
    assert answer.headers.get("Access-Control-Allow-Origin") == other
