"""The discussion tests use the shared fixtures of tests/conftest.py and tests/discussion/helpers.py."""
