"""After its writer anonymises a reply, no row of any table holds their name, website or the
earlier words they edited away (a signature, say): not a reader's report of it (which keeps the
text as reported), not the reason the spam filter held it for, nor a moderator's alert written
again. The current text stays, as docs/privacy.md promises, and nothing else of theirs.

The walk is test_erasure's: every text field of every model of every installed app."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from speakout.discussion.models import Flag, Reply
from speakout.discussion.services import Author, edit_reply, flag_reply
from speakout.outbox.models import OutgoingMail
from speakout.privacy.services import Owner, anonymise
from speakout.safety import evidence, spam
from speakout.safety.models import SafetySettings
from tests.privacy.helpers import Kept, rows_holding

pytestmark = pytest.mark.django_db

PERSON = "zephyrine@example.org"
NAME = "Zephyrine Quillfeather"
WEBSITE = "https://quillsite.example/about"
FIRST = f"The landlord's name is on the lease. — {NAME}, the tall one at the market"
NOW = "The landlord's name is on the lease."
# The spam filter's word counts: an aggregate of every decided reply, rebuilt daily from the
# replies as they are now (docs/safety.md), so an anonymised name leaves it at the next rebuild.
SPAM_MODEL = Kept("speakout_safety.SpamModel", frozenset({"spam_tokens", "ham_tokens"}), "rebuilt daily")

# The writer's own record (their address, the name and website they last gave): anonymising one
# reply cuts the reply off it; "forget me" deletes it.
THEIR_RECORD = Kept("speakout_discussion.Commenter", frozenset({"display_name", "website"}), "the person's own")


@pytest.fixture
def a_filter_that_distrusts_the_name(db):
    """A spam filter that learnt the writer's name and website from earlier decisions: their
    reply is held for review with the reasons quoting them."""
    spam.save_model(
        spam.NaiveBayes(
            spam_documents=20,
            ham_documents=20,
            spam_tokens={"~name:quillfeather": 400, "~website:quillsite.example": 400},
            ham_tokens={"thanks": 400, "agree": 400},
        )
    )
    rules = SafetySettings.load()
    rules.spam_hold_score, rules.spam_score = 60, 0
    rules.save()


def test_anonymising_leaves_no_copy_of_the_name_website_or_earlier_words(
    post_reply, thread, a_filter_that_distrusts_the_name
):
    moderator = get_user_model().objects.create_superuser("mona", "mona@example.org", "x")
    guest = Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
    posted = post_reply(thread, author=guest, email=PERSON, name=NAME, website=WEBSITE, body=FIRST)
    assert posted.ok, posted.errors
    reply = posted.reply
    assert reply.status == Reply.Status.PENDING and "quillfeather" in reply.moderation_reason
    flag_reply(reply, Flag.Reason.PERSONAL_INFORMATION, client_hash="reader-hash")
    assert edit_reply(reply, NOW, guest).ok
    for marker in ("quillfeather", "quillsite", "tall one"):
        assert rows_holding(marker), f"the test sees no copy of {marker!r} before anonymising"

    assert anonymise(Owner.for_email(PERSON), Reply.objects.get(pk=reply.pk))
    # A moderator holds it as evidence afterwards: the sealed copy has no earlier one either.
    evidence.hold_reply(Reply.objects.get(pk=reply.pk), actor=moderator, reason="Names a landlord")

    for marker in ("quillfeather", "quillsite", "tall one"):
        left = rows_holding(marker, [SPAM_MODEL, THEIR_RECORD])
        assert left == [], f"{marker} is still in {left}"
    kept = Reply.objects.get(pk=reply.pk)
    assert kept.body == NOW and kept.author_name == "Anonymous", "the text stays"
    assert Flag.objects.filter(reply=kept).exists(), "so does the report"
    alert = OutgoingMail.objects.get(dedupe_key__startswith=f"moderation-held:{kept.pk}:")
    assert "Spam score 100%" in alert.text_body, "the moderators still hear of it, and why"


def test_anonymising_keeps_a_hold_reason_that_never_named_the_writer(
    post_reply, thread, a_filter_that_distrusts_the_name
):
    """Only what names the writer goes: a reason another check wrote stays for the moderators."""
    guest = Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
    reply = post_reply(thread, author=guest, email=PERSON, name=NAME, website=WEBSITE, body=FIRST).reply
    Reply.objects.filter(pk=reply.pk).update(moderation_reason="Too many links (3).")
    assert anonymise(Owner.for_email(PERSON), Reply.objects.get(pk=reply.pk))
    assert Reply.objects.get(pk=reply.pk).moderation_reason == "Too many links (3)."
