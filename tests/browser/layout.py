"""Layout assertions for the browser tests: what a person sees, measured in Chromium.

Boxes come from Playwright's ``bounding_box()`` (CSS pixels, page coordinates); ``None`` means
the element is not rendered at all.
"""

from __future__ import annotations

TOLERANCE = 2  # px: sub-pixel rounding


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not rendered"
    return found


def assert_on_one_line(first, second) -> None:
    """Two elements side by side: their vertical extents overlap, and they do not overlap sideways."""
    a, b = box(first), box(second)
    a_middle = a["y"] + a["height"] / 2
    assert b["y"] - TOLERANCE <= a_middle <= b["y"] + b["height"] + TOLERANCE, (
        f"{first} and {second} are not on one line: {a} / {b}"
    )
    apart = a["x"] + a["width"] <= b["x"] + TOLERANCE or b["x"] + b["width"] <= a["x"] + TOLERANCE
    assert apart, f"{first} and {second} overlap: {a} / {b}"


def assert_below(upper, lower) -> None:
    a, b = box(upper), box(lower)
    assert b["y"] >= a["y"] + a["height"] - TOLERANCE, f"{lower} is not below {upper}: {a} / {b}"


def assert_inside(inner, outer) -> None:
    a, b = box(inner), box(outer)
    assert a["width"] > 0 and a["height"] > 0, f"{inner} has no size: {a}"
    assert (
        a["x"] >= b["x"] - TOLERANCE
        and a["y"] >= b["y"] - TOLERANCE
        and a["x"] + a["width"] <= b["x"] + b["width"] + TOLERANCE
        and a["y"] + a["height"] <= b["y"] + b["height"] + TOLERANCE
    ), f"{inner} is not inside {outer}: {a} / {b}"


def assert_label_visible_inside(button) -> None:
    """A button shows readable text, and that text is drawn inside the button's box."""
    text = button.inner_text().strip()
    assert text, f"{button} has no visible label"
    fits = button.evaluate(
        """(node) => {
            const range = document.createRange();
            range.selectNodeContents(node);
            const text = range.getBoundingClientRect();
            const own = node.getBoundingClientRect();
            const style = getComputedStyle(node);
            return text.width > 0 && text.height > 0 && style.visibility === "visible"
                && style.color !== style.backgroundColor
                && text.left >= own.left - 2 && text.right <= own.right + 2
                && text.top >= own.top - 2 && text.bottom <= own.bottom + 2;
        }"""
    )
    assert fits, f"the label of {button} ({text!r}) is not drawn inside its box"


def assert_never_reachable(page, selector: str, label: str) -> None:
    """Not drawn, not focusable by keyboard, absent from the accessibility tree."""
    element = page.locator(selector)
    assert element.count() == 1, f"{selector} is missing: the check would prove nothing"
    assert element.bounding_box() is None, f"{selector} is drawn on the page"
    assert not element.is_visible()
    shown = element.evaluate(
        """(node) => { for (let n = node; n; n = n.parentElement) {
             if (getComputedStyle(n).display === "none") return false; } return true; }"""
    )
    assert not shown, f"{selector} has no display:none ancestor"
    assert label not in page.locator("body").aria_snapshot(), f"{label!r} is in the accessibility tree"
    page.locator("body").focus()
    # More presses than the page has focusable elements: focus goes round the whole page.
    for _ in range(page.locator("a, button, input, select, textarea, [tabindex]").count() + 5):
        page.keyboard.press("Tab")
        assert not page.evaluate(f"() => document.activeElement === document.querySelector({selector!r})"), (
            f"{selector} takes keyboard focus"
        )
