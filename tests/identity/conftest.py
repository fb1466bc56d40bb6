from tests.browser.conftest import chromium  # noqa: F401  (Debian's Chromium through Playwright)
from tests.identity.oidc import oidc_provider  # noqa: F401
