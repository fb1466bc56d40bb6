"""A report in several languages is one Article on the Fediverse: the original's, carrying every
public language in contentMap/nameMap/summaryMap (its own first, which is the language Mastodon
shows and tags). Publishing or withdrawing a translation sends an Update of the original, never
a Create of its own, so followers never see the report twice."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from speakout.discussion.models import Reply
from speakout.federation import delivery
from speakout.federation.models import Follower, PublishedArticle
from speakout.publishing.models import ReportPage
from tests.helpers import paragraph

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
def queued(federation, bob, monkeypatch):
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    sent: list[dict] = []

    def spy(activity, inboxes):
        sent.append({"type": activity["type"], "object": activity["object"], "inboxes": list(inboxes)})
        return 0

    monkeypatch.setattr(delivery, "queue", spy)
    return sent


def translate(site_builder, report, live: bool = True):
    site_builder.translate(site_builder.home, "fr", title="Collectif")
    site_builder.translate(site_builder.index, "fr", title="Rapports")
    return site_builder.translate(
        report,
        "fr",
        title="Rapport sur le logement",
        standfirst="Ce que nous avons appris.",
        body=[paragraph("<p>Le texte du rapport.</p>")],
        live=live,
    )


def test_a_translation_is_an_update_of_the_original_with_every_language(queued, site_builder):
    report = site_builder.report("Housing report", standfirst="What we found.")
    original_id = queued[0]["object"]["id"]
    assert [item["type"] for item in queued] == ["Create"]
    assert queued[0]["object"]["contentMap"] == {"en": queued[0]["object"]["content"]}

    french = translate(site_builder, report)
    assert [item["type"] for item in queued] == ["Create", "Update"]
    update = queued[1]["object"]
    assert update["id"] == original_id  # the original, not a second Article
    assert update["name"] == "Housing report" and list(update["contentMap"]) == ["en", "fr"]
    assert update["contentMap"]["en"] == update["content"]
    assert "Le texte du rapport." in update["contentMap"]["fr"]
    assert update["nameMap"] == {"en": "Housing report", "fr": "Rapport sur le logement"}
    assert update["summaryMap"]["fr"] == "Ce que nous avons appris."

    # Edited and published again: still an Update of the original.
    french.title = "Rapport sur le logement (corrigé)"
    french.save_revision().publish()
    assert [item["type"] for item in queued] == ["Create", "Update", "Update"]
    assert queued[2]["object"]["id"] == original_id
    assert queued[2]["object"]["nameMap"]["fr"] == "Rapport sur le logement (corrigé)"

    # Withdrawn: the original loses the language; nothing is deleted.
    french.unpublish()
    assert [item["type"] for item in queued] == ["Create", "Update", "Update", "Update"]
    assert queued[3]["object"]["id"] == original_id and list(queued[3]["object"]["contentMap"]) == ["en"]


def test_the_translation_answers_at_its_own_address_in_its_language_and_takes_replies(
    queued, site_builder, bob, settings
):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    report = site_builder.report("Housing report", standfirst="What we found.")
    french = translate(site_builder, report)
    answer = Client().get(french.url, HTTP_ACCEPT="application/activity+json")
    article = json.loads(answer.content)
    assert article["type"] == "Article" and article["name"] == "Rapport sur le logement"
    assert list(article["contentMap"]) == ["fr", "en"]  # its own language first
    # The outbox lists the report once: the original's Article.
    outbox = json.loads(Client().get("/federation/outbox?page=1", HTTP_ACCEPT="application/activity+json").content)
    assert [item["object"]["name"] for item in outbox["orderedItems"]] == ["Housing report"]
    assert outbox["totalItems"] == 1

    # A reply to the translation's address lands in the translation's thread.
    article_id = PublishedArticle.objects.get(page_id=french.pk).object_id
    note_id = f"{bob.url}/notes/{uuid.uuid4().hex}"
    audience = {"to": AS + "#Public"}
    create = {"@context": AS, "id": note_id + "#c", "type": "Create", "actor": bob.url, **audience,
              "object": {"id": note_id, "type": "Note", "attributedTo": bob.url, "inReplyTo": article_id,
                         "content": "<p>Merci</p>", **audience}}  # fmt: skip
    assert bob.post(Client(), create).status_code == 202
    assert Reply.objects.get().thread.key == french.thread_key


def test_when_the_original_is_withdrawn_the_translation_is_not_sent_alone(queued, site_builder):
    report = site_builder.report("Housing report")
    french = translate(site_builder, report)
    ReportPage.objects.get(pk=report.pk).unpublish()  # as the admin does: the page as stored
    assert queued[-1]["type"] == "Delete"
    french.save_revision().publish()
    assert [item["type"] for item in queued] == ["Create", "Update", "Delete"]


def test_a_translation_published_before_federation_knew_the_original_creates_the_original_once(
    federation, site_builder, bob, monkeypatch
):
    federation.enabled = False
    federation.save()
    report = site_builder.report("Housing report")
    federation.enabled = True
    federation.save()
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    sent: list[dict] = []
    monkeypatch.setattr(delivery, "queue", lambda activity, inboxes: sent.append(activity))
    translate(site_builder, report)
    assert [(item["type"], item["object"]["name"]) for item in sent] == [("Create", "Housing report")]
    assert list(sent[0]["object"]["contentMap"]) == ["en", "fr"]
