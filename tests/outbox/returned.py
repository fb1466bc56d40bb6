"""Returned mail as real mail servers write it, around a message the outbox really sent.

``postfix_dsn`` follows Postfix's bounce and delay notices (its bounce(8) templates: a text part,
a message/delivery-status part, then the message or, for a delay, its headers), delivered the
way Postfix hands mail to Dovecot's LDA: Return-Path, X-Original-To and Delivered-To on top.
``arf_report`` follows the feedback loops of large mailbox providers (RFC 5965, as in its
appendix B): sent to the address registered for the loop, not to the return path, with the
complained-about message attached as the reader's server stored it (Return-Path on top).
"""

from __future__ import annotations

from email.utils import format_datetime

from django.utils import timezone

SERVER = "mail.example.org"
QUEUE_ID = "4dQZ1K3xYwz9sWq"


def _date() -> str:
    return format_datetime(timezone.now())


def _delivered(recipient: str, sender: str = "") -> bytes:
    return (f"Return-Path: <{sender}>\r\nX-Original-To: {recipient}\r\nDelivered-To: {recipient}\r\n").encode()


def postfix_dsn(
    return_path: str,
    original: bytes,
    *,
    recipient: str,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    delivered_to: str | None = None,
) -> bytes:
    """A Postfix DSN about ``original`` (the bytes the outbox sent), sent to ``return_path``."""
    diagnostic = diagnostic.format(rcpt=recipient)
    boundary = f"{QUEUE_ID}.1764954001/{SERVER}"
    delay = action == "delayed"
    subject = "Delayed Mail (still being retried)" if delay else "Undelivered Mail Returned to Sender"
    if delay:
        text = (
            f"This is the mail system at host {SERVER}.\r\n\r\n"
            "####################################################################\r\n"
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
            "####################################################################\r\n\r\n"
            "Your message could not be delivered for more than 4 hour(s).\r\n"
            "It will be retried until it is 5 day(s) old.\r\n"
        )
        returned_type, returned = "text/rfc822-headers", original.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    else:
        text = (
            f"This is the mail system at host {SERVER}.\r\n\r\n"
            "I'm sorry to have to inform you that your message could not\r\n"
            "be delivered to one or more recipients. It's attached below.\r\n\r\n"
            "For further assistance, please send mail to postmaster.\r\n\r\n"
            "If you do so, please include this problem report. You can\r\n"
            "delete your own text from the attached returned message.\r\n\r\n"
            "                   The mail system\r\n\r\n"
            f"<{recipient}>: host mx.example.net[192.0.2.25] said: {diagnostic.partition('; ')[2]}\r\n"
            "    (in reply to RCPT TO command)\r\n"
        )
        returned_type, returned = "message/rfc822", original
    head = (
        f"Received: by {SERVER} (Postfix)\r\n\tid {QUEUE_ID}; {_date()}\r\n"
        f"Date: {_date()}\r\n"
        f"From: MAILER-DAEMON@{SERVER} (Mail Delivery System)\r\n"
        f"Subject: {subject}\r\n"
        f"To: {return_path}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="{boundary}"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n"
        f"Message-Id: <20261205170001.{QUEUE_ID}@{SERVER}>\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n\r\n"
    )
    recipient_block = (
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mx.example.net\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
    )
    if delay:
        recipient_block += "Will-Retry-Until: Thu, 10 Dec 2026 17:00:00 +0000 (UTC)\r\n"
    body = (
        f"--{boundary}\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{text}\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {SERVER}\r\n"
        f"X-Postfix-Queue-ID: {QUEUE_ID}\r\n"
        f"X-Postfix-Sender: rfc822; {return_path}\r\n"
        "Arrival-Date: Sat,  5 Dec 2026 16:59:58 +0000 (UTC)\r\n\r\n"
        f"{recipient_block}\r\n"
        f"--{boundary}\r\n"
        f"Content-Description: {'Undelivered Message Headers' if delay else 'Undelivered Message'}\r\n"
        f"Content-Type: {returned_type}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode()
    return (
        _delivered(delivered_to or return_path) + head.encode() + body + returned + f"\r\n--{boundary}--\r\n".encode()
    )


def arf_report(
    return_path: str, original: bytes, *, recipient: str, feedback_type: str = "abuse", to: str = "fbl@example.org"
) -> bytes:
    """A feedback-loop complaint about ``original``, sent to the loop's registered address."""
    boundary = "part1_13d.2e68ed54_boundary"
    stored_original = (
        f"Return-Path: <{return_path}>\r\n"
        f"Received: from mail.example.org ([192.0.2.1])\r\n\tby mx.example.net; {_date()}\r\n"
    ).encode() + original
    message = (
        "From: <feedbackloop@mx.example.net>\r\n"
        f"Date: {_date()}\r\n"
        "Subject: FW: complaint about message from 192.0.2.1\r\n"
        f"To: <{to}>\r\n"
        "Message-ID: <fbl.20261205@mx.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        'Content-Type: text/plain; charset="US-ASCII"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n\r\n"
        "This is an email abuse report for an email message received from IP\r\n"
        "192.0.2.1 on Sat, 5 Dec 2026 17:00:00 +0000.\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: {feedback_type}\r\n"
        "User-Agent: ExampleFBL/2.1\r\n"
        "Version: 1\r\n"
        f"Original-Mail-From: <{return_path}>\r\n"
        f"Original-Rcpt-To: <{recipient}>\r\n"
        "Arrival-Date: Sat, 5 Dec 2026 17:00:00 +0000\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "Source-IP: 192.0.2.1\r\n"
        "Reported-Domain: example.org\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/rfc822\r\n"
        "Content-Disposition: inline\r\n\r\n"
    ).encode()
    return _delivered(to, "") + message + stored_original + f"\r\n--{boundary}--\r\n".encode()


def qmail_bounce(return_path: str, original: bytes, *, recipient: str, remote: str = "") -> bytes:
    """A plain-text bounce as qmail-send writes it (no MIME report): the failed address in angle
    brackets, the remote server's words, then the original message after a separator line."""
    remote = remote or f"Remote host said: 550 5.1.1 <{recipient}>... User unknown"
    return (
        _delivered(return_path)
        + (
            f"Date: {_date()}\r\n"
            f"From: MAILER-DAEMON@{SERVER}\r\n"
            f"To: {return_path}\r\n"
            "Subject: failure notice\r\n"
            f"Message-ID: <20261205170002.4711.qmail@{SERVER}>\r\n"
            "\r\n"
            f"Hi. This is the qmail-send program at {SERVER}.\r\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\r\n"
            "\r\n"
            f"<{recipient}>:\r\n"
            f"192.0.2.25 does not like recipient.\r\n"
            f"{remote}\r\n"
            "Giving up on 192.0.2.25.\r\n"
            "\r\n"
            "--- Below this line is a copy of the message.\r\n"
            "\r\n"
        ).encode()
        + original
    )


def exim_bounce(
    return_path: str, original: bytes, *, recipient: str, delayed: bool = False, headers_only: bool = False
) -> bytes:
    """A plain-text bounce or delay warning as Exim writes them without a MIME report: the failed
    address indented, the SMTP error, then the returned message (or only its headers)."""
    if delayed:
        subject = "Warning: message 1vR2xK-0004Zq-3C delayed 24 hours"
        text = (
            "This message was created automatically by mail delivery software.\r\n"
            "A message that you sent has not yet been delivered to one or more of its\r\n"
            "recipients after more than 24 hours on the queue on mx.example.net.\r\n"
            "\r\n"
            "The message identifier is:     1vR2xK-0004Zq-3C\r\n"
            "\r\n"
            "The address to which the message has not yet been delivered is:\r\n"
            "\r\n"
            f"  {recipient}\r\n"
            "    Delay reason: SMTP error from remote mail server after RCPT TO:\r\n"
            f"    <{recipient}>: 451 4.3.0 Temporary lookup failure\r\n"
            "\r\n"
            "No action is required on your part. Delivery attempts will continue for\r\n"
            "some time, and this warning may be repeated at intervals if the message\r\n"
            "remains undelivered. Eventually the mail delivery software will give up,\r\n"
            "and when that happens, the message will be returned to you.\r\n"
        )
    else:
        subject = "Mail delivery failed: returning message to sender"
        text = (
            "This message was created automatically by mail delivery software.\r\n"
            "\r\n"
            "A message that you sent could not be delivered to one or more of its\r\n"
            "recipients. This is a permanent error. The following address(es) failed:\r\n"
            "\r\n"
            f"  {recipient}\r\n"
            "    host mx.example.net [192.0.2.25]\r\n"
            f"    SMTP error from remote mail server after RCPT TO:<{recipient}>:\r\n"
            f"    550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\r\n"
        )
    returned = original.split(b"\r\n\r\n", 1)[0] + b"\r\n" if headers_only or delayed else original
    return (
        _delivered(return_path)
        + (
            f"Return-path: <>\r\n"
            f"Envelope-to: {return_path}\r\n"
            f"Date: {_date()}\r\n"
            "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
            f"To: {return_path}\r\n"
            f"Subject: {subject}\r\n"
            "Auto-Submitted: auto-replied\r\n"
            "Message-Id: <E1vR3aB-0005Xy-9Q@mx.example.net>\r\n"
            "\r\n"
            f"{text}"
            "\r\n"
            "------ This is a copy of the message, including all the headers. ------\r\n"
            "\r\n"
        ).encode()
        + returned
    )
