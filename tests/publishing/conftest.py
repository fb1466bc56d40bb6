"""Fixtures shared with the discussion tests (rules, a thread, a reply factory)."""
