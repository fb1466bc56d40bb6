"""What is taken back while federation is off (a reply anonymised, removed or deleted, a report
made private, unpublished or deleted), or by a re-import, leaves the Fediverse: its Delete (and
an edit's Update) goes once federation is on again, once, and nothing goes while it is off."""

from __future__ import annotations

import pytest
from wagtail.models import PageViewRestriction

from speakout.discussion import services
from speakout.discussion.models import Reply
from speakout.discussion.services import Author, submit_reply
from speakout.federation import delivery, replies_out
from speakout.federation.models import Delivery, FederatedReply, PublishedArticle

from .helpers import make_user

pytestmark = pytest.mark.django_db


def _switch(federation, on: bool) -> None:
    federation.enabled = on
    federation.save()


def _on_the_wire(wire: list[dict]) -> list[tuple[str, str]]:
    """What the worker sends now: (type, object id) of each activity."""
    wire.clear()
    delivery.deliver_due()
    return [(sent["type"], sent["object"]["id"]) for sent in wire]


def _federated_reply(thread, wire) -> Reply:
    data = {"thread": thread.key, "body": "Signed with my name.", "federate": True}
    reply = submit_reply(thread=thread, data=data, author=Author(user=make_user("ines")), checks=[],
                         check_form_token=False).stored  # fmt: skip
    assert ("Create", replies_out.note_id(reply)) in _on_the_wire(wire)
    return reply


def _then_on_again(federation, wire) -> list[tuple[str, str]]:
    assert _on_the_wire(wire) == [], "sent while federation was off"
    _switch(federation, True)
    sent = _on_the_wire(wire)
    _switch(federation, False)
    _switch(federation, True)
    assert _on_the_wire(wire) == [], "sent twice"
    return sent


@pytest.mark.parametrize("how", ["anonymise", "spam", "trash", "delete", "ban"])
def test_a_reply_taken_back_while_federation_was_off_is_deleted_once_it_is_on(member_replies, federation, wire, how):
    from speakout.privacy import services as privacy

    report, thread = member_replies
    reply = _federated_reply(thread, wire)
    note = replies_out.note_id(reply)
    _switch(federation, False)
    if how == "anonymise":
        assert privacy.anonymise(privacy.Owner.for_user(reply.user), reply)
    elif how == "delete":
        services.delete_permanently(reply, reason="Deleted by its author.")
    elif how == "ban":
        services.ban_commenter(reply.commenter, reason="Abuse.")
    else:
        services.set_status(reply, how, reason="Off topic.")
    assert _then_on_again(federation, wire) == [("Delete", note)]


def test_a_reply_and_a_report_edited_while_federation_was_off_are_updated_once_it_is_on(
    member_replies, federation, wire
):
    """Their writers may have taken something out (a phone number, a name): followers' copies
    follow once federation is on again."""
    report, thread = member_replies
    reply = _federated_reply(thread, wire)
    article = PublishedArticle.objects.get(page_id=report.pk).object_id
    _switch(federation, False)
    assert services.edit_reply(reply, "Signed, without my number.", Author(user=reply.user)).ok
    report.standfirst = "Dry, and no names."
    report.save_revision().publish()
    sent = _then_on_again(federation, wire)
    assert sorted(sent) == sorted([("Update", replies_out.note_id(reply)), ("Update", article)])
    note = Delivery.objects.get(payload__type="Update", payload__object__id=replies_out.note_id(reply)).payload
    assert "without my number" in note["object"]["content"]


@pytest.mark.parametrize("how", ["private", "unpublished", "deleted"])
def test_a_report_taken_back_while_federation_was_off_is_deleted_with_its_replies_once_it_is_on(
    member_replies, federation, wire, how
):
    report, thread = member_replies
    reply = _federated_reply(thread, wire)
    article = PublishedArticle.objects.get(page_id=report.pk).object_id
    _switch(federation, False)
    if how == "private":
        PageViewRestriction.objects.create(page=report, restriction_type=PageViewRestriction.PASSWORD, password="x")
    elif how == "unpublished":
        report.unpublish()
    else:
        report.delete()
    sent = _then_on_again(federation, wire)
    assert sorted(sent) == sorted([("Delete", article), ("Delete", replies_out.note_id(reply))])


def test_a_translation_withdrawn_while_federation_was_off_leaves_the_original_s_article(
    member_replies, federation, wire, site_builder
):
    report, _thread = member_replies
    site_builder.translate(site_builder.home, "fr", title="Collectif")
    site_builder.translate(site_builder.index, "fr", title="Rapports")
    french = site_builder.translate(report, "fr", title="Rivières", standfirst="Sec.")
    delivery.deliver_due()
    _switch(federation, False)
    french.unpublish()
    assert _on_the_wire(wire) == []
    _switch(federation, True)
    delivery.deliver_due()
    (update,) = wire
    assert update["type"] == "Update" and list(update["object"]["contentMap"]) == ["en"]


def test_a_federated_reply_a_reimport_moves_to_spam_leaves_the_fediverse(member_replies, wire, tmp_path):
    """A re-import writes its changes in bulk, past the moderation path's signal; the Note must
    still be taken back."""
    from speakout.interchange.importers import run_import
    from speakout.publishing.models import ReportPage
    from tests.interchange.helpers import FIXTURES

    edge = FIXTURES / "edge-cases.xml"
    run_import(edge)
    survey = ReportPage.objects.get(title="Winter heating survey")
    survey.save_revision().publish()  # on the Fediverse
    lena = Reply.objects.get(thread__key=survey.thread_key, external_id="wp:9")
    # Lena's reply, now a member's reply on the Fediverse.
    Reply.objects.filter(pk=lena.pk).update(user=make_user("lena"))
    FederatedReply.objects.create(reply=lena, object_id=replies_out.note_id(lena), outgoing=True)
    assert replies_out.sync(lena) == "Create"
    later = tmp_path / "later.xml"
    text = edge.read_text(encoding="utf-8")
    approved = "Still waiting.]]></wp:comment_content>\n\t\t<wp:comment_approved><![CDATA[1]]>"
    assert approved in text
    later.write_text(text.replace(approved, approved.replace("[1]", "[spam]")), encoding="utf-8")
    wire.clear()
    run_import(later)
    assert Reply.objects.get(pk=lena.pk).status == Reply.Status.SPAM
    assert ("Delete", replies_out.note_id(lena)) in _on_the_wire(wire)
    assert not FederatedReply.objects.get(reply=lena).announced
