from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from speakout.discussion.forms import EditReplyForm


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254)


class EditForm(EditReplyForm):
    """The discussion's own edit form: the same limits and checks as the reply form."""


class DeleteAccountForm(forms.Form):
    REPLIES = [
        ("anonymise", _("Keep my replies, without my name, website or any link to me")),
        ("delete", _("Delete my replies")),
    ]
    replies = forms.ChoiceField(label=_("My replies"), choices=REPLIES, widget=forms.RadioSelect, initial="anonymise")
    confirm = forms.BooleanField(label=_("Yes, delete my account. This cannot be undone."))


class ForgetForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, anonymise all my replies and forget my address."))
