"""Form rendering shared by the reply, contact and follow forms: one field layout, and widgets
whose ``aria-describedby`` names only ids the page really has (the help and the error shown)."""

from django import template

register = template.Library()


def help_id(field) -> str:
    return f"{field.auto_id}_helptext"


def error_id(field) -> str:
    return f"{field.auto_id}-error"


@register.simple_tag
def described_widget(field):
    """The field's widget, described by its error and help text when they are on the page.

    Django describes a widget by ``<id>_helptext`` whenever the field has help text; the
    templates print the help themselves, so the ids are set here to match what they print."""
    described_by = []
    if field.errors:
        described_by.append(error_id(field))
    if field.help_text:
        described_by.append(help_id(field))
    attrs = {"aria-describedby": " ".join(described_by)} if described_by else {}
    return field.as_widget(attrs=attrs)
