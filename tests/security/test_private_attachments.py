"""The files of WordPress posts nobody outside may read (draft, pending, private, scheduled) stay
private after an import: they go into a collection only the site's staff may open, a document
there is served by Wagtail's view after asking that collection, and a picture's file gets a name
nobody can guess from the old site's, where a public post's picture keeps its name and address."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction

from speakout.interchange.importers import run_import
from speakout.interchange.models import ImportedItem
from tests.interchange.helpers import picture
from tests.interchange.helpers import wxr as wxr_document

pytestmark = pytest.mark.django_db

BASE = "https://old.example.org"
UPLOADS = f"{BASE}/wp-content/uploads/2024/01"


def _item(post_id, post_type, status, *, parent="0", title="", body="", url="", password=""):
    return f"""<item><title>{title}</title><wp:post_id>{post_id}</wp:post_id>
<wp:post_password>{password}</wp:post_password><wp:post_type>{post_type}</wp:post_type><wp:status>{status}</wp:status><wp:post_parent>{parent}</wp:post_parent>
<wp:post_name>{title.lower().replace(" ", "-")}</wp:post_name><wp:post_date_gmt>2024-01-02 10:00:00</wp:post_date_gmt>
<content:encoded><![CDATA[{body}]]></content:encoded>
{f"<wp:attachment_url>{url}</wp:attachment_url>" if url else ""}</item>"""


def wxr(*extra: str) -> str:
    """A published report and a draft, pending, private and scheduled one, each with its own
    attachment; the private post's attachment comes before the post in the file, as WordPress
    often writes it, and the draft also shows a picture that is no attachment."""
    items = [
        _item(31, "attachment", "inherit", parent="30", title="leak-private", url=f"{UPLOADS}/leak-private.jpg"),
        _item(10, "post", "publish", title="Public report", body=f'<p><img src="{UPLOADS}/public.jpg"></p>'),
        _item(11, "attachment", "inherit", parent="10", title="public", url=f"{UPLOADS}/public.jpg"),
        _item(
            20,
            "post",
            "draft",
            title="Draft report",
            body=f'<p><img src="{UPLOADS}/leak-draft.jpg"></p><p><img src="{UPLOADS}/leak-inline.png"></p>'
            f'<p><a href="{UPLOADS}/leak-minutes.txt">minutes</a></p>',
        ),
        _item(21, "attachment", "inherit", parent="20", title="leak-draft", url=f"{UPLOADS}/leak-draft.jpg"),
        _item(22, "attachment", "inherit", parent="20", title="leak-minutes", url=f"{UPLOADS}/leak-minutes.txt"),
        _item(30, "post", "private", title="Private report"),
        _item(40, "post", "pending", title="Pending report"),
        _item(41, "attachment", "inherit", parent="40", title="leak-pending", url=f"{UPLOADS}/leak-pending.jpg"),
        _item(50, "post", "future", title="Scheduled report"),
        _item(51, "attachment", "inherit", parent="50", title="leak-future", url=f"{UPLOADS}/leak-future.jpg"),
        *extra,
    ]
    return wxr_document(BASE, *items)


def old_uploads(tmp_path, *, everything: bool = True):
    """The old site's uploads folder (each post's picture; with ``everything`` also the inline
    picture and the document) and its export, for an import with MEDIA_ROOT under ``tmp_path``."""
    uploads = tmp_path / "uploads" / "2024" / "01"
    uploads.mkdir(parents=True)
    for name in ("public", "leak-private", "leak-draft", "leak-pending", "leak-future"):
        (uploads / f"{name}.jpg").write_bytes(picture("JPEG"))
    if everything:
        (uploads / "leak-inline.png").write_bytes(picture("PNG"))
        (uploads / "leak-minutes.txt").write_bytes(b"board minutes: who was at the meeting")
    export = tmp_path / "export.xml"
    export.write_text(wxr(), encoding="utf-8")
    return export, tmp_path / "uploads"


@pytest.fixture
def imported(settings, tmp_path, site_builder):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    export, uploads = old_uploads(tmp_path)
    return run_import(export, media_dir=uploads), export, uploads


def _anonymous(url: str) -> int:
    return Client().get(url).status_code


def test_attachments_of_posts_nobody_outside_reads_are_not_served_to_the_public(imported):
    images = {image.title: image for image in get_image_model().objects.all()}
    assert set(images) == {"public", "leak-private", "leak-draft", "leak-pending", "leak-future", "leak-inline.png"}
    public = images.pop("public")
    assert not CollectionViewRestriction.objects.filter(collection=public.collection).exists()
    assert _anonymous(public.file.url) == 200, "a published post's picture is served as before"
    for title, image in images.items():
        assert CollectionViewRestriction.objects.filter(collection=image.collection).exists(), title
        stem = title.rsplit(".", 1)[0]
        assert stem not in image.file.name, "the stored name tells nothing of the old one"
        for guess in (f"original_images/{stem}.jpg", f"original_images/{stem}.png", f"images/{stem}.width-800.jpg"):
            assert _anonymous(f"{settings.MEDIA_URL}{guess}") == 404, guess

    document = get_document_model().objects.get(title="leak-minutes")
    assert CollectionViewRestriction.objects.filter(collection=document.collection).exists()
    assert _anonymous(document.url) == 302, "Wagtail's view asks for a sign-in"
    assert _anonymous(f"{settings.MEDIA_URL}{document.file.name}") == 404
    # A commenter with an account is no more entitled than anyone else.
    reader = get_user_model().objects.create_user("reader", "reader@example.org", "pw-long-enough-1")
    client = Client()
    client.force_login(reader)
    assert client.get(document.url).status_code != 200
    staff = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-long-enough-1")
    client.force_login(staff)
    assert client.get(document.url).status_code == 200


def test_the_private_collection_is_made_once_and_reimports_keep_files_where_they_are(imported):
    result, export, uploads = imported
    assert result.get("attachment", "private") == 6, result.as_dict()
    again = run_import(export, media_dir=uploads)
    assert again.get("attachment", "created") == 0
    restricted = Collection.objects.filter(view_restrictions__isnull=False).distinct()
    assert restricted.count() == 1
    assert get_image_model().objects.filter(collection=restricted.get()).count() == 5


def test_a_file_imported_public_earlier_moves_into_the_private_collection(imported):
    """An import by an earlier version put every attachment in the public collection: a new
    import of the same export moves the non-public posts' files out of it."""
    _result, export, uploads = imported
    root = Collection.get_first_root_node()
    document = get_document_model().objects.get(title="leak-minutes")
    document.collection = root
    document.save()
    assert _anonymous(document.url) == 200

    run_import(export, media_dir=uploads)

    document.refresh_from_db()
    assert document.collection != root and _anonymous(document.url) == 302
    record = ImportedItem.objects.get(kind="attachment", source_id="22")
    assert record.data.get("private") is True


