"""HTML front end of the discussion: plain form posts that work without JavaScript.

The small script in static/discussion/ enhances the same endpoints: it asks for JSON
(``Accept: application/json``) and gets the same outcome and errors as the HTML.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.contrib import messages as django_messages
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from speakout.net import sharedreads
from speakout.pagecache.holes import is_marker, per_request

from . import app_settings, avatars, services
from .adapter import Dialect, get_adapter
from .clients import client_hash, read_guest_token, remember_guest
from .forms import EditReplyForm, FlagForm, ReplyForm, issue_form_token, new_submission_id, parse_id, thread_key_from
from .html import render_single_reply
from .models import DiscussionSettings, Reply, Thread
from .reading import ReplyNode

# Boxes of the reply form that other apps offer, by field name: functions from the request to
# whether this reader sees the box (the federation app offers "federate"). None: never shown.
FORM_OFFERS: dict[str, list] = {"federate": []}


def offers(request) -> dict[str, bool]:
    return {name: any(offer(request) for offer in found) for name, found in FORM_OFFERS.items()}


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def author_from(request, *, create_guest_token: bool = False) -> tuple[services.Author, str]:
    """The request's author, and a new guest token if one had to be made (to set as a cookie)."""
    return get_adapter().author(
        request,
        user=getattr(request, "user", None),
        guest_token=read_guest_token(request),
        create_guest_token=create_guest_token,
    )


def undecodable_fields(request) -> list[str]:
    """Names of posted fields that are not valid UTF-8. Django would silently replace the bad
    bytes; we refuse instead, so nobody's text is changed behind their back."""
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        return []
    bad = []
    for pair in request.body.split(b"&"):
        name, _sep, value = pair.partition(b"=")
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            bad.append(unquote_to_bytes(name).decode("utf-8", "replace"))
    return bad


def commenter_name(request) -> str:
    """The signed-in reader's name as the reply form shows it ("You are commenting as NAME")."""
    user = request.user
    return conditional_escape(user.get_full_name() or user.get_username())


def wishes_checked(request) -> str:
    """The boxes about the writer's own reply start ticked for a reader with a verified address."""
    return " checked" if services.verified_addresses(request.user) else ""


def _wishes_checked(request, form: ReplyForm, signed_in: bool) -> dict[str, str]:
    if form.is_bound:
        # The form again after an error: as the writer left the boxes.
        author, _token = author_from(request)
        cleaned = {
            name: form.fields[name].to_python(form.data.get(name)) for name in ("notify_answers", "notify_outcome")
        }
        wishes = services.writer_wishes(cleaned, author)
        return {name: " checked" if wanted else "" for name, wanted in wishes.items()}
    # A signed-in reader's page is their own (the page cache keeps pages for anonymous readers only).
    checked = wishes_checked(request) if signed_in else ""
    return {"notify_answers": checked, "notify_outcome": checked}


def reply_form_context(
    request, thread: Thread, *, rules: DiscussionSettings, form: ReplyForm | None = None, reply_to: Reply | None = None
) -> dict:
    signed_in = request.user.is_authenticated
    if form is None:
        # Both are per reader: a page kept for everyone gets them filled in on each response.
        initial = {
            "thread": thread.key,
            "form_token": per_request(request, issue_form_token, thread.key),
            "submission_id": per_request(request, new_submission_id),
        }
        if reply_to is not None:
            initial["parent"] = reply_to.pk
        form = ReplyForm(initial=initial, require_identity=rules.require_name_email, signed_in=signed_in)
    return {
        "thread": thread,
        "form": form,
        "reply_to": reply_to,
        "accepts_replies": thread.accepts_replies(rules.auto_close_days),
        "signed_in": signed_in,
        "commenter_name": commenter_name(request) if signed_in else "",
        # Per reader, like the name: only a signed-in reader can be offered one.
        "offers": offers(request) if signed_in else {},
        "wishes_checked": _wishes_checked(request, form, signed_in),
        "rules": rules,
        "post_url": reverse("discussion:post"),
        "logout_url": app_settings.LOGOUT_URL,
        "identity_template": app_settings.IDENTITY_TEMPLATE,
    }


@require_POST
def post_reply(request):
    # A non-public thread takes no replies and must not be named by a refusal page: it answers
    # as an unknown key does.
    key = thread_key_from(request.POST.get("thread"))
    return post_to_thread(request, get_object_or_404(Thread, key=key, is_public=True))


