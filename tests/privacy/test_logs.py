"""The logs carry no e-mail address (docs/privacy.md): "forget me" erases rows, never a line the
worker or the web process already wrote to its stderr or the journal.

Logging is set up as at start-up, from the project's LOGGING (after Django's defaults, as
Django does), with the console handler writing to a buffer; what reaches it is what an operator
would read.
"""

from __future__ import annotations

import copy
import io
import logging

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils.log import configure_logging

from speakout.discussion.models import Commenter
from speakout.theme.logging import NoPersonalDataFilter
from speakout.worker import run_due_jobs
from tests.privacy.tasks import DATABASE_TASKS, refused_by_the_mail_server, run_the_worker

PERSON = "Robin.Gone@Example.org"


@pytest.fixture
def console():
    """The project's logging, its console handler writing to the returned buffer; the test
    process's own logging is put back afterwards."""
    loggers = [logging.root, *(x for x in logging.root.manager.loggerDict.values() if isinstance(x, logging.Logger))]
    saved = [(x, x.level, x.propagate, x.disabled, x.handlers[:], x.filters[:]) for x in loggers]
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["stream"] = stream
    configure_logging(settings.LOGGING_CONFIG, config)
    try:
        yield stream
    finally:
        for logger, level, propagate, disabled, handlers, filters in saved:
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled
            logger.handlers[:], logger.filters[:] = handlers, filters


def assert_no_address(log: str) -> None:
    assert "robin.gone" not in log.lower(), log
    assert "example.org" not in log.lower(), log


@pytest.mark.django_db
def test_a_failed_task_is_logged_without_the_address_its_error_quotes(console, monkeypatch):
    """django-tasks logs a failed task's traceback at ERROR; a mail server's refusal in it quotes
    the address. The failure is still reported: the task, its id and the exception's class."""
    commenter = Commenter.objects.create(email=PERSON)
    with override_settings(TASKS=DATABASE_TASKS):
        result = refused_by_the_mail_server.enqueue(commenter.pk)
        run_the_worker(monkeypatch)

    log = console.getvalue()
    assert f"Task id={result.id} path=tests.privacy.tasks.refused_by_the_mail_server state=FAILED" in log
    assert "Traceback (most recent call last)" in log and "smtplib.SMTPRecipientsRefused" in log
    assert_no_address(log)
    assert "550" in log and "[email]" in log


def fail_quoting_an_address():
    raise ValueError(f"no subscription for {PERSON.lower()}")


def test_a_failed_scheduled_job_is_logged_without_the_address_its_error_quotes(console):
    """The worker's clock logs a scheduled job's failure (speakout.worker, through the root)."""
    job = ("privacy-logs-test", 60, f"{__name__}.fail_quoting_an_address")

    assert run_due_jobs(1000.0, {}, jobs=[job]) == []

    log = console.getvalue()
    assert "Scheduled job privacy-logs-test failed" in log and "ValueError: no subscription for [email]" in log
    assert_no_address(log)


def test_our_own_log_lines_and_djangos_are_masked(console):
    logging.getLogger("speakout.outbox").warning("Mail to %s refused", PERSON)
    logging.getLogger("django.security.csrf").warning("Forbidden for %s", PERSON.upper())
    failed = ValueError(PERSON)
    logging.getLogger("django.request").error("Internal Server Error: /x/", exc_info=failed, stack_info=True)

    log = console.getvalue()
    assert "Mail to [email] refused" in log and "Forbidden for [email]" in log and "ValueError: [email]" in log
    assert_no_address(log)


def test_every_handler_that_prints_has_the_filter(console):
    """Django's defaults give the "django" logger a console handler of its own (printing when
    DEBUG is on) that the project's filter would not be on; LOGGING replaces it."""
    for logger in [logging.root, *logging.root.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest"):
                assert any(isinstance(f, NoPersonalDataFilter) for f in handler.filters), (logger.name, handler)
    for name, handler in settings.LOGGING["handlers"].items():
        assert "no_personal_data" in handler.get("filters", []), name