@pytest.mark.django_db(transaction=True)
def test_a_picture_imported_public_earlier_moves_and_loses_its_guessable_name(settings, tmp_path, site_builder):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    export, uploads = old_uploads(tmp_path, everything=False)
    run_import(export, media_dir=uploads)
    # As an earlier version left it: in the public collection, under the old site's name.
    image = get_image_model().objects.get(title="leak-draft")
    with image.file.open("rb") as handle:
        guessable = image.file.storage.save("original_images/leak-draft.jpg", handle)
    image.file.storage.delete(image.file.name)
    image.file, image.collection = guessable, Collection.get_first_root_node()
    image.save()
    get_image_model().objects.get(pk=image.pk).get_rendition("width-20")
    assert _anonymous(f"{settings.MEDIA_URL}{guessable}") == 200

    run_import(export, media_dir=tmp_path / "uploads")

    image.refresh_from_db()
    assert CollectionViewRestriction.objects.filter(collection=image.collection).exists()
    assert "leak" not in image.file.name
    assert _anonymous(f"{settings.MEDIA_URL}{guessable}") == 404
    assert not any("leak" in path.name for path in (tmp_path / "media").rglob("*"))
    assert image.get_rendition("width-20").url, "the picture itself is intact"


def _members_only(tmp_path, status="publish"):
    """A published report behind a password: an attached picture and document, and a picture its
    text shows that is no attachment."""
    uploads = tmp_path / "uploads" / "2024" / "01"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "members-photo.jpg").write_bytes(picture("JPEG"))
    (uploads / "members-inline.png").write_bytes(picture("PNG"))
    (uploads / "members-minutes.txt").write_bytes(b"members' minutes: who came")
    body = (
        f'<p><img src="{UPLOADS}/members-photo.jpg"></p><p><img src="{UPLOADS}/members-inline.png"></p>'
        f'<p><a href="{UPLOADS}/members-minutes.txt">minutes</a></p>'
    )
    items = (
        _item(61, "attachment", "inherit", parent="60", title="members-photo", url=f"{UPLOADS}/members-photo.jpg"),
        _item(62, "attachment", "inherit", parent="60", title="members-minutes", url=f"{UPLOADS}/members-minutes.txt"),
        _item(60, "post", status, title="Members report", body=body, password="harbour lights"),
    )
    export = tmp_path / "export.xml"
    export.write_text(wxr(*items), encoding="utf-8")
    return export, tmp_path / "uploads"


