"""The pile-on brake (speakout/safety/pileon.py) must not be a "same writer?" oracle: whether an
answer is held or published may depend only on what the public can already link (the avatar the
answered reply wears), never on who wrote it behind that."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from speakout.discussion import services
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Reply
from speakout.safety.models import SafetySettings
from tests.security.claims import fresh_client

pytestmark = pytest.mark.django_db


def api_post(client, key: str, guest: str = "", **fields):
    """A reply through /api/ as the widget sends it; (outcome, reply id, signed guest token)."""
    payload = {
        "name": "Sam",
        "email": f"{uuid.uuid4().hex[:8]}@example.net",
        "body": "A reply.",
        "form_token": issue_form_token(key, issued_at=time.time() - 10),
        "submission_id": uuid.uuid4().hex,
        **fields,
    }
    headers = {"X-Speakout-Guest": guest} if guest else {}
    response = client.post(
        f"/api/threads/{key}/replies", json.dumps(payload), content_type="application/json", headers=headers
    )
    body = response.json()
    assert response.status_code in (200, 201), body
    return body["outcome"], body["reply"]["id"], body.get("guest_token") or guest


DISQUS = """<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <category dsq:id="1"><forum>clinic</forum><title>General</title></category>
  <thread dsq:id="70">
    <id>rota</id><forum>clinic</forum><category dsq:id="1"/>
    <link>https://elsewhere.example.org/rota/</link>
    <title>The new rota</title><message/><createdAt>2023-01-15T09:30:00Z</createdAt>
  </thread>
  <thread dsq:id="71">
    <id>ward</id><forum>clinic</forum><category dsq:id="1"/>
    <link>https://elsewhere.example.org/ward/</link>
    <title>What happens on ward 9</title><message/><createdAt>2023-03-01T09:30:00Z</createdAt>
  </thread>
  <post dsq:id="901">
    <id/><message><![CDATA[<p>The rota is fine by me.</p>]]></message><createdAt>2023-01-19T10:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>jane@example.org</email><name>Jane Smith</name><isAnonymous>false</isAnonymous></author>
    <thread dsq:id="70"/>
  </post>
  <post dsq:id="902">
    <id/><message><![CDATA[<p>What I saw on ward 9, said without my name.</p>]]></message>
    <createdAt>2023-03-02T10:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>jane@example.org</email><name>A night nurse</name><isAnonymous>false</isAnonymous></author>
    <thread dsq:id="71"/>
  </post>
  <post dsq:id="903">
    <id/><message><![CDATA[<p>Someone else entirely.</p>]]></message><createdAt>2023-03-03T10:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>robin@example.net</email><name>Robin</name><isAnonymous>false</isAnonymous></author>
    <thread dsq:id="71"/>
  </post>
</disqus>
"""


def test_the_pile_on_brake_does_not_tell_that_two_replies_in_different_threads_share_a_writer(site, tmp_path):
    """An organisation moves its old Disqus comments in. Jane signed one "Jane Smith" and, on
    another report, one "A night nurse", with the same address. Nothing public links the two:
    imported replies all wear the same plain avatar. But the pile-on brake counts replies per
    commenter record (here: per address) across every thread, and its effect is the one answer a
    writer sees: held instead of published. So anyone can ask "is the night nurse Jane Smith?":
    aim a few replies at Jane's (held ones count too, so no reader ever sees them), then answer
    the night nurse as a trusted writer. Held says yes; the same answer to Robin, in the same
    thread, is published."""
    from speakout.interchange.importers import run_import

    path = tmp_path / "disqus.xml"
    path.write_text(DISQUS, encoding="utf-8")
    run_import(path)
    jane = Reply.objects.get(external_id="disqus:901")
    nurse = Reply.objects.get(external_id="disqus:902")
    robin = Reply.objects.get(external_id="disqus:903")
    assert {r.status for r in (jane, nurse, robin)} == {Reply.Status.APPROVED}
    assert jane.commenter_id == nurse.commenter_id != robin.commenter_id
    assert nurse.thread_id == robin.thread_id != jane.thread_id
    # What the public sees links nothing: one avatar for all three.
    listing = fresh_client().get(f"/api/threads/{nurse.thread.key}").json()
    avatars = {item["id"]: item["avatar_url"] for item in listing["replies"]}
    assert avatars[nurse.pk] == avatars[robin.pk]

    config = SafetySettings.load()
    config.pile_on_replies, config.pile_on_minutes = 3, 30
    config.save()

    # The asker: a writer a moderator approved once (trusted from then on).
    asker = fresh_client()
    _outcome, first, asker_token = api_post(asker, nurse.thread.key, name="Asker", body="An innocent first reply.")
    services.set_status(Reply.objects.get(pk=first), Reply.Status.APPROVED)

    # Three answers to Jane Smith's reply from newcomers: all held, so no reader ever sees them.
    for n in range(3):
        outcome, _id, _token = api_post(
            fresh_client(), jane.thread.key, name=f"Probe {n}", parent=jane.pk, body=f"Probe number {n}."
        )
        assert outcome == "held"

    to_robin, _id, _token = api_post(asker, nurse.thread.key, asker_token, parent=robin.pk, body="Fair, Robin.")
    to_nurse, _id, _token = api_post(asker, nurse.thread.key, asker_token, parent=nurse.pk, body="Fair, nurse.")
    assert to_robin == "published"
    assert to_nurse == to_robin, (
        "the answer to the night nurse is held because replies were aimed at Jane Smith in another "
        "thread: the answer tells that the night nurse is Jane Smith"
    )


def test_the_pile_on_brake_still_counts_one_avatar_across_threads(site):
    """What the public can link already, the brake counts together: replies wearing one avatar
    (here one guest's, proved by their guest token, in two threads) are one person to it, so a
    burst spread over their replies on two pages is still braked, and an answer to someone else
    is not."""
    config = SafetySettings.load()
    config.pile_on_replies, config.pile_on_minutes = 3, 30
    config.save()
    other_thread = services.get_or_create_thread("/elsewhere/", url="https://example.org/elsewhere/", title="B")

    kim = fresh_client()
    _outcome, first, kim_token = api_post(kim, site.key, name="Kim", email="kim@example.org", body="On page one.")
    _outcome, second, _token = api_post(kim, other_thread.key, kim_token, name="Kim", body="On page two.")
    services.set_status(Reply.objects.get(pk=first), Reply.Status.APPROVED)
    services.set_status(Reply.objects.get(pk=second), Reply.Status.APPROVED)
    first, second = Reply.objects.get(pk=first), Reply.objects.get(pk=second)
    assert first.avatar_key == second.avatar_key, "the public links the two replies"
    _outcome, robin, _token = api_post(fresh_client(), other_thread.key, name="Robin", body="Someone else.")
    services.set_status(Reply.objects.get(pk=robin), Reply.Status.APPROVED)

    asker = fresh_client()
    _outcome, mine, asker_token = api_post(asker, other_thread.key, name="Asker", body="An innocent first reply.")
    services.set_status(Reply.objects.get(pk=mine), Reply.Status.APPROVED)

    for n in range(3):
        api_post(fresh_client(), site.key, name=f"Probe {n}", parent=first.pk, body=f"Probe number {n}.")
    to_robin, _id, _token = api_post(asker, other_thread.key, asker_token, parent=robin, body="Fair, Robin.")
    to_kim, _id, _token = api_post(asker, other_thread.key, asker_token, parent=second.pk, body="Fair, Kim.")
    assert (to_robin, to_kim) == ("published", "held")
