"""What the interchange tests (and the real-WordPress and security tests) share: the shared
test data, snapshots of a site independent of database ids, and a site with every case."""

from __future__ import annotations

import io
import tarfile
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.contrib.auth import get_user_model
from PIL import Image
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page

from speakout.discussion import services
from speakout.discussion.models import Commenter, Reply, Thread, path_segment
from speakout.interchange.models import ImportedItem
from speakout.publishing.discussion import thread_for_report
from speakout.publishing.models import Author, Category, ReportPage, StandardPage
from tests.discussion.helpers import add_reply

# The shared real-world exports sit beside the repository (tests never copy them in); this also
# holds from a git worktree at /work/wt-NAME, whose sibling is /work/shared.
REPOSITORY = Path(__file__).resolve().parents[2]
TESTDATA = REPOSITORY.parent / "shared" / "testdata"
# The shared files are required: without them the parametrised tests would silently shrink.
if not (TESTDATA / "wordpress").is_dir():
    raise RuntimeError(f"The shared test data is missing: expected it at {TESTDATA} (../shared/testdata).")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def snapshot() -> dict:
    """What an import produced, independent of database ids: enough to compare two sites."""
    reports = {}
    for report in ReportPage.objects.order_by("title", "pk"):
        thread = Thread.objects.filter(key=report.thread_key).first()
        replies = []
        if thread is not None:
            rows = {r.pk: r for r in thread.replies.order_by("path")}
            for reply in rows.values():
                parent = rows.get(reply.parent_id)
                replies.append(
                    (
                        reply.author_name,
                        reply.body.strip(),
                        reply.status,
                        reply.kind,
                        reply.depth,
                        (parent.author_name, parent.body.strip()) if parent else None,
                    )
                )
        reports.setdefault(report.title, []).append(
            {
                "live": report.live,
                "date": report.date.replace(microsecond=0) if report.live else None,
                "categories": sorted(c.slug for c in report.categories.all()),
                "tags": sorted(t.name.lower() for t in report.tags.all()),
                "replies": sorted(replies, key=repr),
            }
        )
    return {
        "reports": reports,
        "pages": sorted((p.title, p.live) for p in StandardPage.objects.all()),
        "replies": Counter(Reply.objects.values_list("status", flat=True)),
        "kinds": Counter(Reply.objects.values_list("kind", flat=True)),
    }


def content_counts() -> dict:
    return {
        "pages": Page.objects.count(),
        "replies": Reply.objects.count(),
        "threads": Thread.objects.count(),
        "items": ImportedItem.objects.count(),
    }


def wipe_site(site) -> None:
    """Back to a site with only its home and an empty reports index."""
    for page in Page.objects.filter(depth__gt=site.index.depth - 1).exclude(pk__in=[site.home.pk, site.index.pk]):
        if Page.objects.filter(pk=page.pk).exists():
            page.delete()
    for model in (Reply, Thread, Commenter, ImportedItem, Redirect, Author, Category):
        model.objects.all().delete()


def reply_state(*, without_spam: bool = False) -> list[tuple]:
    """Every reply as a reader and a moderator know it, independent of database ids."""
    replies = {reply.pk: reply for reply in Reply.objects.select_related("commenter", "thread")}
    return sorted(
        (
            reply.thread.title,
            reply.author_name,
            reply.commenter.email if reply.commenter else "",
            reply.author_website,
            reply.created_at.replace(microsecond=0),
            reply.body,
            reply.body_html,
            reply.status,
            reply.kind,
            reply.depth,
            (replies[reply.parent_id].author_name, replies[reply.parent_id].body) if reply.parent_id else None,
        )
        for reply in replies.values()
        if not (without_spam and reply.status == Reply.Status.SPAM)
    )


