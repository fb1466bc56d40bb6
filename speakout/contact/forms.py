"""The contact form. Field rules follow the reply form's (speakout.discussion.forms): every rule
gives a field-specific message, and a rejected form keeps what was typed."""

from __future__ import annotations

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from speakout.discussion.forms import NAME_MAX_LENGTH, plain_name, single_address

MESSAGE_MAX_LENGTH = 10_000


class ContactForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": _("Please give a name (any name you like)."),
            "max_length": ngettext_lazy(
                "A name can be at most %(limit_value)d character long (it has %(show_value)d).",
                "A name can be at most %(limit_value)d characters long (it has %(show_value)d).",
                "limit_value",
            ),
        },
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        help_text=_("We answer to this address. It is never shown to anyone."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Please give an email address so that we can answer.")},
    )
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    message = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8, "dir": "auto"}),
        error_messages={
            "required": _("Write something before sending."),
            "max_length": ngettext_lazy(
                "A message can be at most %(limit_value)d character long (it has %(show_value)d).",
                "A message can be at most %(limit_value)d characters long (it has %(show_value)d).",
                "limit_value",
            ),
        },
    )
    send_copy = forms.BooleanField(
        label=_("Send me a copy"),
        required=False,
        help_text=_("To your account's verified address."),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Honeypot: rendered inside a `hidden` element (never shown, focused or announced); bots fill it in.
    homepage = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, topics: list[str] | None = None, copy_offered: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not copy_offered:
            # Only to an address proven to be the sender's (services.copy_address): otherwise
            # the site would mail anyone's text to any address.
            del self.fields["send_copy"]
        if topics:
            self.fields["topic"].choices = [("", _("Choose a topic (optional)"))] + [(t, t) for t in topics]
        else:
            del self.fields["topic"]
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["homepage"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_name(self) -> str:
        return plain_name(self.cleaned_data.get("name", ""))

    def clean_email(self) -> str:
        return single_address(self.cleaned_data.get("email", "").strip())

    def clean_message(self) -> str:
        message = self.cleaned_data.get("message", "")
        # Bidi marks are allowed (right-to-left writers need them); other control characters are not.
        if any(unicodedata.category(char) in {"Cc", "Cs"} and char not in "\n\r\t" for char in message):
            raise forms.ValidationError(
                _("The message contains control characters that cannot be stored."), code="characters"
            )
        return message
