"""The blocks a report's body is made of.

Every block renders with a template under ``publishing/blocks/`` so a site can restyle them by
overriding templates. Images demand alt text in the editor (WCAG: text alternatives), and media
links render as plain links: no player or oEmbed request reaches another origin on page view.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul", "superscript", "subscript"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Heading"), max_length=200)
    level = blocks.ChoiceBlock(
        choices=[("h2", _("Section (level 2)")), ("h3", _("Subsection (level 3)"))], default="h2", label=_("Level")
    )

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "publishing/blocks/heading.html"


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(label=_("Quotation"))
    attribution = blocks.CharBlock(label=_("Who said it"), required=False, max_length=200)

    class Meta:
        icon = "openquote"
        label = _("Quote")
        template = "publishing/blocks/quote.html"


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    alt_text = blocks.CharBlock(
        label=_("Alt text"), max_length=300, help_text=_("Describe the image for people who cannot see it. Required.")
    )
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=300)
    credit = blocks.CharBlock(label=_("Credit"), required=False, max_length=200)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "publishing/blocks/image.html"


class MediaLinkBlock(blocks.StructBlock):
    url = blocks.URLBlock(label=_("Address of the video, audio or document"))
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    description = blocks.TextBlock(label=_("What it is"), required=False)
    kind = blocks.ChoiceBlock(
        choices=[("video", _("Video")), ("audio", _("Audio")), ("other", _("Other media"))],
        default="video",
        label=_("Kind"),
    )

    class Meta:
        icon = "media"
        label = _("Media link")
        template = "publishing/blocks/media_link.html"


class ReportBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Paragraph"))
    quote = QuoteBlock()
    image = CaptionedImageBlock()
    media_link = MediaLinkBlock()


class NoteBlock(blocks.StructBlock):
    """A numbered note shown after the body. Link to it from the text with ``#note-N``."""

    text = blocks.RichTextBlock(features=["bold", "italic", "link"], label=_("Note"))

    class Meta:
        icon = "list-ol"
        label = _("Note")
