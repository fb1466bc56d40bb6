"""Serving a Contact page: the form on GET, and its POST (no JavaScript needed).

A rejected form comes back with status 400 (429 when sending too often, 503 when the message
could not be stored) and everything typed; a sent one redirects (303) to ``?sent=1``. A message a
filter caught (honeypot, block words) is stored for a person to check and redirects to ``?held=1``,
which says so: the sender is never told it reached anyone when it did not.
"""

from __future__ import annotations

import logging

from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from wagtail.models import Site

from speakout.discussion.clients import client_hash
from speakout.discussion.forms import issue_form_token, read_form_token
from speakout.discussion.views import undecodable_fields
from speakout.pagecache.holes import per_request

from . import services
from .forms import ContactForm

logger = logging.getLogger("speakout.contact")


def _render(page, request, form=None, *, sent=False, held=False, status=200):
    context = page.get_context(request)
    context.update(form=form, sent=sent, held=held)
    return TemplateResponse(request, page.get_template(request), context, status=status)


def _fresh_form(page, request, data=None) -> ContactForm:
    """A form (bound to ``data`` if given, so the typed text comes back) with a new time-trap token;
    one shown again with an error may be sent at once."""
    offered = bool(services.copy_address(request.user, ""))
    if data is None:
        token = per_request(request, issue_form_token, services.form_key(page))
        return ContactForm(initial={"form_token": token}, topics=page.topic_list, copy_offered=offered)
    data = data.copy()
    data["form_token"] = issue_form_token(services.form_key(page), after_error=True)
    return ContactForm(data, topics=page.topic_list, copy_offered=offered)


def _inbox_url(request) -> str:
    try:
        return request.build_absolute_uri(reverse("speakout_contact:index"))
    except NoReverseMatch:
        return ""


def serve_contact_page(page, request, *args, **kwargs):
    if request.method != "POST":
        sent = request.GET.get("sent") == "1"
        held = not sent and request.GET.get("held") == "1"
        done = sent or held
        return _render(page, request, None if done else _fresh_form(page, request), sent=sent, held=held)

    form = _fresh_form(page, request, request.POST)
    bad_fields = undecodable_fields(request)
    if bad_fields:
        form.is_valid()
        for name in bad_fields:
            message = _("This text is not valid UTF-8. Please paste it again.")
            form.add_error(name if name in form.fields else None, message)
        return _render(page, request, form, status=400)
    if not form.is_valid():
        return _render(page, request, form, status=400)

    site = Site.find_for_request(request)
    try:
        outcome = services.submit_message(
            page,
            form.cleaned_data,
            client_hash=client_hash(request),
            form_age=read_form_token(request.POST.get("form_token", ""), services.form_key(page)),
            honeypot=form.cleaned_data.get("homepage", ""),
            inbox_url=_inbox_url(request),
            site_name=site.site_name if site else "",
            copy_to=services.copy_address(request.user, form.cleaned_data["email"])
            if form.cleaned_data.get("send_copy")
            else "",
            user=request.user,
        )
    except Exception:
        # The transaction rolled back: nothing was stored or queued. The text is kept.
        logger.exception("Could not store a contact message")
        form.add_error(None, _("Your message could not be sent. Please try again in a moment."))
        return _render(page, request, form, status=503)
    if not outcome.ok:
        error = outcome.error
        if outcome.code == "form_expired":
            error = _("This form has expired. Your text is still here: please send it again.")
        form.add_error(None, error)
        return _render(page, request, form, status=429 if outcome.code == "rate_limit" else 400)
    landing = "held" if outcome.code == "spam" else "sent"
    return HttpResponseRedirect(f"{page.get_url(request)}?{landing}=1", status=303)
