from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET
from wagtail.models import Page

SEARCH_RESULTS_PER_PAGE = 10


@require_GET
def search(request):
    """Site search over published, public pages only (drafts and private pages never show)."""
    query = request.GET.get("q", "").strip()[:200]
    results = None
    if query:
        matches = Page.objects.live().public().specific().search(query)
        paginator = Paginator(matches, SEARCH_RESULTS_PER_PAGE)
        try:
            results = paginator.page(request.GET.get("page") or 1)
        except (EmptyPage, PageNotAnInteger):
            results = paginator.page(1)
    return render(request, "publishing/search.html", {"query": query, "results": results})


@require_GET
def robots_txt(request):
    return render(
        request,
        "publishing/robots.txt",
        {"sitemap_url": f"{settings.BASE_URL}/sitemap.xml"},
        content_type="text/plain; charset=utf-8",
    )
