from django.conf import settings
from wagtail.models import Site


def site(request):
    """Values every public template needs: the organisation's name and the canonical base URL."""
    wagtail_site = Site.find_for_request(request) if request is not None else None
    name = (wagtail_site.site_name if wagtail_site else "") or settings.SITE_NAME
    return {"SITE_NAME": name, "BASE_URL": settings.BASE_URL}