def post_to_thread(request, thread: Thread):
    """The form's post to ``thread``; an unsaved thread (a page's first reply) is stored with
    the reply, and not at all if the reply is refused."""
    with sharedreads.read_together(services.shared_keys()):
        return _post_to_thread(request, thread)


def _post_to_thread(request, thread: Thread):
    rules = DiscussionSettings.load()
    bad_fields = undecodable_fields(request)
    if bad_fields:
        return _rejected(
            request,
            thread,
            rules,
            errors={name: [_("This text is not valid UTF-8. Please paste it again.")] for name in bad_fields},
            status=400,
        )
    adapter = get_adapter()
    author, new_token = author_from(request, create_guest_token=True)
    data = adapter.form_data(thread.key, request.POST)
    result = adapter.submit(thread, data, author, rules=rules)
    dialect = Dialect.JSON if wants_json(request) else Dialect.HTML
    status = adapter.status(result, dialect)
    if not result.ok:
        return _rejected(request, thread, rules, errors=result.errors, status=status, confirm=result.confirm)

    reply = result.reply
    if dialect == Dialect.JSON:
        html = render_single_reply(ReplyNode(reply, display_depth=0, own=True, can_change=True))
        response = JsonResponse(
            {
                "outcome": result.outcome,
                "id": reply.pk,
                "parent": reply.parent_id,
                "html": html,
                "form_token": issue_form_token(thread.key),
            },
            status=status,
        )
    else:
        response = HttpResponseRedirect(_reply_location(reply, reply.thread), status=status)
    if new_token:
        remember_guest(response, new_token)
    return response


def _reply_location(reply: Reply, thread: Thread) -> str:
    base = thread.url or reverse("discussion:reply_edit", args=[reply.pk])
    return f"{base}#reply-{reply.pk}"


# Notices for the discussion block (``discussion_notices``) after an author's edit or deletion.
NOTICE_TAG = "discussion"


def _notice_location(thread: Thread, reply: Reply | None = None) -> str:
    if not thread.url:
        return reverse("discussion:reply_edit", args=[reply.pk]) if reply is not None else "/"
    return f"{thread.url}#discussion-notice"


def discussion_notices(request) -> list[dict]:
    """The edit and delete notices waiting for this reader (shown once, then gone), each with
    the reply it is about. Other messages stay for the page they belong to."""
    storage = django_messages.get_messages(request)
    notices, others = [], []
    for message in storage:
        tags = message.extra_tags.split()
        if NOTICE_TAG in tags:
            reply = next((tag.removeprefix("reply-") for tag in tags if tag.startswith("reply-")), "")
            notices.append({"text": str(message), "reply": reply if reply.isdigit() else ""})
        else:
            others.append(message)
    for message in others:
        django_messages.add_message(request, message.level, message.message, extra_tags=message.extra_tags)
    return notices


def _rejected(request, thread, rules, *, errors: dict, status: int, confirm: dict | None = None):
    if wants_json(request):
        body = {
            "outcome": services.Outcome.REJECTED,
            "errors": errors,
            "form_token": issue_form_token(thread.key, after_error=True),
        }
        if confirm:
            body["confirm"] = confirm
        return JsonResponse(body, status=status)
    data = request.POST.copy()
    data["form_token"] = issue_form_token(thread.key, after_error=True)
    if is_marker(data.get("submission_id", "")):  # sent without script: the page's marker
        data["submission_id"] = new_submission_id()
    form = ReplyForm(data, require_identity=rules.require_name_email, signed_in=request.user.is_authenticated)
    form.full_clean()
    # Show the service's errors (they include the policy's reasons), not a second validation.
    form._errors = ErrorDict()
    for name, messages in errors.items():
        target = name if name in form.fields or name == "__all__" else "__all__"
        for message in messages:
            form.add_error(target if target != "__all__" else None, message)
    reply_to = None
    parent_id = parse_id(request.POST.get("parent"))
    if thread.pk is not None and parent_id is not None:
        reply_to = Reply.objects.filter(pk=parent_id, thread=thread, status=Reply.Status.APPROVED).first()
    context = reply_form_context(request, thread, rules=rules, form=form, reply_to=reply_to)
    context["confirm"] = confirm or {}
    return render(request, "discussion/reply_rejected.html", context, status=status)


