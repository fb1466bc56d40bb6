import secrets

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET
from wagtail.models import Locale, Page, PageViewRestriction

from speakout.theme.languages import content_default, supported

SEARCH_RESULTS_PER_PAGE = 10
REPLY_RESULTS = 20
EXCERPT_CHARS = 90


@require_GET
def search(request):
    """Site search over published, public pages only (drafts and private pages never show)."""
    query = request.GET.get("q", "").strip()[:200]
    language = search_language(request)
    results = None
    if query:
        # One language's pages: the header's form sends the language of the page it sits on.
        locale = Locale.objects.filter(language_code=language).first()
        pages = Page.objects.live().public().filter(locale=locale)
        matches = pages.specific().search(query)
        paginator = Paginator(matches, SEARCH_RESULTS_PER_PAGE)
        try:
            results = paginator.page(request.GET.get("page") or 1)
        except (EmptyPage, PageNotAnInteger):
            results = paginator.page(1)
    replies = matching_replies(query, language) if query else []
    context = {"query": query, "results": results, "replies": replies, "search_language": language}
    return render(request, "publishing/search.html", context)


def search_language(request) -> str:
    """The language searched in: the form's ``lang``, else the reader's interface language if
    pages are written in it, else the default language."""
    for code in (request.GET.get("lang"), get_language()):
        language = supported(code)
        if language and Page.objects.filter(locale__language_code=language, depth__gt=1).exists():
            return language
    return content_default()


def matching_replies(query: str, language: str | None = None) -> list[dict]:
    """The newest published replies whose text holds ``query``, on live public reports only:
    exactly what a reader could read on those pages (in ``language``, when given)."""
    from speakout.discussion.services import reportable_replies

    from .models import ReportPage

    rows = list(
        reportable_replies()
        .filter(body__icontains=query, thread__key__startswith="report-")
        .order_by("-created_at", "-pk")
        .values("pk", "author_name", "body", "created_at", "thread__key")[: REPLY_RESULTS * 2]
    )
    ids = {int(key) for row in rows if (key := row["thread__key"].removeprefix("report-")).isdigit()}
    reports = ReportPage.objects.live().public().filter(pk__in=ids)
    if language:
        reports = reports.filter(locale__language_code=language)
    pages = {page.pk: page for page in reports}
    found = []
    for row in rows:
        page = pages.get(int(row["thread__key"].removeprefix("report-") or 0))
        if page is None:
            continue
        found.append(
            {"page": page, "id": row["pk"], "author": row["author_name"], "excerpt": _excerpt(row["body"], query)}
        )
        if len(found) == REPLY_RESULTS:
            break
    return found


def _excerpt(text: str, query: str) -> str:
    """A line of the reply around the first place it holds ``query``."""
    text = " ".join(text.split())
    at = text.lower().find(query.lower())
    start = max(0, at - EXCERPT_CHARS)
    end = min(len(text), max(at, 0) + len(query) + EXCERPT_CHARS)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


@require_GET
def robots_txt(request):
    return render(
        request,
        "publishing/robots.txt",
        {"sitemap_url": f"{settings.BASE_URL}/sitemap.xml"},
        content_type="text/plain; charset=utf-8",
    )


def authenticate_with_password(request, page_view_restriction_id, page_id):
    """Wagtail's password form for a protected page, with attempts limited per client and per
    page (``SPEAKOUT_PAGE_PASSWORD_ATTEMPTS``; a client past its own limit no longer counts
    against the page's). Past a limit every attempt is checked against a
    password nobody can know, so the refusal is Wagtail's own "not correct" page, word for word:
    it tells a guesser nothing, and a right guess past the limit opens nothing."""
    from django.urls import reverse
    from wagtail import views as wagtail_views
    from wagtail.forms import PasswordViewRestrictionForm

    from speakout.discussion.clients import client_hash
    from speakout.net import ratelimit

    if request.method == "POST":
        per_client, per_page, window = settings.SPEAKOUT_PAGE_PASSWORD_ATTEMPTS
        # A client already stopped is not counted against the page: alone it could otherwise use
        # up the page's attempts and shut out every reader who knows the password.
        allowed = ratelimit.allow(
            f"speakout:page-password:client:{client_hash(request)}", per_client, window
        ) and ratelimit.allow(f"speakout:page-password:page:{page_id}", per_page, window)
        if not allowed:
            restriction = get_object_or_404(PageViewRestriction, id=page_view_restriction_id)
            page = get_object_or_404(Page, id=page_id).specific
            unknowable = PageViewRestriction(password=secrets.token_urlsafe(32))
            form = PasswordViewRestrictionForm(request.POST, instance=unknowable)
            form.is_valid()
            form.restriction = restriction
            action_url = reverse("wagtailcore_authenticate_with_password", args=[restriction.id, page.id])
            return page.serve_password_required_response(request, form, action_url)
    return wagtail_views.authenticate_with_password(request, page_view_restriction_id, page_id)
