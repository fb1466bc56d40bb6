"""The integration tests drive the real `speakout run` process; see server.py."""

from tests.integration.server import speakout_server  # noqa: F401  (the shared fixture)
