"""The integration tests drive the real `speakout run` process; see server.py."""

from tests.integration.server import (  # noqa: F401
    pytest_collection_modifyitems,  # keeps the "server" xdist group on one worker
    speakout_server,  # the shared `speakout run` process
)
