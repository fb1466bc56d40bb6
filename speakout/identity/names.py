"""Public names of accounts: a username shows on every reply the account writes."""

from __future__ import annotations

from speakout.discussion.forms import comparable_name


def gives_away_address(username: str, email: str) -> bool:
    """Whether the name is an address, or holds the local part of the account's address (folded
    as the reply form compares names), which would tie the public name to the mailbox."""
    if "@" in username:
        return True
    local_part = comparable_name(email.partition("@")[0])
    return len(local_part) >= 3 and local_part in comparable_name(username)
