"""The standalone "Follow this discussion by email" form shown under each report."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from speakout.discussion.forms import PlainlyCopiedFields

from .models import Subscription


def email_field(help_text: str) -> forms.EmailField:
    return forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=help_text,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Please give an email address."), "invalid": _("Enter a valid email address.")},
    )


class AddressForm(forms.Form):
    """What both subscription forms share: the address, the form token and the honeypot."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Honeypot: rendered inside a `hidden` element (never shown, focused or announced); bots fill it in.
    homepage = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["homepage"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if any(char in email for char in "\r\n\0,;<>"):
            raise forms.ValidationError(_("Enter a valid email address."), code="invalid")
        return email


class FollowForm(AddressForm):
    field_order = ["thread", "email", "notify_replies", "notify_posts", "frequency"]

    thread = forms.CharField(widget=forms.HiddenInput, max_length=255)
    email = email_field(_("We send one mail to confirm the address first. Every mail has an unsubscribe link."))
    notify_replies = forms.BooleanField(label=_("New comments on this report"), required=False, initial=True)
    notify_posts = forms.BooleanField(label=_("New posts"), required=False)
    frequency = forms.ChoiceField(
        label=_("How often to send new posts"),
        help_text=_("New comments always come one mail each, as they are published."),
        choices=Subscription.Frequency.choices,
        initial=Subscription.Frequency.INSTANT,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        # Its own id prefix: the form sits on the same page as the reply form, and ids must be unique.
        kwargs.setdefault("auto_id", "follow_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("notify_replies") and not cleaned.get("notify_posts"):
            raise forms.ValidationError(_("Choose what you want to hear about."), code="nothing")
        return cleaned


class PostsForm(AddressForm):
    """ "New reports by email": the whole site or some categories, at once or in a digest."""

    EVERYTHING = "*"
    field_order = ["email", "lists", "frequency"]

    email = email_field(_("We send a mail to confirm the address first. Every mail has an unsubscribe link."))
    lists = forms.MultipleChoiceField(
        label=_("Which reports"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one.")},
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=Subscription.Frequency.choices,
        initial=Subscription.Frequency.INSTANT,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        from .lists import categories

        super().__init__(*args, **kwargs)
        self.fields["lists"].choices = [(self.EVERYTHING, _("Every new report")), *categories()]
        self.fields["lists"].initial = [self.EVERYTHING]

    def categories(self) -> list[str]:
        """The chosen lists as subscription categories ("" is the whole site)."""
        return ["" if value == self.EVERYTHING else value for value in self.cleaned_data["lists"]]


# Made for every report page a signed-in reader opens: its plain fields copied as the reply form's are.
FollowForm.base_fields = PlainlyCopiedFields(FollowForm.base_fields)
