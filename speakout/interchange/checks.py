from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_private_dir(app_configs, **kwargs):
    """Uploaded imports wait in SPEAKOUT_PRIVATE_DIR: inside a served folder they would be public."""
    private = Path(settings.SPEAKOUT_PRIVATE_DIR).resolve()
    errors = []
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        served = getattr(settings, name, None)
        if served and (private == Path(served).resolve() or private.is_relative_to(Path(served).resolve())):
            errors.append(
                Error(
                    f"SPEAKOUT_PRIVATE_DIR ({private}) must not be inside {name} ({served}): "
                    "its files would be served.",
                    id="speakout_interchange.E001",
                )
            )
    return errors
