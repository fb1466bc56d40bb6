from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from wagtail.models import Page

from speakout.discussion.models import Reply, Thread
from speakout.interchange.models import ImportedItem
from speakout.publishing.models import ReportPage, StandardPage

# The shared real-world exports sit beside the repository (tests never copy them in); this also
# holds from a git worktree at /work/wt-NAME, whose sibling is /work/shared.
REPOSITORY = Path(__file__).resolve().parents[2]
TESTDATA = REPOSITORY.parent / "shared" / "testdata"
# The shared files are required: without them the parametrised tests would silently shrink.
if not (TESTDATA / "wordpress").is_dir():
    raise RuntimeError(f"The shared test data is missing: expected it at {TESTDATA} (../shared/testdata).")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def site(site_builder):
    return site_builder


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


@pytest.fixture
def site_builder_transactional(transactional_db):
    from tests.helpers import SiteBuilder

    return SiteBuilder()
