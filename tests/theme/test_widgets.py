"""The form renderer writes the plain widgets out in Python (speakout/theme/widgets.py): each must
give exactly the HTML Django's own templates give, escaping included."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from speakout.theme.widgets import WidgetRenderer

HOSTILE = "\"><script>alert(1)</script>&amp;'x"


class Everything(forms.Form):
    text = forms.CharField(max_length=20, help_text="Help", widget=forms.TextInput(attrs={"placeholder": HOSTILE}))
    optional = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "hidden": False}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email", "dir": gettext_lazy("auto")}))
    url = forms.URLField(required=False, assume_scheme="https")
    number = forms.IntegerField(min_value=1, max_value=9)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    search = forms.CharField(widget=forms.TextInput(attrs={"type": "search"}), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput)
    box = forms.BooleanField(required=False)
    required_box = forms.BooleanField(disabled=True)
    area = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "data-safe": mark_safe("a&amp;b")}))
    choice = forms.ChoiceField(choices=[("a", "A & co"), ("b", HOSTILE)], initial="b")
    grouped = forms.ChoiceField(choices=[("One", [("1", "1a"), ("2", "2a")]), ("3", "three")], required=False)
    many = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two")], required=False)
    maybe = forms.NullBooleanField(required=False)


def both(form: forms.Form) -> list[tuple[str, str]]:
    pairs = []
    for field in form:
        pairs.append((field.as_widget(), ""))
        form.renderer = DjangoTemplates()
        expected = field.as_widget()
        form.renderer = WidgetRenderer()
        pairs[-1] = (field.as_widget(), expected)
    return pairs


def test_the_site_renders_forms_with_it():
    assert isinstance(get_default_renderer(), WidgetRenderer)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": HOSTILE, "email": "not an address", "number": "12", "box": "on", "area": HOSTILE, "choice": "a"},
        {"text": "", "grouped": "2", "many": ["1", "2"], "maybe": "true", "hidden": HOSTILE, "password": HOSTILE},
    ],
)
def test_every_plain_widget_matches_djangos_templates(data):
    form = Everything(data=data, initial={"text": HOSTILE, "box": True, "number": 3})
    if data is not None:
        form.is_valid()
    for written, expected in both(form):
        assert written == expected


def test_the_sites_own_forms_match_djangos_templates():
    from speakout.contact.forms import ContactForm
    from speakout.discussion.forms import ReplyForm
    from speakout.subscriptions.forms import FollowForm

    for form in (
        ReplyForm(initial={"thread": "t", "form_token": "x"}),
        ReplyForm(data={"thread": "t", "body": "", "email": "bad", "notify_answers": "0"}),
        FollowForm(initial={"thread": "t"}),
        FollowForm(data={"thread": "t", "email": HOSTILE, "frequency": "daily"}),
        ContactForm(),
    ):
        form.is_bound and form.is_valid()
        for written, expected in both(form):
            assert written == expected


def test_other_widgets_are_left_to_djangos_templates():
    class Other(forms.Form):
        radio = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)
        boxes = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.CheckboxSelectMultiple)
        date = forms.DateField(widget=forms.SelectDateWidget)

    for written, expected in both(Other()):
        assert written == expected
