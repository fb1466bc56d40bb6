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


@pytest.fixture
def granian_logging():
    """granian's own logging, as its worker process sets it up before it loads the application
    (whose LOGGING comes after: list this fixture before ``console``); put back afterwards."""
    from granian.log import LogLevels
    from granian.log import configure_logging as configure_granian

    names = ("_granian", "granian", "granian.access")
    saved = [(x, x.level, x.propagate, x.handlers[:]) for x in map(logging.getLogger, names)]
    configure_granian(LogLevels.warning)
    stream = io.StringIO()  # what granian's own handlers print, if they still print
    for logger in map(logging.getLogger, names):
        for handler in logger.handlers:
            handler.setStream(stream)
    try:
        yield stream
    finally:
        for logger, level, propagate, handlers in saved:
            logger.setLevel(level)
            logger.propagate, logger.handlers[:] = propagate, handlers


def test_granian_s_loggers_print_through_the_filter_and_its_access_log_not_at_all(granian_logging, console):
    """granian gives its loggers handlers of its own, printing to stdout without the filter; the
    project's LOGGING, applied when the worker loads the application, replaces them. Its access
    log (each reader's IP address, with ``--access-log``) prints nothing: the proxy's is enough."""
    from granian.log import access_logger, log_request_builder, logger

    try:
        raise RuntimeError(f"response iterator failed for {PERSON}")
    except RuntimeError:
        logger.exception("Application callable raised an exception")
    request = {"addr_remote": "203.0.113.7", "path": "/x/", "qs": "", "method": "GET", "scheme": "http",
               "protocol": "HTTP/1.1"}  # fmt: skip
    log_request_builder(None)(0.0, 0.0, request, 200)
    access_logger.warning("%s said hello", PERSON)

    log = console.getvalue() + granian_logging.getvalue()
    assert (
        "Application callable raised an exception" in log
        and "RuntimeError: response iterator failed for [email]" in log
    )
    assert "[email] said hello" in log and "203.0.113.7" not in log and "/x/" not in log
    assert_no_address(log)
    for name in ("_granian", "granian.access"):
        handlers = [x for x in logging.getLogger(name).handlers if not type(x).__module__.startswith("_pytest")]
        (handler,) = handlers
        assert any(isinstance(f, NoPersonalDataFilter) for f in handler.filters), name


# What the filter leaves as it is: attributes a call passes with ``extra=``.
RECORD_FIELDS = {
    "asctime", "created", "filename", "funcName", "levelname", "levelno", "lineno", "message", "module", "msecs",
    "name", "pathname", "process", "processName", "relativeCreated", "thread", "threadName", "taskName",
}  # fmt: skip


def test_formatters_print_no_attribute_a_call_adds_with_extra(console):
    """The filter masks a record's message, traceback and stack; a formatter printing another
    attribute (one passed with ``extra=``) would print it unmasked, so none does."""
    import re

    logging.getLogger("speakout.outbox").warning("Mail refused", extra={"recipient": PERSON})
    assert "Mail refused" in console.getvalue()
    assert_no_address(console.getvalue())
    for name, formatter in settings.LOGGING["formatters"].items():
        fields = set(re.findall(r"%\((\w+)\)", formatter.get("format", formatter.get("fmt", ""))))
        assert fields and fields <= RECORD_FIELDS, (name, fields - RECORD_FIELDS)
