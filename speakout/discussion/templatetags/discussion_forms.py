"""Form rendering shared by the reply, contact and follow forms: one field layout, and widgets
whose ``aria-describedby`` names only ids the page really has (the help and the error shown)."""

from pathlib import Path

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from speakout.discussion.html import is_shipped

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
    return _described(field, field.errors, field.help_text)


def _described(field, errors, help_text) -> str:
    described_by = []
    if errors:
        described_by.append(error_id(field))
    if help_text:
        described_by.append(help_id(field))
    attrs = {"aria-describedby": " ".join(described_by)} if described_by else {}
    return field.as_widget(attrs=attrs)


# The layouts of discussion/includes/field.html, checkbox.html and wish.html, written out: through
# an include each box of a form cost about three times its widget. The templates stay for the
# other forms, and tests/discussion/test_form_layout.py requires the same HTML from both. A
# project that puts its own of these templates in place gets them rendered, as an include would.
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
REQUIRED_MARK = ' <span class="field__required" aria-hidden="true">*</span>'


def _parts(field) -> tuple:
    errors = field.errors
    help_text = field.help_text
    auto_id = conditional_escape(field.auto_id)
    error = (
        f'<span class="field__error" id="{auto_id}-error">{" ".join(conditional_escape(e) for e in errors)}</span>'
        if errors
        else ""
    )
    help_html = (
        f'<div class="field__help" id="{auto_id}_helptext">{conditional_escape(help_text)}</div>' if help_text else ""
    )
    return errors, auto_id, error, help_html, _described(field, errors, help_text)


def _overridden(context, name: str, **values) -> str | None:
    """The include's own rendering when a project replaced the template ``name``, else None."""
    if is_shipped(name, TEMPLATES):
        return None
    with context.push(**values):
        return context.template.engine.get_template(name).render(context)


@register.simple_tag(takes_context=True)
def field_layout(context, field, required=False) -> str:
    """What ``{% include "discussion/includes/field.html" with field=field required=required %}`` gives."""
    overridden = _overridden(context, "discussion/includes/field.html", field=field, required=required)
    if overridden is not None:
        return overridden
    errors, auto_id, error, help_html, widget = _parts(field)
    return SafeString(  # nosec B703: every value is escaped or a widget's own HTML
        f'<div class="field{" field--error" if errors else ""}" data-field="{conditional_escape(field.name)}">\n'
        f'  <label for="{auto_id}">{conditional_escape(field.label)}{REQUIRED_MARK if required else ""}</label>\n'
        f"  {widget}\n  {error}\n  {help_html}\n</div>\n"
    )


@register.simple_tag(takes_context=True)
def checkbox_layout(context, field) -> str:
    """What ``{% include "discussion/includes/checkbox.html" with field=field %}`` gives."""
    overridden = _overridden(context, "discussion/includes/checkbox.html", field=field)
    if overridden is not None:
        return overridden
    errors, auto_id, error, help_html, widget = _parts(field)
    return SafeString(  # nosec B703: every value is escaped or a widget's own HTML
        f'<div class="field field--checkbox{" field--error" if errors else ""}" '
        f'data-field="{conditional_escape(field.name)}">\n  {widget}\n'
        f'  <label for="{auto_id}">{conditional_escape(field.label)}</label>\n  {help_html}\n  {error}\n</div>\n'
    )


@register.simple_tag(takes_context=True)
def wish_layout(context, field, checked) -> str:
    """What ``{% include "discussion/includes/wish.html" with field=field checked=checked %}`` gives."""
    overridden = _overridden(context, "discussion/includes/wish.html", field=field, checked=checked)
    if overridden is not None:
        return overridden
    name = conditional_escape(field.name)
    auto_id = conditional_escape(field.auto_id)
    return SafeString(  # nosec B703: every value is escaped
        f'<div class="field field--checkbox" data-field="{name}"><input type="hidden" name="{name}" value="0">'
        f'<input type="checkbox" name="{name}" value="1" id="{auto_id}"{conditional_escape(checked)}>\n'
        f'  <label for="{auto_id}">{conditional_escape(field.label)}</label>\n</div>\n'
    )
