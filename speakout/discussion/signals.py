"""Signals of the discussion app. All are sent inside the transaction that made the change, so a
receiver that writes rows (an outbox mail, a notification) commits or rolls back with it.

reply_posted(sender=Reply, reply, outcome, notify_replies, notify_posts, email, notify_answers, notify_outcome,
             federate)
    A new reply was stored. ``outcome`` is "published" or "held" (held covers pending and spam).
    A published reply is counted in its thread's ``approved_count`` (and the thread's version
    bumped) after the receivers have run, in the same transaction.
    ``notify_replies`` and ``notify_posts`` are the form's "notify me of new comments / new posts
    by email" boxes (booleans); the discussion only carries them, a listener acts on them.
    ``notify_answers`` ("email me when someone answers this reply") and ``notify_outcome`` ("tell
    me what the moderators decide") are the writer's wishes about this reply, already resolved to
    booleans (a front end that sent neither gets ``ReplyForm.by_default``).
    ``federate``: the writer ticked "also post this reply to the Fediverse" (a wish: the
    federation app decides whether this writer may).
    ``email`` is the address the guest typed: a claim nobody has proved (the reply's commenter
    may not hold it), good only for a message that asks its owner to confirm.
reply_edited(sender=Reply, reply)
    Its author changed the text.
reply_moderated(sender=Reply, reply, old_status, new_status, actor, reason, action, notice)
    A moderator (``moderation.perform``), the author deleting, or another app's rule changed its
    status. ``action`` names the decision as the moderation log does ("approved", "spam",
    "trash", "author_delete", "evidence_hold"...; "import" for an approved reply a re-import
    took out of sight); ``actor`` is None when no moderator made it.
    ``notice``: the kind words the organisation wrote, which the moderator chose to send the
    writer with a removal ("" for none); a listener sends them only to a writer who asked to be
    told at a proven address.
    The one signal for moderation outcomes: listen here to tell the writer or learn from it.
reply_flagged(sender=Reply, reply, flag)
    A reader reported it.
reply_anonymised(sender=Reply, reply)
    Its writer had their name, website and every link back to them dropped (the text stays).
    Anything that carried the old name elsewhere should take it back.
reply_deleted(sender=Reply, reply)
    It is being deleted for good (by its writer, a moderator, the retention purge or its Fediverse
    author); sent before the row goes, so ``reply`` and what hangs off it can still be read.
    Anything that carried its name or text elsewhere (a mail not yet sent) should be dropped.
"""

from django.dispatch import Signal

reply_posted = Signal()
reply_edited = Signal()
reply_moderated = Signal()
reply_flagged = Signal()
reply_anonymised = Signal()
reply_deleted = Signal()
