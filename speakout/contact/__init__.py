"""The private contact form: a Wagtail page type, stored messages, an admin inbox."""
