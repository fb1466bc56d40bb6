"""The Leave a Reply form: field rules shared by the HTML form and the JSON API.

Every rule gives a field-specific message, and a rejected form keeps what was typed.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
import time
import unicodedata
import uuid
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from speakout.net import sharedreads
from speakout.pagecache.holes import is_marker

from . import app_settings
from .models import Flag

BODY_MAX_LENGTH = 65535
NAME_MAX_LENGTH = 100
_FORM_TOKEN_SALT = "speakout.discussion.form"

# Characters that can disguise a name or reorder text on screen.
INVISIBLE_OR_BIDI = {
    *map(chr, range(0x200B, 0x2010)),  # zero-width space/joiners, LRM, RLM
    *map(chr, range(0x202A, 0x202F)),  # bidi embeddings and overrides
    *map(chr, range(0x2060, 0x2065)),  # word joiner, invisible operators
    *map(chr, range(0x2066, 0x206A)),  # bidi isolates
    "\u00ad",  # soft hyphen
    "\u034f",  # combining grapheme joiner
    "\u061c",  # Arabic letter mark
    "\u115f",
    "\u1160",
    "\u3164",  # Hangul fillers
    "\ufeff",  # byte-order mark / zero-width no-break space
}


def issue_form_token(thread_key: str, issued_at: float | None = None, *, after_error: bool = False) -> str:
    """A signed time stamp for the time trap (forms sent within seconds are held, forms older than
    a day refused). ``after_error``: the form is shown again with an error, and a person fixing it
    may send it at once, so the trap's minimum does not apply to it."""
    data = {"k": thread_key, "t": issued_at or time.time()}
    if after_error:
        data["e"] = 1
    return signing.dumps(data, salt=_FORM_TOKEN_SALT, compress=True)


def new_submission_id() -> str:
    """A fresh id for one form, so a resent form (a double click) stores one reply."""
    return uuid.uuid4().hex


