import logging
import re

# An e-mail address as it appears in running text: a local part of letters (any script), digits
# and the . _ + ' - that real addresses use (RFC 5322 allows more, as rare as they are unhelpful
# here: "=" or "/" would take "to=" or a path along), or a quoted one; then "@" (or "%40",
# URL-encoded) and a domain of two labels or more, or an IP literal in brackets, as Django's
# EmailValidator takes them. The whole address goes, domain included: a person's own domain names
# them as well as the local part does, and a log line cannot be erased by "forget me".
EMAIL_ADDRESS = re.compile(
    r"""(?:[\w.+'-]+|"[^"\r\n]{1,64}")(?:@|%40)(?:[\w-]+(?:\.[\w-]+)+|\[(?:IPv6:)?[0-9A-Fa-f:.]+\])"""
)
MASK = "[email]"

_exception_formatter = logging.Formatter()


def mask_addresses(text: str) -> str:
    return EMAIL_ADDRESS.sub(MASK, text)


class NoPersonalDataFilter(logging.Filter):
    """Keep log lines free of personal data.

    Django attaches the request to ``django.request`` records and some handlers print it,
    which would leak IP addresses, cookies and query strings. We drop the request object and
    keep only what an operator needs to see that something failed.

    Any record's text can also quote an e-mail address: a mail server's refusal in a failed
    background task's traceback, a database error naming a row's values, our own messages. The
    final message, the traceback and the stack are rendered here with the addresses masked, so
    what the handler prints is the masked text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None:
            record.request = None
            method = getattr(request, "method", "?")
            path = getattr(request, "path", "?")
            record.msg = f"{method} {path} -> {getattr(record, 'status_code', '?')}"
            record.args = ()
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit: a filter's error would reach the caller
            message = f"{record.msg} (arguments: {record.args!r})"
        record.msg = mask_addresses(message)
        record.args = ()
        if record.exc_info:
            # Formatters print exc_text when it is set, but some (JSON ones) format exc_info
            # themselves: the masked text replaces it.
            if not record.exc_text:
                record.exc_text = _exception_formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_addresses(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_addresses(record.stack_info)
        return True
