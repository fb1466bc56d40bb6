"""``speakout restore`` without ``--force`` replaces only an empty instance: a site that holds
anything of its own (subscribers before the first post, uploaded pictures, readers' accounts)
is refused, and loses nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from speakout.interchange import backup
from speakout.interchange.errors import ImportFailed


@pytest.mark.django_db(transaction=True)
def test_restore_without_force_keeps_the_subscribers_of_a_site_without_posts(tmp_path, settings):
    """A site that took its subscriber list from WordPress.com (``speakout import-subscribers``)
    before its posts, or simply has no post yet, holds people's subscriptions. ``speakout restore
    ARCHIVE`` without ``--force`` must refuse to replace it (docs/interchange.md: "it refuses an
    instance with content unless --force"); it replaces the whole database instead, and the
    subscribers are gone without a question: ``backup.instance_is_empty`` looks at pages and
    replies only."""
    from speakout.subscriptions.models import Subscription

    settings.MEDIA_ROOT = str(tmp_path / "media")
    archive = backup.backup(tmp_path / "fresh.tar.gz")  # a backup of a fresh install
    Subscription.objects.create(
        email="reader@example.org",
        kind=Subscription.Kind.POSTS,
        target=Subscription.target_for(Subscription.Kind.POSTS),
        confirmed_at=timezone.now(),
    )
    try:
        backup.restore(archive)
    except ImportFailed:
        pass  # refused: what the documentation promises
    assert Subscription.objects.filter(email="reader@example.org").exists(), (
        "restore without --force replaced a site holding subscribers"
    )


@pytest.mark.django_db(transaction=True)
def test_restore_without_force_keeps_the_media_library_of_a_site_without_posts(tmp_path, settings):
    """The same for the editors' uploaded pictures: the rows of the media library are replaced by
    the archive's (the files stay on disk, orphaned, and vanish from the admin)."""
    from wagtail.images import get_image_model

    from tests.helpers import make_image

    settings.MEDIA_ROOT = str(tmp_path / "media")
    archive = backup.backup(tmp_path / "fresh.tar.gz")
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:  # seen flushed by a transactional test before, on PostgreSQL
        Collection.add_root(name="Root")
    make_image("Campaign photo, uploaded before the first report")
    try:
        backup.restore(archive)
    except ImportFailed:
        pass
    assert get_image_model().objects.filter(title__startswith="Campaign photo").exists(), (
        "restore without --force replaced a site holding uploaded pictures"
    )


@pytest.mark.django_db(transaction=True)
def test_restore_without_force_keeps_the_accounts_of_readers(tmp_path, settings, django_user_model):
    """Readers who made accounts before anything was published are the site's too."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    archive = backup.backup(tmp_path / "fresh.tar.gz")
    django_user_model.objects.create_user("reader", "reader@example.org", "a long passphrase")
    with pytest.raises(ImportFailed):
        backup.restore(archive)
    assert django_user_model.objects.filter(username="reader").exists()


@pytest.mark.django_db(transaction=True)
def test_a_fresh_install_with_its_admin_is_empty(tmp_path, settings, django_user_model):
    """What ``speakout setup --no-demo`` leaves (the first admin, its address, the settings a
    first visit saves) does not stop a restore."""
    from allauth.account.models import EmailAddress

    from speakout.discussion.models import DiscussionSettings

    admin = django_user_model.objects.create_superuser("admin", "admin@example.org", "a long passphrase")
    EmailAddress.objects.get_or_create(user=admin, email=admin.email, defaults={"verified": True, "primary": True})
    DiscussionSettings.load()
    assert backup.instance_is_empty()