def read_form_token(token: str, thread_key: str) -> float | None:
    """Seconds since the form was issued, or None if the token is missing, forged or foreign.

    Where the age cannot be known or does not count, the answer is the trap's minimum, which
    passes it: a form from a cached page sent without its script (the token is still the page's
    fill marker, the same for every reader), and a form shown again after an error."""
    if is_marker(token):
        return float(app_settings.MIN_SECONDS_TO_SUBMIT)
    try:
        data = signing.loads(token, salt=_FORM_TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") != thread_key:
        return None
    try:
        age = time.time() - float(data["t"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(age, float(app_settings.MIN_SECONDS_TO_SUBMIT)) if data.get("e") else age


def has_unsafe_characters(text: str, allow_newlines: bool) -> bool:
    for char in text:
        if char in INVISIBLE_OR_BIDI:
            return True
        if unicodedata.category(char) in {"Cc", "Cs"} and not (allow_newlines and char in "\n\r\t"):
            return True
    return False


def plain_name(name: str) -> str:
    """``name``, refused if it holds invisible or control characters (a line break included)."""
    if has_unsafe_characters(name, allow_newlines=False):
        raise forms.ValidationError(
            _("The name contains invisible or control characters. Please type it plainly."), code="characters"
        )
    return name


def single_address(email: str) -> str:
    """``email`` as one mailbox, its domain in lower case; refused if it could carry a header or
    a second address."""
    if any(char in email for char in "\r\n\0,;<>") or has_unsafe_characters(email, allow_newlines=False):
        raise forms.ValidationError(_("Enter a valid email address."), code="invalid")
    try:
        validate_email(email)
    except forms.ValidationError as error:
        raise forms.ValidationError(_("Enter a valid email address."), code="invalid") from error
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def comparable_name(name: str) -> str:
    """Fold look-alike spellings together (compatibility forms, case, accents)."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(char for char in folded if not unicodedata.combining(char) and not char.isspace())


STAFF_NAMES_KEY = "speakout:discussion:staff-names"
STAFF_NAMES_SECONDS = 60  # a change made without saving a user (a bulk update) shows within this


def staff_names() -> set[str]:
    """The staff's user names and full names, compared folded. Read on every reply, so kept in
    the shared cache, which forgets them whenever a user is saved or deleted."""
    names = sharedreads.get(STAFF_NAMES_KEY)
    if names is None:
        names = set()
        User = get_user_model()
        staff = User.objects.filter(is_staff=True).values_list("username", "first_name", "last_name")
        for username, first, last in staff:
            names.add(comparable_name(username))
            if first or last:
                names.add(comparable_name(f"{first}{last}"))
        cache.set(STAFF_NAMES_KEY, names, STAFF_NAMES_SECONDS)
    return names


def forget_staff_names(**kwargs) -> None:
    """A user changed: read the staff's names again (now, and once the change is committed, so
    a request reading the old names meanwhile cannot keep them)."""
    cache.delete(STAFF_NAMES_KEY)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete(STAFF_NAMES_KEY))


@functools.lru_cache(maxsize=8)
def _folded(names: tuple[str, ...]) -> frozenset[str]:
    # Keyed by the setting's value itself, so a changed setting is folded afresh.
    return frozenset(comparable_name(name) for name in names)


def reserved_names() -> frozenset[str]:
    return (_folded(tuple(app_settings.RESERVED_NAMES)) | staff_names()) - {""}


def validate_website(value: str) -> str:
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError as error:
        raise forms.ValidationError(_("Enter a valid website address."), code="invalid") from error
    if parts.scheme not in {"http", "https"}:
        raise forms.ValidationError(_("The website must start with http:// or https://."), code="scheme")
    if parts.username or parts.password:
        raise forms.ValidationError(
            _("The website address must not contain a user name or password."), code="credentials"
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise forms.ValidationError(_("Enter a full website address."), code="host")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise forms.ValidationError(_("The website must be a public address."), code="private")
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None and not ip.is_global:
        raise forms.ValidationError(_("The website must be a public address."), code="private")
    return value


_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value) -> int | None:
    """A reply id from a query string or form field, or None. ``str.isdigit`` is not enough:
    it accepts "²", which ``int`` refuses."""
    value = value if isinstance(value, str) else ""
    return int(value) if _ID.fullmatch(value) else None


def thread_key_from(value) -> str:
    """A thread key from a form field, or "" (no thread has it): a NUL cannot be in a key, and
    PostgreSQL refuses to compare text holding one."""
    return value if isinstance(value, str) and "\0" not in value else ""


class DefaultableBoolean(forms.CheckboxInput):
    """A box that may be missing from the data: then its value is None ("as the site decides"),
    not False. The HTML form sends a hidden "0" before the box, so an unticked box is a no."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        return None if value is None else value


class DefaultableBooleanField(forms.Field):
    widget = DefaultableBoolean

    def to_python(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return value.strip().lower() not in ("0", "false", "off", "no")
        return bool(value)

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial) != self.to_python(data)


def _copied_by_default(cls: type) -> bool:
    """Whether ``copy.copy`` of an instance of ``cls`` is Python's default: a new instance with
    the same attributes (no ``__copy__``, no reduce or state hooks, no slots)."""
    return (
        getattr(cls, "__copy__", None) is None
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and cls.__getstate__ is object.__getstate__
        and getattr(cls, "__setstate__", None) is None
        and not any("__slots__" in vars(base) for base in cls.__mro__[:-1])
    )


_PLAIN_COPY: dict[type, bool] = {}


def _copies_plainly(field: forms.Field) -> bool:
    """Whether Django's deepcopy of this field is exactly ``Field.__deepcopy__`` and
    ``Widget.__deepcopy__`` over Python's default copy: true of plain fields and widgets, not
    of choice or multi-value fields, which copy more."""
    kinds = (type(field), type(field.widget))
    known = _PLAIN_COPY.get(kinds)  # type: ignore[call-overload]
    if known is None:
        known = _PLAIN_COPY[kinds] = (  # type: ignore[index]
            kinds[0].__deepcopy__ is forms.Field.__deepcopy__
            and kinds[1].__deepcopy__ is forms.Widget.__deepcopy__
            and _copied_by_default(kinds[0])
            and _copied_by_default(kinds[1])
        )
    return known


def _plain_copy(instance: Any) -> Any:
    copied = object.__new__(type(instance))
    copied.__dict__.update(instance.__dict__)
    return copied


class PlainlyCopiedFields(dict):
    """A form's ``base_fields`` whose deepcopy (made by every form instance) does what Django's
    ``Field.__deepcopy__`` and ``Widget.__deepcopy__`` do, without ``copy.deepcopy``'s generic
    machinery, which cost a reply post more than validating the fields. A field that copies
    differently is deep-copied as before. tests/discussion/test_form_copy.py compares the two."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        fields = {}
        for name, field in self.items():
            if not _copies_plainly(field):
                fields[name] = copy.deepcopy(field, memo)
                continue
            # Field.__deepcopy__, then Widget.__deepcopy__ for its widget.
            result = _plain_copy(field)
            widget = result.widget = _plain_copy(field.widget)
            widget.attrs = field.widget.attrs.copy()
            result.error_messages = field.error_messages.copy()
            result.validators = field.validators[:]
            memo[id(field)], memo[id(field.widget)] = result, widget
            fields[name] = result
        return fields


class CleanedWithoutBoundFields:
    """A form whose validation reads each field's data without making its BoundField, as
    Django's ``BaseForm._clean_fields`` does through one: made for every field of every post,
    they cost more than the validation (a BoundField translates its help text when made). The same data
    (``_widget_data_value`` under the prefixed name), the same ``clean`` and ``clean_<name>``
    calls in the same order, the same errors. A disabled field, or one that cleans its bound
    field its own way (a file field), takes Django's path. tests/discussion/test_form_clean.py
    checks the results against Django's and fails on the upgrade that changes its method."""

    def _clean_fields(self) -> None:
        form: Any = self
        fields = form.fields
        for field in fields.values():
            if field.disabled or type(field)._clean_bound_field is not forms.Field._clean_bound_field:
                super()._clean_fields()  # type: ignore[misc]
                return
        for name, field in fields.items():
            try:
                form.cleaned_data[name] = field.clean(form._widget_data_value(field.widget, form.add_prefix(name)))
                cleaner = getattr(form, f"clean_{name}", None)
                if cleaner is not None:
                    form.cleaned_data[name] = cleaner()
            except forms.ValidationError as error:
                form.add_error(name, error)


class ReplyForm(CleanedWithoutBoundFields, forms.Form):
    """What a guest or signed-in reader sends. Identity fields are ignored for signed-in readers."""

    thread = forms.CharField(widget=forms.HiddenInput, max_length=255)
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH, required=False, strip=True)
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        help_text=_("Never shown to anyone. Used only for notices you ask for."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    website = forms.CharField(
        label=_("Website"), max_length=500, required=False, widget=forms.URLInput(attrs={"autocomplete": "url"})
    )
    body = forms.CharField(
        label=_("Reply"),
        max_length=BODY_MAX_LENGTH,
        strip=True,
        help_text=_(
            "You can use Markdown: *emphasis*, **strong**, [links](https://…), > quotes, lists and `code`. "
            "HTML is shown as typed."
        ),
        widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
        error_messages={
            "required": _("Write something before sending."),
            "max_length": ngettext_lazy(
                "A reply can be at most %(limit_value)d character long (it has %(show_value)d).",
                "A reply can be at most %(limit_value)d characters long (it has %(show_value)d).",
                "limit_value",
            ),
        },
    )
    # Carried to the ``reply_posted`` signal; whoever listens (the subscriptions app) acts on them.
    notify_replies = forms.BooleanField(label=_("Notify me of new comments by email"), required=False)
    notify_posts = forms.BooleanField(label=_("Notify me of new posts by email"), required=False)
    # The writer's wishes about this reply. Missing (None): ``by_default`` decides, so a front end
    # that shows no box gets what the HTML form shows ticked.
    notify_answers = DefaultableBooleanField(label=_("Email me when someone answers this reply"), required=False)
    notify_outcome = DefaultableBooleanField(
        label=_("Email me if a moderator publishes or removes this reply"), required=False
    )
    # Stored on the reply; a policy check (speakout.safety.pileon) holds answers from commenters
    # who have no approved reply yet.
    approved_repliers_only = forms.BooleanField(
        label=_("Only approved commenters may reply to me"),
        required=False,
        help_text=_("Replies to this one from people new here wait until a moderator has read them."),
    )
    # Carried to ``reply_posted``; the federation app sends the reply to the Fediverse when the
    # writer may (a verified account, not a guest or a pseudonym) and the admin allows it.
    federate = forms.BooleanField(
        label=_("Also post this reply to the Fediverse"),
        required=False,
        help_text=_(
            "Followers of this site on Mastodon and similar services will see it, with your name, "
            "from the site's account. Removing it here removes it there."
        ),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Checked in clean_submission_id: a fill marker sent as it is (no script) is longer than 64.
    submission_id = forms.CharField(widget=forms.HiddenInput, required=False)
    # Honeypot: rendered inside a `hidden` element (never shown, focused or announced); bots fill it in.
    homepage = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, require_identity: bool = True, signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.signed_in = signed_in
        self.require_identity = require_identity and not signed_in
        if not self.is_bound:
            self.fields["submission_id"].initial = new_submission_id()
        self.fields["name"].widget.attrs.update({"autocomplete": "name", "maxlength": NAME_MAX_LENGTH})
        self.fields["homepage"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_submission_id(self) -> str:
        value = self.cleaned_data.get("submission_id", "")
        if is_marker(value):
            return ""  # the page's marker, the same for every reader without script: no id
        if len(value) > 64:
            raise forms.ValidationError(_("This form is damaged. Please reload the page."))
        return value

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name", "")
        if self.signed_in:
            return name
        if not name:
            if self.require_identity:
                raise forms.ValidationError(_("Please give a name (any name you like)."), code="required")
            return ""
        plain_name(name)
        if comparable_name(name) in reserved_names():
            # Whose name it is stays unsaid, and the refusal spends the writer's refusal budget.
            raise forms.ValidationError(_("That name cannot be used here. Please choose another."), code="reserved")
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "").strip()
        if self.signed_in:
            return ""
        if not email:
            if self.require_identity:
                raise forms.ValidationError(_("Please give an email address. It is never shown."), code="required")
            return ""
        return single_address(email)

    def clean_website(self) -> str:
        website = self.cleaned_data.get("website", "").strip()
        if self.signed_in and not website:
            return ""
        scheme, colon, rest = website.partition(":")
        if colon and scheme and "." not in scheme and "/" not in scheme and scheme.lower() not in ("http", "https"):
            raise forms.ValidationError(_("The website must start with http:// or https://."), code="scheme")
        if website and "://" not in website:
            website = "https://" + website
        if has_unsafe_characters(website, allow_newlines=False) or any(char.isspace() for char in website):
            raise forms.ValidationError(_("Enter a valid website address."), code="invalid")
        website = validate_website(website)
        if website:
            try:
                URLValidator(schemes=["http", "https"])(website)
            except forms.ValidationError as error:
                raise forms.ValidationError(_("Enter a valid website address."), code="invalid") from error
        return website

    def clean_body(self) -> str:
        # One line ending, as a browser would send it: a lone CR (old Mac, some API clients) too.
        body = self.cleaned_data.get("body", "").replace("\r\n", "\n").replace("\r", "\n")
        if _has_control(body):
            raise forms.ValidationError(
                _("The reply contains control characters that cannot be stored."), code="characters"
            )
        if not body:
            raise forms.ValidationError(_("Write something before sending."), code="required")
        return body


ReplyForm.base_fields = PlainlyCopiedFields(ReplyForm.base_fields)


def _has_control(text: str) -> bool:
    """Control characters other than line breaks and tabs (bidi marks are allowed in bodies:
    right-to-left writers need them)."""
    return any(unicodedata.category(char) in {"Cc", "Cs"} and char not in "\n\r\t" for char in text)


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you reporting this reply?"), choices=Flag.Reason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Anything moderators should know (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )


class EditReplyForm(forms.Form):
    body = ReplyForm.base_fields["body"]

    def clean_body(self) -> str:
        # One line ending, as a browser would send it: a lone CR (old Mac, some API clients) too.
        body = self.cleaned_data.get("body", "").replace("\r\n", "\n").replace("\r", "\n")
        if _has_control(body):
            raise forms.ValidationError(
                _("The reply contains control characters that cannot be stored."), code="characters"
            )
        return body