@pytest.mark.django_db(transaction=True)
def test_a_password_protected_post_s_files_are_served_only_under_names_nobody_can_guess(
    settings, tmp_path, site_builder
):
    """Readers with the password must see the post's pictures, so its files stay public, but
    under names the old site's do not give away: without the password nobody learns them."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    export, uploads = _members_only(tmp_path)
    run_import(export, media_dir=uploads)
    images = {image.title: image for image in get_image_model().objects.filter(title__startswith="members")}
    document = get_document_model().objects.get(title="members-minutes")
    assert set(images) == {"members-photo", "members-inline.png"}
    for title, image in images.items():
        assert not CollectionViewRestriction.objects.filter(collection=image.collection).exists(), title
        assert "members" not in image.file.name, title
        assert _anonymous(image.file.url) == 200, "served to whoever has the page"
        stem = title.rsplit(".", 1)[0]
        for guess in (f"original_images/{stem}.jpg", f"original_images/{stem}.png", f"images/{stem}.width-800.jpg"):
            assert _anonymous(f"{settings.MEDIA_URL}{guess}") == 404, guess
    assert not CollectionViewRestriction.objects.filter(collection=document.collection).exists()
    assert "members" not in document.file.name
    assert _anonymous(document.url) == 200
    assert _anonymous(f"/documents/{document.pk}/members-minutes.txt") == 404

    # With the password, the report shows them.
    from speakout.publishing.models import ReportPage

    page = ReportPage.objects.get(title="Members report")
    restriction = page.get_view_restrictions().get()
    reader = Client()
    new_name = images["members-photo"].file.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    assert new_name not in reader.get(page.url).content.decode()
    reader.post(
        f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/",
        {"password": "harbour lights", "return_url": page.url},
    )
    html = reader.get(page.url).content.decode()
    assert "Members report" in html
    assert new_name in html
    assert "members-photo.jpg" not in html, "neither the old address nor the old name"

    # A file an earlier version imported under its old name gets a new one.
    image = images["members-photo"]
    with image.file.open("rb") as handle:
        guessable = image.file.storage.save("original_images/members-photo.jpg", handle)
    image.file.storage.delete(image.file.name)
    image.file = guessable
    image.save()
    record = ImportedItem.objects.get(kind="attachment", source_id="61")
    record.data.pop("unlisted", None)
    record.save()
    run_import(export, media_dir=uploads)
    image.refresh_from_db()
    assert "members" not in image.file.name
    assert _anonymous(f"{settings.MEDIA_URL}{guessable}") == 404


@pytest.mark.django_db(transaction=True)
def test_a_draft_published_behind_a_password_on_the_old_site_has_its_files_opened_by_a_reimport(
    settings, tmp_path, site_builder
):
    """Imported as a draft, its files went into the private collection; published behind a
    password on the old site since, a re-import must let the readers with the password open its
    document (public under the name nobody can guess), as a first import of it would."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    export, uploads = _members_only(tmp_path, status="draft")
    run_import(export, media_dir=uploads)
    document = get_document_model().objects.get(title="members-minutes")
    assert _anonymous(document.url) == 302
    private_name = document.file.name

    export, uploads = _members_only(tmp_path)
    run_import(export, media_dir=uploads)

    document.refresh_from_db()
    assert not CollectionViewRestriction.objects.filter(collection=document.collection).exists()
    assert _anonymous(document.url) == 200
    assert document.file.name == private_name and "members" not in document.file.name
    for image in get_image_model().objects.filter(title__startswith="members"):
        assert not CollectionViewRestriction.objects.filter(collection=image.collection).exists(), image.title
        assert "members" not in image.file.name and _anonymous(image.file.url) == 200
    record = ImportedItem.objects.get(kind="attachment", source_id="62")
    assert record.data.get("unlisted") is True and not record.data.get("private")


