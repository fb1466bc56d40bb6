"""Fresh per-reader values for a shared page's script (holes.py)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .holes import fill, spec_for

# A page has a handful of markers (a time-trap token, a submission id).
MAX_MARKERS = 16


@never_cache
@require_GET
def fill_values(request):
    """``GET ?m=MARKER&m=MARKER`` → ``{"values": [...]}`` in the same order."""
    markers = request.GET.getlist("m")
    specs = [spec_for(value) for value in markers[:MAX_MARKERS]]
    if not markers or len(markers) > MAX_MARKERS or None in specs:
        return JsonResponse({"error": "Not a value this site fills in."}, status=400)
    return JsonResponse({"values": [fill(spec) for spec in specs]})