def _own_reply(request, reply_id: int) -> tuple[Reply, services.Author]:
    """The reader's own reply, or 404: someone else's reply answers as a missing one does, so
    its thread's address (a draft's, a restricted report's) and its existence stay unknown."""
    reply = get_object_or_404(Reply.objects.select_related("thread"), pk=reply_id)
    author, _new = author_from(request)
    if not services.is_author(reply, author):
        raise Http404
    return reply, author


@require_http_methods(["GET", "POST"])
def edit_reply(request, reply_id: int):
    reply, author = _own_reply(request, reply_id)
    if not services.can_change(reply, author):
        return render(request, "discussion/cannot_change.html", {"reply": reply}, status=403)
    if request.method == "POST":
        result = services.edit_reply(reply, request.POST.get("body", ""), author)
        if result.ok:
            if wants_json(request):
                return JsonResponse({"outcome": result.outcome, "id": reply.pk, "body_html": result.reply.body_html})
            if result.outcome == services.Outcome.HELD:
                note = _("Your reply is updated. It still waits for a moderator: only you can see it.")
            else:
                note = _("Your reply is updated.")
            # fail_silently: a project without the messages framework still edits and deletes.
            django_messages.success(request, note, extra_tags=f"{NOTICE_TAG} reply-{reply.pk}", fail_silently=True)
            return HttpResponseRedirect(_notice_location(reply.thread, reply), status=303)
        if wants_json(request):
            return JsonResponse({"outcome": services.Outcome.REJECTED, "errors": result.errors}, status=400)
        form = EditReplyForm(request.POST)
        form.is_valid()
        return render(request, "discussion/edit_reply.html", {"reply": reply, "form": form}, status=400)
    form = EditReplyForm(initial={"body": reply.body})
    return render(request, "discussion/edit_reply.html", {"reply": reply, "form": form})


@require_http_methods(["GET", "POST"])
def delete_reply(request, reply_id: int):
    reply, author = _own_reply(request, reply_id)
    if not services.can_change(reply, author):
        return render(request, "discussion/cannot_change.html", {"reply": reply}, status=403)
    if request.method == "POST":
        services.delete_own_reply(reply, author)
        if wants_json(request):
            return JsonResponse({"outcome": "deleted", "id": reply.pk})
        django_messages.success(request, _("Your reply is deleted."), extra_tags=NOTICE_TAG, fail_silently=True)
        return HttpResponseRedirect(_notice_location(reply.thread), status=303)
    return render(request, "discussion/delete_reply.html", {"reply": reply})


@require_http_methods(["GET", "POST"])
def report_reply(request, reply_id: int):
    reply = get_object_or_404(services.reportable_replies(), pk=reply_id)
    if request.method == "POST":
        form = FlagForm(request.POST)
        if form.is_valid():
            try:
                services.flag_reply(reply, form.cleaned_data["reason"], form.cleaned_data["note"], client_hash(request))
            except services.TooManyReports as error:
                form.add_error(None, str(error))
                if wants_json(request):
                    return JsonResponse(
                        {"outcome": services.Outcome.REJECTED, "errors": form.errors.get_json_data()}, status=429
                    )
                return render(request, "discussion/report_reply.html", {"reply": reply, "form": form}, status=429)
            if wants_json(request):
                return JsonResponse({"outcome": "reported", "id": reply.pk}, status=201)
            return render(request, "discussion/report_thanks.html", {"reply": reply})
        if wants_json(request):
            return JsonResponse(
                {"outcome": services.Outcome.REJECTED, "errors": form.errors.get_json_data()}, status=400
            )
        return render(request, "discussion/report_reply.html", {"reply": reply, "form": form}, status=400)
    return render(request, "discussion/report_reply.html", {"reply": reply, "form": FlagForm()})


def reply_permalink(request, reply_id: int):
    """Where a reply lives: its page, at its anchor (used by feeds and notices)."""
    # Published, on a public thread that shows its replies: any other answers as an unknown id.
    reply = get_object_or_404(services.reportable_replies(), pk=reply_id)
    if not reply.thread.url:
        return HttpResponse(status=404)
    return HttpResponseRedirect(_reply_location(reply, reply.thread))


AVATAR_MAX_AGE = 365 * 24 * 3600


@require_http_methods(["GET", "HEAD"])
def avatar(request, key: str):
    """The picture for an avatar key. It depends on the key alone, so it never changes: cached
    for a year by browsers and any CDN, and it reads nothing from the database."""
    if not avatars.KEY_PATTERN.match(key):
        return HttpResponse(status=404)
    response = HttpResponse(avatars.render_svg(key), content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={AVATAR_MAX_AGE}, immutable"
    return response
