"""ReplyForm's and FollowForm's fields are copied for each form by PlainlyCopiedFields (discussion/forms.py)
without copy.deepcopy's machinery: the copies must be what Django's deepcopy makes."""

from __future__ import annotations

import copy

import pytest
from django import forms

from speakout.discussion.forms import PlainlyCopiedFields, ReplyForm, _copies_plainly
from speakout.subscriptions.forms import FollowForm


def assert_same_copy(lean: forms.Field, django: forms.Field, original: forms.Field) -> None:
    assert type(lean) is type(django) is type(original)
    assert lean is not original and lean.widget is not original.widget
    for name in ("error_messages", "validators"):
        assert getattr(lean, name) == getattr(django, name)
        assert getattr(lean, name) is not getattr(original, name)
    assert lean.widget.attrs == django.widget.attrs and lean.widget.attrs is not original.widget.attrs
    shared = {"widget", "error_messages", "validators"}
    assert vars(lean).keys() == vars(django).keys()
    for name in vars(django).keys() - shared:  # Django shares every other attribute, and so do we
        assert vars(lean)[name] is vars(original)[name] is vars(django)[name], name
    assert vars(lean.widget).keys() == vars(django.widget).keys()
    for name in vars(django.widget).keys() - {"attrs"}:
        assert vars(lean.widget)[name] is vars(original.widget)[name] is vars(django.widget)[name], name


@pytest.mark.parametrize("form", [ReplyForm, FollowForm])
def test_every_field_is_copied_as_django_copies_it(form):
    base = form.base_fields
    assert isinstance(base, PlainlyCopiedFields)
    lean, django = copy.deepcopy(base), copy.deepcopy(dict(base))
    assert type(lean) is dict and list(lean) == list(django) == list(base)
    for name, field in base.items():
        if _copies_plainly(field):
            assert_same_copy(lean[name], django[name], field)
        else:  # deep-copied as Django does (the follow form's choice of frequency)
            assert type(lean[name]) is type(field) and lean[name].widget is not field.widget
            assert lean[name].choices == django[name].choices


def test_a_field_that_copies_more_is_deep_copied_as_before():
    choices = forms.ChoiceField(choices=[("a", "A")], widget=forms.Select(attrs={"size": 2}))
    copied = copy.deepcopy(PlainlyCopiedFields({"choice": choices}))["choice"]
    assert copied.choices == choices.choices
    assert copied._choices is not choices._choices
    assert copied.widget is not choices.widget and copied.widget.attrs == {"size": 2}


def test_each_form_changes_its_own_fields_only():
    first, second = ReplyForm({"body": "x"}), ReplyForm({"body": "y"})
    first.fields["name"].widget.attrs["placeholder"] = "mine"
    first.fields["body"].required = False
    first.fields["email"].error_messages["required"] = "changed"
    assert "placeholder" not in second.fields["name"].widget.attrs
    assert "placeholder" not in ReplyForm.base_fields["name"].widget.attrs
    assert second.fields["body"].required and ReplyForm.base_fields["body"].required
    assert ReplyForm.base_fields["email"].error_messages["required"] != "changed"
    # What ReplyForm.__init__ sets on its copies stays off the class's fields.
    assert second.fields["homepage"].widget.attrs["tabindex"] == "-1"
    assert "tabindex" not in ReplyForm.base_fields["homepage"].widget.attrs