@pytest.mark.django_db(transaction=True)
def test_a_reimport_leaves_a_file_where_an_editor_moved_it(settings, tmp_path, site_builder):
    """The import decides where a file goes only while it is where an import put it: a document
    an editor moved from the private collection into one of their own (the board's, say, with its
    own restriction) stays there when the draft it came with is published and imported again."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    export, uploads = _members_only(tmp_path, status="draft")
    run_import(export, media_dir=uploads)
    document = get_document_model().objects.get(title="members-minutes")
    board = Collection.get_first_root_node().add_child(name="Board only")
    CollectionViewRestriction.objects.create(
        collection=board, restriction_type=CollectionViewRestriction.PASSWORD, password="tide tables"
    )
    document.collection = board
    document.save()

    export, uploads = _members_only(tmp_path)
    run_import(export, media_dir=uploads)

    document.refresh_from_db()
    assert document.collection_id == board.pk
    answer = Client().get(document.url)
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert b"who came" not in body, "the board's password still asked for"


def test_publishing_an_imported_draft_opens_the_documents_it_links_to(imported):
    """A draft's files were kept private because nobody outside read the draft. Once an editor
    publishes it here, its readers must be able to open the document it links to; the files of
    the drafts still unpublished stay private."""
    from speakout.publishing.models import ReportPage

    minutes = get_document_model().objects.get(title="leak-minutes")
    assert _anonymous(minutes.url) == 302
    draft = ReportPage.objects.get(title="Draft report")
    assert minutes.url in str(draft.body.raw_data)
    other = get_image_model().objects.get(title="leak-pending")

    draft.save_revision().publish()

    minutes.refresh_from_db()
    assert not CollectionViewRestriction.objects.filter(collection=minutes.collection).exists()
    assert _anonymous(minutes.url) == 200
    assert _anonymous(draft.url) == 200
    other.refresh_from_db()
    assert CollectionViewRestriction.objects.filter(collection=other.collection).exists()


def test_publishing_opens_only_our_own_documents_and_only_on_a_page_anyone_may_read(imported):
    """A link to another site's /documents/N/ names no document here; and a report published
    behind a password or a sign-in keeps the documents it links to private."""
    from wagtail.models import PageViewRestriction

    from speakout.publishing.models import ReportPage

    minutes = get_document_model().objects.get(title="leak-minutes")
    draft = ReportPage.objects.get(title="Draft report")
    PageViewRestriction.objects.create(page=draft, restriction_type=PageViewRestriction.PASSWORD, password="pw")
    draft.save_revision().publish()
    minutes.refresh_from_db()
    assert _anonymous(minutes.url) == 302

    pending = ReportPage.objects.get(title="Pending report")
    pending.body = [("paragraph", f'<p><a href="https://elsewhere.example/documents/{minutes.pk}/x/">x</a></p>')]
    pending.save_revision().publish()
    minutes.refresh_from_db()
    assert _anonymous(minutes.url) == 302

    # The link Wagtail's editor makes (its attributes in either order), on a page anyone may read.
    for link in (f'<a id="{minutes.pk}" linktype="document">', f'<a linktype="document" id="{minutes.pk}">'):
        minutes.collection = Collection.objects.get(name="Imported, not public")
        minutes.save()
        pending.body = [("paragraph", f"<p>{link}minutes</a></p>")]
        pending.save_revision().publish()
        minutes.refresh_from_db()
        assert _anonymous(minutes.url) == 200, link
