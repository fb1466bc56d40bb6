"""Every template the site can render compiles: ours, and those of the allauth parts installed.

A template that loads a tag library no installed app provides fails only when its page is
opened (allauth's list of security keys did, for everyone, until ``django.contrib.humanize`` was
installed), so each is compiled here, with the project's own engine and overrides.
"""

from __future__ import annotations

from pathlib import Path

import allauth
import pytest
from django.apps import apps
from django.template.loader import get_template

# allauth's folders for the parts of it the site installs; not ``usersessions``, ``idp`` or
# ``openid``, which it does not.
ALLAUTH_PARTS = ("account", "allauth", "mfa", "socialaccount")


def _names() -> list[str]:
    folders = [
        Path(config.path) / "templates" for config in apps.get_app_configs() if config.name.startswith("speakout.")
    ]
    names = [str(path.relative_to(folder)) for folder in folders for path in folder.rglob("*.html")]
    allauth_folder = Path(allauth.__file__).parent / "templates"
    for part in ALLAUTH_PARTS:
        names += [str(path.relative_to(allauth_folder)) for path in (allauth_folder / part).rglob("*.html")]
    return sorted(set(names))


def test_the_templates_were_found():
    names = _names()
    assert "mfa/webauthn/authenticator_list.html" in names
    assert len(names) > 150


@pytest.mark.parametrize("name", _names())
def test_every_template_compiles(name):
    get_template(name)
