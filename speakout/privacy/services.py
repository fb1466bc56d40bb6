"""A person's rights over their data: see it, export it, change or delete their replies,
anonymise them, stop all mail, and be forgotten.

Who "the person" is comes as an ``Owner``: an email address proven by a signed link, or a
signed-in account (with its verified addresses). Every action here writes in one transaction,
reuses the discussion's and the subscriptions' services (so an edit is rendered and sanitised by
the same pipeline as a new reply), and never sends anything to an address that is not proven.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q, TextField, Value
from django.db.models.functions import Cast, Upper
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from speakout.discussion import services as discussion
from speakout.discussion import signals as discussion_signals
from speakout.discussion.avatars import random_avatar_key
from speakout.discussion.models import Commenter, Flag, ModerationLogEntry, Reply, Thread, holding
from speakout.outbox.compose import render_mail
from speakout.outbox.models import OutgoingMail, SoftBounce, Suppression
from speakout.outbox.sender import organisation_name
from speakout.outbox.services import queue_mail
from speakout.subscriptions import services as subscriptions
from speakout.subscriptions.models import Subscription
from speakout.theme.languages import default_language

from . import tokens
from .app_settings import app_settings
from .models import ManageRequest
from .purge import exclude_held_evidence

logger = logging.getLogger("speakout.privacy")


def normalise(email: str) -> str:
    return (email or "").strip().lower()


# Who is asking -------------------------------------------------------------------------------


def _any_address(field_name: str, emails) -> Q:
    """Rows whose ``field_name`` is one of ``emails`` in any spelling of its case, through the
    table's index on the upper-cased address. The ``iexact`` lookup is the same comparison on
    PostgreSQL, but a ``LIKE`` on SQLite, which that index cannot serve: a scan of every row."""
    query = Q(pk__in=[])
    for email in emails:
        query |= Q(Exact(Upper(field_name), Upper(Value(email))))
    return query


def _delete_task_results(emails) -> int:
    """Delete the finished tasks of django-tasks' database queue whose arguments, result or
    traceback quote one of ``emails`` in any case (a mail server's refusal quotes the address),
    whole: not another person's address that holds it. Waiting and running ones stay: their
    arguments are what they run with, and their work may be someone else's too. The table holds
    a few days of tasks (``TASK_RESULT_DAYS``) and has no index to search, so this reads it all.
    Returns how many went."""
    if not emails or not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    query = Q(pk__in=[])
    whole = []
    for email in emails:
        # SQLite stores JSON with non-ASCII letters escaped (``\u00eb``); PostgreSQL as they are.
        for needle in {email, json.dumps(email)[1:-1]}:
            for name in ("args_text", "return_text", "traceback"):
                query |= Q(**{f"{name}__icontains": needle})
            # The address whole, not inside another one (x + it, or it + ".mail.example").
            whole.append(re.compile(rf"(?<![\w.+'-]){re.escape(needle)}(?![\w-]|\.[\w-])", re.IGNORECASE))
    quoting = (
        DBTaskResult.objects.filter(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED])
        .annotate(args_text=Cast("args_kwargs", TextField()), return_text=Cast("return_value", TextField()))
        .filter(query)
        .values_list("pk", "args_text", "return_text", "traceback")
    )
    found = [pk for pk, *texts in quoting if any(p.search(text or "") for p in whole for text in texts)]
    return DBTaskResult.objects.filter(pk__in=found).delete()[0]


@dataclass
class Owner:
    """The person whose data a page shows: proven addresses, and an account if signed in."""

    emails: list[str] = field(default_factory=list)
    user: object | None = None

    @classmethod
    def for_email(cls, email: str) -> Owner:
        return cls(emails=[normalise(email)])

    @classmethod
    def for_user(cls, user) -> Owner:
        # The subscriptions page's rule: allauth's verified addresses (else the account's own).
        return cls(emails=subscriptions.verified_addresses(user), user=user)

    def commenters(self):
        # Through the index on the upper-cased address (``iexact`` is a LIKE on SQLite, which
        # reads every commenter).
        query = Q(pk__in=[])
        for email in self.emails:
            query |= holding(email)
        if self.user is not None:
            query |= Q(user=self.user)
        return Commenter.objects.filter(query, forget_requested_at__isnull=True)

    def all_replies(self):
        """Every reply, the ones they or a moderator put in the trash included."""
        query = Q(commenter__in=list(self.commenters().values_list("pk", flat=True)))
        if self.user is not None:
            query |= Q(user=self.user)
        return Reply.objects.filter(query).select_related("thread")

    def replies(self):
        """The replies the manage page lists: all but the trashed ones."""
        return self.all_replies().exclude(status=Reply.Status.TRASH)

    def subscriptions(self):
        return Subscription.objects.filter(_any_address("email", self.emails)).select_related("thread")

    def contact_messages(self):
        if not apps.is_installed("speakout.contact"):
            return []
        from speakout.contact.models import ContactMessage

        return ContactMessage.objects.filter(_any_address("email", self.emails))

    def addresses(self) -> list[str]:
        """The proven addresses and those of the person's commenter records, lower-cased: what
        "forget me" erases and the download shows beyond the replies and subscriptions."""
        emails = {normalise(email) for email in self.emails}
        emails.update(normalise(email) for email in self.commenters().exclude(email="").values_list("email", flat=True))
        return sorted(emails)

    def mail(self):
        return OutgoingMail.objects.filter(_any_address("to", self.addresses()))

    def manage_requests(self):
        return ManageRequest.objects.filter(_any_address("email", self.addresses()))

    def soft_bounces(self):
        # The bounce processing stores addresses lower-cased, as ``normalise`` spells them.
        return SoftBounce.objects.filter(address__in=self.addresses())

    def suppressions(self):
        return Suppression.objects.filter(address__in=self.addresses())

    def owns(self, reply: Reply) -> bool:
        return self.replies().filter(pk=reply.pk).exists()


def is_known(email: str) -> bool:
    """Whether we hold anything under this address that the manage page can act on."""
    owner = Owner.for_email(email)
    return owner.commenters().exists() or owner.subscriptions().exists()


# The link ------------------------------------------------------------------------------------


def request_manage_link(email: str, *, language: str = "") -> ManageRequest:
    """Record a request and enqueue the task that decides whether to mail. The caller's response
    must be the same either way: this does the same work for known and unknown addresses."""
    with transaction.atomic():
        request = ManageRequest.objects.create(
            email=normalise(email), language=(language or translation.get_language() or "")[:35]
        )
        transaction.on_commit(lambda: _enqueue(request.pk))
    return request


def _enqueue(request_id: int) -> None:
    from .tasks import send_manage_link_task

    try:
        send_manage_link_task.enqueue(request_id)
    except Exception:
        # The request is committed; the worker's sweep (privacy_manage_links) does the task's work.
        logger.exception("Could not enqueue the manage link task; the sweep will send the link")


# A request younger than this may still have its task waiting in the queue.
SWEEP_AFTER = timedelta(minutes=5)


def send_unsent_manage_links(now: datetime | None = None) -> int:
    """Do the task's work for requests whose task never ran (the queue failed after the commit);
    returns how many were looked at. Expired requests are left to the purge."""
    now = now or timezone.now()
    unsent = ManageRequest.objects.filter(
        handled_at__isnull=True,
        created_at__lt=now - SWEEP_AFTER,
        created_at__gte=now - timedelta(seconds=app_settings.LINK_MAX_AGE),
    )
    ids = list(unsent.order_by("pk").values_list("pk", flat=True)[:500])
    for request_id in ids:
        send_manage_link(request_id)
    return len(ids)


def manage_url(request: ManageRequest) -> str:
    base = getattr(settings, "BASE_URL", "").rstrip("/")
    return f"{base}{reverse('privacy:manage', args=[tokens.make_token(request)])}"


def send_manage_link(request_id: int) -> bool:
    request = ManageRequest.objects.filter(pk=request_id).first()
    if request is None:
        return False
    if not is_known(request.email):
        request.delete()  # nothing to manage: keep no trace of the address
        return False
    language = request.language or default_language()
    with translation.override(language), transaction.atomic():
        # Taken once: by the task, or by the sweep if the task was never queued (or comes late).
        if not ManageRequest.objects.filter(pk=request.pk, handled_at__isnull=True).update(handled_at=timezone.now()):
            return False
        context = {
            "manage_url": manage_url(request),
            "hours": app_settings.LINK_MAX_AGE // 3600,
            "site_name": organisation_name(),
            "language": language,
        }
        text, html = render_mail("privacy/email/manage_link", context, language=language)
        subject = _("Your link to manage your replies")
        queue_mail(request.email, subject, text, html, language=language, dedupe_key=f"privacy:manage:{request.pk}")
    return True


# Actions -------------------------------------------------------------------------------------


def anonymous_name() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Anonymous")


def edit(owner: Owner, reply: Reply, body: str) -> discussion.SubmissionResult:
    """Change the text within the discussion's edit window, through the discussion's pipeline."""
    if not owner.owns(reply):
        return discussion.SubmissionResult(discussion.REJECTED, reply=reply, code="forbidden")
    return discussion.edit_reply(reply, body, None, owner_confirmed=True)


def can_edit(reply: Reply) -> bool:
    return discussion.owner_can_edit(reply)


def delete(owner: Owner, reply: Reply) -> bool:
    """Delete a reply for good (at any time; replies to it stay, as replies to a removed one)."""
    if not owner.owns(reply):
        return False
    discussion.delete_permanently(reply, reason=_("Deleted by its author."))
    return True


def _anonymise(reply_id: int) -> None:
    """Keep the text; drop the name, website, avatar and every link back to the author."""
    with transaction.atomic():
        reply = Reply.objects.select_for_update().filter(pk=reply_id).first()
        if reply is None:
            return
        Reply.objects.filter(pk=reply.pk).update(
            author_name=anonymous_name(),
            author_website="",
            commenter=None,
            user=None,
            guest_key="",
            client_hash="",
            submission_id=None,
            avatar_key=random_avatar_key(),
        )
        ModerationLogEntry.objects.filter(reply_id=reply.pk).update(commenter=None)
        # The text as reported may be words its writer edited away since (a signature, say).
        Flag.objects.filter(reply_id=reply.pk).update(reported_body="")
        subscriptions.take_back_reply_notices(reply)  # they carried the old name
        Thread.objects.get(pk=reply.thread_id).bump_version()
        discussion_signals.reply_anonymised.send(sender=Reply, reply=reply)


def anonymise(owner: Owner, reply: Reply) -> bool:
    if not owner.owns(reply):
        return False
    _anonymise(reply.pk)
    return True


def stop_notifications(owner: Owner) -> int:
    """End every subscription of the owner's addresses (confirmed or not). Returns how many."""
    with transaction.atomic():
        stopped = list(owner.subscriptions().filter(unsubscribed_at__isnull=True))
        for subscription in stopped:
            subscriptions.unsubscribe(subscription)
    return len(stopped)


def forget(owner: Owner, *, delete_replies: bool = False, now: datetime | None = None) -> int:
    """Anonymise (or delete) every reply, delete the subscriptions, the stored mail to the
    addresses, the link requests, the soft bounces and the finished background tasks that quote
    an address, and mark the commenter rows to be deleted
    by the purge (``FORGET_AFTER_DAYS``). A suppression stays: deleting it would start mailing
    an address that bounced for good or complained. Returns how many replies were changed."""
    now = now or timezone.now()
    with transaction.atomic():
        # Read before the commenter records are marked, which hides them from ``commenters``.
        emails = owner.addresses()
        # A reply held as evidence stays as it was sealed until a moderator releases it.
        reply_ids = list(exclude_held_evidence(owner.all_replies()).values_list("pk", flat=True))
        for reply in Reply.objects.filter(pk__in=reply_ids).select_related("thread"):
            if delete_replies:
                discussion.delete_permanently(reply, reason=_("Deleted by its author."))
            else:
                _anonymise(reply.pk)
        owner.subscriptions().delete()
        OutgoingMail.objects.filter(_any_address("to", emails)).exclude(status=OutgoingMail.Status.SENDING).delete()
        ManageRequest.objects.filter(_any_address("email", emails)).delete()
        SoftBounce.objects.filter(address__in=emails).delete()
        _delete_task_results(emails)
        owner.commenters().update(forget_requested_at=now, user=None, display_name="", website="")
    return len(reply_ids)


def delete_account(user, *, delete_replies: bool) -> None:
    """Forget everything the account made (replies deleted or anonymised, as chosen), then
    delete the account itself. Staff accounts are removed by an administrator instead."""
    if user.is_staff or user.is_superuser:
        raise PermissionError("Staff accounts are deleted by an administrator.")
    with transaction.atomic():
        forget(Owner.for_user(user), delete_replies=delete_replies)
        user.delete()


# Export --------------------------------------------------------------------------------------


def _when(value) -> str | None:
    return value.isoformat() if value else None


def export(owner: Owner) -> dict:
    """Everything we hold under the owner's addresses and account, as plain JSON values."""
    data = {
        "generated_at": timezone.now().isoformat(),
        "site": getattr(settings, "BASE_URL", ""),
        "emails": owner.emails,
        "account": None,
        "commenters": [
            {
                "email": commenter.email,
                "handle": commenter.handle,  # the label moderators know them by
                "display_name": commenter.display_name,
                "website": commenter.website,
                "approved_replies": commenter.approved_count,
                "banned": commenter.is_banned,
                "created_at": _when(commenter.created_at),
            }
            for commenter in owner.commenters()
        ],
        "replies": [
            {
                "id": reply.pk,
                "thread": {"title": reply.thread.title, "url": reply.thread.url},
                "parent": reply.parent_id,
                "status": reply.status,
                "author_name": reply.author_name,
                "author_website": reply.author_website,
                "body": reply.body,
                "body_html": reply.body_html,
                "created_at": _when(reply.created_at),
                "edited_at": _when(reply.edited_at),
            }
            for reply in owner.replies().order_by("created_at", "pk")
        ],
        "subscriptions": [
            {
                "email": subscription.email,
                "kind": subscription.kind,
                "thread": subscription.thread.title if subscription.thread_id else None,
                "category": subscription.category,
                "frequency": subscription.frequency,
                "language": subscription.language,
                "created_at": _when(subscription.created_at),
                "confirmed_at": _when(subscription.confirmed_at),
                "unsubscribed_at": _when(subscription.unsubscribed_at),
            }
            for subscription in owner.subscriptions()
        ],
        "contact_messages": [
            {
                "name": message.name,
                "email": message.email,
                "topic": message.topic,
                "message": message.message,
                "created_at": _when(message.created_at),
            }
            for message in owner.contact_messages()
        ],
        # What was mailed or is waiting to be, without the bodies: those carry working links (a
        # manage link like the one this download came through, unsubscribe and confirmation
        # links) that a shared download would hand on, and answers quote other people's replies.
        "mail": [
            {
                "to": mail.to,
                "subject": mail.subject,
                "status": mail.status,
                "language": mail.language,
                "created_at": _when(mail.created_at),
                "sent_at": _when(mail.sent_at),
                "last_error": mail.last_error,
            }
            for mail in owner.mail().order_by("created_at", "pk")
        ],
        # Requests for this page's link, without their secret (the link's key).
        "manage_link_requests": [
            {"email": request.email, "language": request.language, "created_at": _when(request.created_at)}
            for request in owner.manage_requests().order_by("created_at", "pk")
        ],
        "suppressions": [
            {
                "address": suppression.address,
                "reason": suppression.reason,
                "detail": suppression.detail,
                "created_at": _when(suppression.created_at),
            }
            for suppression in owner.suppressions()
        ],
        "soft_bounces": [
            {"address": bounce.address, "detail": bounce.detail, "received_at": _when(bounce.received_at)}
            for bounce in owner.soft_bounces().order_by("received_at", "pk")
        ],
    }
    if owner.user is not None:
        user = owner.user
        data["account"] = {
            "username": user.get_username(),
            "name": user.get_full_name() if hasattr(user, "get_full_name") else "",
            "email": getattr(user, "email", ""),
            "date_joined": _when(getattr(user, "date_joined", None)),
            "last_login": _when(getattr(user, "last_login", None)),
            "pseudonym": _pseudonym_mark(user),
            "email_addresses": _email_addresses(user),
            "social_accounts": _social_accounts(user),
            "second_factors": _second_factors(user),
        }
    return data


def _email_addresses(user) -> list[dict]:
    """Every address allauth holds for the account, the unverified ones too: they are the
    account's data even though nothing else is looked up under them."""
    if not apps.is_installed("allauth.account"):
        return []
    from allauth.account.models import EmailAddress

    return [
        {"email": address.email, "verified": address.verified, "primary": address.primary}
        for address in EmailAddress.objects.filter(user_id=user.pk).order_by("pk")
    ]


def _social_accounts(user) -> list[dict]:
    """The logins linked from a provider, with what the provider sent about the person. Named
    fields only: the access tokens (``SocialToken``) would let whoever holds the file act as
    the person at the provider."""
    if not apps.is_installed("allauth.socialaccount"):
        return []
    from allauth.socialaccount.models import SocialAccount

    return [
        {
            "provider": account.provider,
            "uid": account.uid,
            "date_joined": _when(account.date_joined),
            "last_login": _when(account.last_login),
            "extra_data": account.extra_data,
        }
        for account in SocialAccount.objects.filter(user_id=user.pk).order_by("pk")
    ]


def _second_factors(user) -> list[dict]:
    """The second factors the account set up: their kind and dates, never their data (a TOTP
    seed or recovery codes in a passed-on file would undo the second factor)."""
    if not apps.is_installed("allauth.mfa"):
        return []
    from allauth.mfa.models import Authenticator

    return [
        {"type": factor.type, "created_at": _when(factor.created_at), "last_used_at": _when(factor.last_used_at)}
        for factor in Authenticator.objects.filter(user_id=user.pk).order_by("pk")
    ]


def _pseudonym_mark(user) -> dict | None:
    """The mark "reply under a pseudonym" left on the account (identity app), or None."""
    if not apps.is_installed("speakout.identity"):
        return None
    from speakout.identity.models import PseudonymAccount

    mark = PseudonymAccount.objects.filter(user_id=user.pk).first()
    if mark is None:
        return None
    return {"marked_at": _when(mark.created_at), "inferred": mark.inferred}