def build_every_case(site_builder) -> dict:
    """Co-authors, a page with an owner, a reply stored before its parent, moved, trashed and
    spammed replies, a signed-in reply and an address WordPress refuses."""
    User = get_user_model()
    staff = User.objects.create_user("maria", "maria@example.org", "x", first_name="María", last_name="Ruiz")
    local = User.objects.create_user("root", "admin@localhost", "x")
    first, second = site_builder.author("Ana Díaz"), site_builder.author("Bo Chen")
    report = site_builder.report("Co-written", authors=[first, second])
    page = site_builder.standard_page("About us")
    page.owner = local
    page.save(update_fields=["owner"])
    thread = thread_for_report(report)
    early = add_reply(thread, "Stored before its parent (a Disqus file listed it first)", name="Early")
    parent = add_reply(thread, "The parent, with a **higher** id", name="Parent")
    Reply.objects.filter(pk=early.pk).update(parent=parent, path=parent.path + path_segment(early.pk), depth=1)
    answer = add_reply(thread, "An answer to the early reply", name="Answer", parent=Reply.objects.get(pk=early.pk))
    signed = add_reply(thread, "Signed in", name="María", user=staff)
    trashed = add_reply(thread, "Held, approved by a moderator, then trashed", name="Trashed")
    services.set_status(trashed, Reply.Status.PENDING)
    services.set_status(trashed, Reply.Status.APPROVED)
    services.set_status(trashed, Reply.Status.TRASH)
    spam = add_reply(thread, "Held, then spam", name="Spam")
    services.set_status(spam, Reply.Status.PENDING)
    services.set_status(spam, Reply.Status.SPAM)
    held = add_reply(thread, "Approved, then held", name="Held", parent=parent)
    services.set_status(held, Reply.Status.PENDING)
    odd = add_reply(thread, "From an address WordPress refuses", name="Root")
    Reply.objects.filter(pk=odd.pk).update(commenter=services.Commenter.objects.create(email="root@localhost"))
    return {
        "report": report,
        "page": page,
        "early": early,
        "parent": parent,
        "answer": answer,
        "signed": signed,
        "trashed": trashed,
        "spam": spam,
        "staff": staff,
        "local": local,
    }


# A small WordPress export with media, for the media tests and the admin's Import screen.


def picture(kind: str = "PNG", colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 12), colour).save(buffer, format=kind)
    return buffer.getvalue()


def media_tar() -> bytes:
    """WordPress.com's "Export media library" .tar of two pictures: year folders in a wrapping
    folder."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in {
            "old-collective-media/2024/01/photo.jpg": picture("JPEG"),
            "old-collective-media/2024/01/inline.png": picture("PNG"),
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def export(base: str) -> str:
    """A WordPress export of one post: an attachment, an image in the body that is not an
    attachment, a fake image (HTML), an SVG, and an image on another host."""
    return wxr(
        base,
        f"""<item><title>photo</title><wp:post_id>7</wp:post_id><wp:post_type>attachment</wp:post_type>
<wp:status>inherit</wp:status><wp:attachment_url>{base}/wp-content/uploads/2024/01/photo.jpg</wp:attachment_url></item>
<item><title>Our report</title><link>{base}/2024/01/02/our-report/</link>
<content:encoded><![CDATA[<p>Before.</p>
<p><img src="{base}/wp-content/uploads/2024/01/photo-300x150.jpg" alt="The photo"></p>
<p><img src="{base}/wp-content/uploads/2024/01/inline.png" alt="Inline"></p>
<p><img src="{base}/wp-content/uploads/2024/01/fake.png" alt="Fake"></p>
<p><img src="{base}/wp-content/uploads/2024/01/drawing.svg" alt="Drawing"></p>
<p>After.</p>]]></content:encoded>
<wp:post_id>8</wp:post_id><wp:post_date_gmt>2024-01-02 10:00:00</wp:post_date_gmt>
<wp:post_name>our-report</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
</item>""",
    )


def wxr(base: str, *items: str) -> str:
    """A WordPress export (WXR 1.2) of the site at ``base`` holding ``items`` (``<item>`` elements)."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Old Collective</title><link>{base}</link><wp:wxr_version>1.2</wp:wxr_version>
<wp:base_blog_url>{base}</wp:base_blog_url>
{"".join(items)}
</channel></rss>"""


def images_in(report) -> list:
    return [block.value["image"] for block in report.body if block.block_type == "image"]


def sign_in_as_editor(client, user) -> None:
    """``user`` as staff who may reach the admin but is no superuser."""
    from django.contrib.auth.models import Group, Permission

    user.is_staff = True
    user.save()
    group = Group.objects.get_or_create(name="Editors")[0]
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user.groups.add(group)
    client.force_login(user)


# Isso's own SQLite tables (what the Isso importer reads).
ISSO_SCHEMA = """
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR, text VARCHAR,
    author VARCHAR, email VARCHAR, website VARCHAR, likes INTEGER DEFAULT 0,
    dislikes INTEGER DEFAULT 0, voters BLOB, notification INTEGER DEFAULT 0);
"""


class OldSite:
    """The old site's media on a loopback HTTP server; ``files`` maps a path to (type, bytes)."""

    def __init__(self):
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                found = site.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
