"""The form renderer (``FORM_RENDERER``): Django's own, with its templates for the plain widgets
(inputs, text areas, selects) written out in Python. Through the template engine a widget costs
50-180 µs, most of a form's render, and a report page shows about ten of them.
tests/theme/test_widgets.py renders each of these widgets both ways and requires the same HTML;
every other template (other widgets, whole forms, error lists) is rendered by Django as before."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString

WIDGETS = "django/forms/widgets/"
# Django's templates that are only `{% include "django/forms/widgets/input.html" %}`.
INPUTS = frozenset(
    f"{WIDGETS}{name}.html"
    for name in ("input", "text", "email", "url", "password", "number", "search", "tel", "hidden", "checkbox")
)
CLOSE_OPTGROUP = SafeString("\n  </optgroup>")
CLOSE_SELECT = SafeString("\n</select>")


def _text(value) -> str:
    # As the templates' `|stringformat:'s'`: a string as it is (a safe one stays unescaped).
    return value if isinstance(value, str) else str(value)


def _attrs(attrs: dict) -> SafeString:
    # As attrs.html: True writes the name alone, False leaves the attribute out. Escaped as
    # format_html would, without a format_html and a join of safe strings per attribute.
    return SafeString(  # nosec B703: every name and value is escaped
        "".join(
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{conditional_escape(_text(value))}"'
            for name, value in attrs.items()
            if value is not False
        )
    )


def _joined(pieces) -> SafeString:
    # Every piece is already escaped (format_html) or one of the fixed tags below.
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def written_out(template_name: str, widget: dict) -> str | None:
    """The HTML Django's template would give for this widget context, or None for a template
    not written out here."""
    name = widget["name"]
    if template_name in INPUTS:
        value = "" if widget["value"] is None else format_html(' value="{}"', _text(widget["value"]))
        return format_html('<input type="{}" name="{}"{}{}>', widget["type"], name, value, _attrs(widget["attrs"]))
    if template_name == f"{WIDGETS}textarea.html":
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>', name, _attrs(widget["attrs"]), widget["value"] or ""
        )
    if template_name == f"{WIDGETS}select.html":
        parts = [format_html('<select name="{}"{}>', name, _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                if option["template_name"] != f"{WIDGETS}select_option.html":
                    return None
                parts.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',
                        _text(option["value"]),
                        _attrs(option["attrs"]),
                        option["label"],
                    )
                )
            if group_name:
                parts.append(CLOSE_OPTGROUP)
        parts.append(CLOSE_SELECT)
        return _joined(parts)
    return None


class WidgetRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if isinstance(widget, dict) and widget.get("template_name") == template_name:
            html = written_out(template_name, widget)
            if html is not None:
                return html
        return super().render(template_name, context, request=request)
