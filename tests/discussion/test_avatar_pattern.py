"""The avatar path pattern is reversed once per URL configuration and script prefix
(discussion/html.py ``avatar_url_pattern``): a change of either must show at once."""

from __future__ import annotations

from django.test import override_settings
from django.urls import include, path, reverse, set_script_prefix

from speakout.discussion.html import avatar_url, avatar_url_pattern

urlpatterns = [path("elsewhere/", include("speakout.discussion.urls"))]


def test_the_pattern_is_the_reversed_path():
    assert avatar_url_pattern().format(key="ab" * 8) == reverse("discussion:avatar", args=["ab" * 8])


def test_a_new_url_configuration_moves_the_pattern():
    before = avatar_url_pattern()
    with override_settings(ROOT_URLCONF=__name__):
        assert avatar_url_pattern() == "/elsewhere/avatar/{key}.svg"
        assert avatar_url("cd" * 8) == "/elsewhere/avatar/" + "cd" * 8 + ".svg"
    assert avatar_url_pattern() == before


def test_a_script_prefix_moves_the_pattern():
    before = avatar_url_pattern()
    set_script_prefix("/mounted/")
    try:
        assert avatar_url_pattern() == "/mounted" + before
    finally:
        set_script_prefix("/")
    assert avatar_url_pattern() == before
