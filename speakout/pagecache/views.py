"""The two views behind fill markers (holes.py): fresh per-reader values for a shared page's
script, and a second chance for a form sent without them."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.views import csrf
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .holes import fill, spec_for

# A page has a handful of markers (the CSRF token, a time-trap token, a submission id).
MAX_MARKERS = 16


@never_cache
@require_GET
def fill_values(request):
    """``GET ?m=MARKER&m=MARKER`` → ``{"values": [...]}`` in the same order. Filling the CSRF
    token sets or refreshes the reader's CSRF cookie, as on any page Django renders."""
    markers = request.GET.getlist("m")
    specs = [spec_for(value) for value in markers[:MAX_MARKERS]]
    if not markers or len(markers) > MAX_MARKERS or None in specs:
        return JsonResponse({"error": "Not a value this site fills in."}, status=400)
    return JsonResponse({"values": [fill(spec, request) for spec in specs]})


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``. A form from a shared page sent without its values filled in (the
    reader's browser runs no JavaScript) is shown back with them filled in, so one press sends
    it: nothing the reader wrote is lost. Django's own page for every other failure."""
    if request.method == "POST":
        fields = [(name, value) for name, values in request.POST.lists() for value in values]
        if any(spec_for(value) is not None for _name, value in fields):
            filled = []
            for name, value in fields:
                spec = spec_for(value)
                filled.append((name, fill(spec, request) if spec is not None else value))
            context = {"fields": filled, "action": request.get_full_path(), "text": request.POST.get("body", "")}
            return render(request, "pagecache/send_again.html", context, status=403)
    return csrf.csrf_failure(request, reason)
