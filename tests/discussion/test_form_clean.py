"""ReplyForm validates without making a BoundField per field (CleanedWithoutBoundFields,
discussion/forms.py): its cleaned data and errors must be what Django's own ``_clean_fields``
gives, and the method it stands in for must still be the one it copies."""

from __future__ import annotations

import inspect
import textwrap

import pytest
from django import forms
from django.test import override_settings

from speakout.discussion.forms import ReplyForm, issue_form_token, reserved_names

pytestmark = pytest.mark.django_db


class DjangosPath(ReplyForm):
    _clean_fields = forms.BaseForm._clean_fields


VALID = {
    "thread": "t",
    "name": "Ada",
    "email": "Ada@Example.ORG",
    "website": "example.org/ada",
    "body": "Hello\r\nthere",
    "notify_replies": "on",
    "notify_answers": "",
}

CASES = [
    VALID,
    {},
    {**VALID, "name": ""},
    {**VALID, "name": "admin"},
    {**VALID, "name": "A\u200bda"},
    {**VALID, "email": "two@example.org, three@example.org"},
    {**VALID, "website": "javascript:alert(1)"},
    {**VALID, "website": "http://localhost/"},
    {**VALID, "body": ""},
    {**VALID, "body": "x" * 20_000},
    {**VALID, "body": "bell \x07"},
    {**VALID, "parent": "0"},
    {**VALID, "parent": "12"},
    {**VALID, "parent": "twelve"},
    {**VALID, "submission_id": "s" * 65},
    {**VALID, "homepage": "http://spam.example/", "federate": "1"},
]


@pytest.mark.parametrize("data", CASES)
@pytest.mark.parametrize("signed_in", [False, True])
def test_reply_form_cleans_as_djangos_path_does(data, signed_in):
    data = {**data, "form_token": issue_form_token("t")} if data else data
    lean = ReplyForm(data, signed_in=signed_in)
    django = DjangosPath(data, signed_in=signed_in)
    assert lean.is_valid() == django.is_valid()
    assert lean.cleaned_data == django.cleaned_data
    assert lean.errors.get_json_data() == django.errors.get_json_data()


def test_a_disabled_field_takes_djangos_path():
    """A disabled field cleans its initial value, as Django does."""
    form = ReplyForm({**VALID, "body": "typed"})
    form.fields["body"].disabled = True
    form.fields["body"].initial = "kept"
    assert form.is_valid(), form.errors
    assert form.cleaned_data["body"] == "kept"


def test_the_form_still_renders_its_fields_after_validating():
    form = ReplyForm({**VALID, "body": ""})
    assert not form.is_valid()
    assert "Write something before sending." in str(form["body"].errors)
    assert form["email"].help_text and form["name"].value() == "Ada"


def test_djangos_clean_fields_is_still_the_method_copied():
    """Fails on the Django upgrade that changes how a form cleans its fields: read the new
    ``_clean_fields`` and ``Field._clean_bound_field``, then update CleanedWithoutBoundFields."""
    assert textwrap.dedent(inspect.getsource(forms.BaseForm._clean_fields)) == textwrap.dedent(
        """\
        def _clean_fields(self):
            for name, bf in self._bound_items():
                field = bf.field
                try:
                    self.cleaned_data[name] = field._clean_bound_field(bf)
                    if hasattr(self, "clean_%s" % name):
                        value = getattr(self, "clean_%s" % name)()
                        self.cleaned_data[name] = value
                except ValidationError as e:
                    self.add_error(name, e)
        """
    )
    assert textwrap.dedent(inspect.getsource(forms.Field._clean_bound_field)) == textwrap.dedent(
        """\
        def _clean_bound_field(self, bf):
            value = bf.initial if self.disabled else bf.data
            return self.clean(value)
        """
    )
    assert "self.form._widget_data_value(self.field.widget, self.html_name)" in inspect.getsource(
        forms.BoundField.data.fget
    )


def test_reserved_names_follow_the_setting():
    """The folded reserved names are kept per value of the setting, so a changed setting counts."""
    with override_settings(SPEAKOUT_DISCUSSION_RESERVED_NAMES=["Zoë Keeper"]):
        assert "zoekeeper" in reserved_names()
        assert ReplyForm({**VALID, "name": "ZOE KEEPER", "form_token": issue_form_token("t")}).errors["name"]
    with override_settings(SPEAKOUT_DISCUSSION_RESERVED_NAMES=["Someone Else"]):
        assert "zoekeeper" not in reserved_names()
        assert "name" not in ReplyForm({**VALID, "name": "Zoe Keeper", "form_token": issue_form_token("t")}).errors
