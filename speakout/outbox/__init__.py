"""The durable mail outbox: every outgoing mail is a row, written in the transaction that caused
it and sent by the worker with retries, so a mail server outage or a crash loses nothing.

Queue mail with :func:`speakout.outbox.services.queue_mail`; nothing else here is public API.
"""
