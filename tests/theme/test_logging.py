"""The log filter masks e-mail addresses in everything a handler prints of a record: its message
and arguments, its exception's traceback and its stack (tests/privacy/test_logs.py runs it as the
project's LOGGING sets it up)."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from speakout.theme.logging import NoPersonalDataFilter

PLAIN = logging.Formatter("%(levelname)s %(name)s: %(message)s")


def failure(text: str):
    try:
        raise LookupError(text)
    except LookupError:
        return sys.exc_info()


def filtered(record: logging.LogRecord) -> logging.LogRecord:
    assert NoPersonalDataFilter().filter(record) is True  # masks, never drops
    return record


def message_of(text: str) -> str:
    return filtered(logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (text,), None)).getMessage()


def test_a_record_quoting_an_address_everywhere_comes_out_masked():
    record = logging.LogRecord(
        "speakout.outbox",
        logging.ERROR,
        __file__,
        1,
        "Mail %s to %s refused by <robin@example.org>",
        (42, "Robin.Gone@Example.ORG"),
        failure("550 5.1.1 <ROBIN.GONE@EXAMPLE.ORG>: mailbox unavailable"),
        sinfo='Stack (most recent call last):\n  File "x.py", line 1, in send\n    send("sam@example.net")',
    )

    filtered(record)

    assert record.getMessage() == "Mail 42 to [email] refused by <[email]>" and record.args == ()
    assert record.exc_text.endswith("LookupError: 550 5.1.1 <[email]>: mailbox unavailable")
    assert record.exc_info is None
    assert record.stack_info.endswith('send("[email]")')
    printed = PLAIN.format(record)
    assert printed.startswith("ERROR speakout.outbox: Mail 42 to [email] refused")
    assert "Traceback (most recent call last)" in printed and "LookupError" in printed and "Stack" in printed
    assert "@" not in printed and "example" not in printed.lower()


def test_a_formatter_that_renders_the_exception_itself_gets_nothing_to_render():
    """JSON formatters render exc_info themselves rather than the masked exc_text: it is gone."""

    class Json(logging.Formatter):
        def format(self, record):
            exception = self.formatException(record.exc_info) if record.exc_info else record.exc_text
            return json.dumps({"message": record.getMessage(), "exception": exception})

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), failure("no robin@example.org"))

    printed = Json().format(filtered(record))

    assert "robin" not in printed and "LookupError: no [email]" in json.loads(printed)["exception"]


def test_a_record_filtered_twice_and_one_already_formatted_are_masked():
    address = "robin@example.org"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "for %s", (address,), failure(address))
    record.exc_text = PLAIN.formatException(record.exc_info)  # a handler before this one formatted it

    filtered(filtered(record))

    assert record.getMessage() == "for [email]" and "robin" not in record.exc_text


def test_arguments_that_do_not_fit_the_message_are_printed_masked_and_raise_nothing():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%d sent to %s", ("robin@example.org",), None)

    filtered(record)

    assert "robin" not in record.getMessage() and "[email]" in record.getMessage()


def test_a_message_that_is_not_a_string_is_masked():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, ValueError("robin@example.org"), (), None)

    assert filtered(record).getMessage() == "[email]"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("robin@example.org", "[email]"),
        ("ROBIN.GONE@EXAMPLE.ORG", "[email]"),
        ("550 5.1.1 <robin+news@mail.example.co.uk>: unknown", "550 5.1.1 <[email]>: unknown"),
        ("{'o'brien@example.org': (550, b'no')}", "{[email]': (550, b'no')}"),
        ("b'robin_gone-2@sub.example-mail.org'", "[email]'"),
        ("to=robin@example.org, from=desk@org.example.", "to=[email], from=[email]."),
        ("rôbin@exämple.org", "[email]"),
        ("/unsubscribe/robin%40example.org/", "/unsubscribe/[email]/"),
        ("(robin@example.org)", "([email])"),
        # Django's EmailValidator takes a quoted local part and an IP literal for a domain.
        ('550 <"robin gone"@example.org> unknown', "550 <[email]> unknown"),
        ("for robin@[192.0.2.25]: refused", "for [email]: refused"),
        ("robin@[IPv6:2001:db8::1]", "[email]"),
        ('"robin, gone"%40example.org', "[email]"),
    ],
)
def test_addresses_are_masked_whole(text, masked):
    assert message_of(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Task id=97c18cec-3215 path=speakout.outbox.tasks.send_mail state=FAILED",
        '  File "/srv/speakout/outbox/services.py", line 588, in send_due_mail',
        "    @property",
        "@media (max-width: 40em)",
        "root@localhost refused",
        "Outgoing mail 12 failed after 5 attempts: SMTPRecipientsRefused",
        "GET /reports/2024/a-report/ -> 500",
    ],
)
def test_text_without_an_address_is_left_alone(text):
    assert message_of(text) == text
