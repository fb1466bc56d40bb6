"""The reply and follow forms write each box's layout in Python (``field_layout``,
``checkbox_layout``, ``wish_layout`` in discussion/templatetags/discussion_forms.py): each must give
exactly what its template (discussion/includes/field.html, checkbox.html, wish.html) gives, with
errors, help text and hostile text escaped the same way."""

from __future__ import annotations

import pytest
from django import forms
from django.template import Context, Template
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from speakout.discussion.forms import ReplyForm
from speakout.subscriptions.forms import FollowForm

pytestmark = pytest.mark.django_db

HOSTILE = "\"><script>alert(1)</script>&amp;'x"


class Hostile(forms.Form):
    text = forms.CharField(label=HOSTILE, help_text=HOSTILE, max_length=3)
    safe_help = forms.CharField(label=mark_safe("<em>Safe</em>"), help_text=mark_safe("<b>b</b>"), required=False)
    box = forms.BooleanField(label=HOSTILE, help_text=HOSTILE)
    plain = forms.BooleanField(required=False)


def forms_to_compare() -> list[forms.Form]:
    bound = [
        ReplyForm(data={"thread": "t", "body": "", "email": HOSTILE, "website": HOSTILE, "notify_answers": "x"}),
        FollowForm(data={"thread": "t", "email": HOSTILE, "frequency": HOSTILE}),
        Hostile(data={"text": HOSTILE}),
    ]
    for form in bound:
        form.is_valid()
        form.add_error(None, HOSTILE)
    return [
        ReplyForm(initial={"thread": "t", "form_token": "x"}),
        ReplyForm(initial={"thread": "t"}, signed_in=True),
        FollowForm(initial={"thread": "t"}),
        Hostile(initial={"text": HOSTILE, "box": True}),
        *bound,
    ]


def through_template(name: str, **context) -> str:
    return get_template(f"discussion/includes/{name}.html").render(context)


def through_tag(tag: str, **context) -> str:
    return Template("{% load discussion_forms %}" + tag).render(Context(context))


def test_every_box_is_laid_out_as_its_template_lays_it_out():
    compared = 0
    for form in forms_to_compare():
        for field in form:
            for required in (True, False, ""):
                expected = through_template("field", field=field, required=required)
                assert through_tag("{% field_layout field required=required %}", field=field, required=required) == (
                    expected
                )
            assert through_tag("{% field_layout field %}", field=field) == through_template("field", field=field)
            expected = through_template("checkbox", field=field)
            assert through_tag("{% checkbox_layout field %}", field=field) == expected
            for checked in (" checked", "", HOSTILE):
                expected = through_template("wish", field=field, checked=checked)
                assert through_tag("{% wish_layout field checked %}", field=field, checked=checked) == expected
            compared += 1
    assert compared > 30


def test_an_error_and_help_text_are_both_shown_and_described():
    form = Hostile(data={"text": "too long"})
    form.is_valid()
    html = through_tag("{% field_layout form.text required=True %}", form=form)
    assert 'aria-describedby="id_text-error id_text_helptext"' in html
    assert "field--error" in html and "&lt;script&gt;" in html and "<script>" not in html


@pytest.mark.parametrize("name", ["field", "checkbox", "wish"])
def test_a_project_s_own_box_template_is_rendered_as_an_include_would(name, settings):
    """A project that puts its own box template in place of ours sees it in the reply and follow
    forms: the tags render it as the include did."""
    own = f"<p class=own-{name}>{{{{ field.name }}}} {{{{ required|yesno:'r,' }}}}{{{{ checked }}}}</p>"
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {f"discussion/includes/{name}.html": own}),
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    form = ReplyForm(initial={"thread": "t"})
    tag = {
        "field": "{% field_layout form.body required=True %}",
        "checkbox": "{% checkbox_layout form.notify_replies %}",
        "wish": "{% wish_layout form.notify_answers ' checked' %}",
    }[name]
    expected = {
        "field": "<p class=own-field>body r</p>",
        "checkbox": "<p class=own-checkbox>notify_replies </p>",
        "wish": "<p class=own-wish>notify_answers  checked</p>",
    }[name]
    assert through_tag(tag, form=form) == expected
