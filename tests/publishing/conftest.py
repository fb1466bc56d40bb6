"""Fixtures shared with the discussion tests (rules, a thread, a reply factory)."""

from tests.discussion.conftest import form_data, post_reply, rules, thread  # noqa: F401
