import logging


class NoPersonalDataFilter(logging.Filter):
    """Keep log lines free of personal data.

    Django attaches the request to ``django.request`` records and some handlers print it,
    which would leak IP addresses, cookies and query strings. We drop the request object and
    keep only what an operator needs to see that something failed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None:
            record.request = None
            method = getattr(request, "method", "?")
            path = getattr(request, "path", "?")
            record.msg = f"{method} {path} -> {getattr(record, 'status_code', '?')}"
            record.args = ()
        return True
