"""The Contact page type and the messages it stores.

Messages are private: they are never shown on the site, only in the admin inbox. The
organisation's addresses (``ContactPage.recipients``) are never printed on the page either.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul"]


def _lines(text: str) -> list[str]:
    """The text's non-blank lines, trimmed, each once, in order."""
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))


class ContactPage(Page):
    """A contact form the editor places under the home page or a standard page."""

    intro = RichTextField(_("introduction"), features=RICH_TEXT_FEATURES, blank=True)
    topics = models.TextField(_("topics"), blank=True, help_text=_("One per line. Leave empty to ask for no topic."))
    recipients = models.TextField(
        _("recipient addresses"),
        blank=True,
        help_text=_("One email address per line. Every message is mailed to each. Never shown on the page."),
    )
    thank_you = RichTextField(_("thank-you text"), features=RICH_TEXT_FEATURES, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("topics"),
        MultiFieldPanel([FieldPanel("recipients"), FieldPanel("thank_you")], heading=_("After sending")),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["speakout_publishing.HomePage", "speakout_publishing.StandardPage"]
    subpage_types: list[str] = []

    template = "contact/contact_page.html"

    class Meta:
        verbose_name = _("contact page")

    @property
    def topic_list(self) -> list[str]:
        return _lines(self.topics)

    @property
    def recipient_list(self) -> list[str]:
        return _lines(self.recipients)

    def clean(self):
        super().clean()
        bad = []
        for address in self.recipient_list:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                {"recipients": _("Not valid email addresses: %(addresses)s") % {"addresses": ", ".join(bad)}}
            )

    def serve(self, request, *args, **kwargs):
        from .views import serve_contact_page

        return serve_contact_page(self, request, *args, **kwargs)


class ContactMessage(models.Model):
    """One message sent through a contact page. Private: shown only in the admin inbox."""

    page = models.ForeignKey(
        ContactPage,
        verbose_name=_("contact page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    is_spam = models.BooleanField(_("spam"), default=False)
    spam_reason = models.CharField(_("why it is spam"), max_length=500, blank=True)
    client_hash = models.CharField(_("client hash"), max_length=64, blank=True)
    copy_requested = models.BooleanField(_("copy requested"), default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        # The data rights pages read an address's messages in any spelling of its case
        # (``privacy.services``); without this index, a scan of every message.
        indexes = [models.Index(Upper("email"), name="speakout_contact_email_upper")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
