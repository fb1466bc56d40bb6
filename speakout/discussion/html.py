"""Fast HTML for reply lists.

A thread page can hold hundreds of replies; rendering each through a template include costs
about a millisecond apiece, which is most of a page's time. The reply markup is therefore built
here with plain string formatting: every value that came from a person goes through ``escape``,
the body is the HTML sanitised when the reply was written, and translated labels are looked up
once per page. To change the markup, point ``SPEAKOUT_DISCUSSION_REPLY_RENDERER`` at another
``ReplyRenderer`` subclass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from weakref import WeakKeyDictionary

from django.template import Engine, TemplateDoesNotExist
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from . import app_settings
from .avatars import DEFAULT_KEY
from .collapse import split_long
from .models import Reply
from .reading import ReplyNode


@dataclass(frozen=True)
class ProvenIdentity:
    """Who wrote a reply, as an app proved it (a Fediverse actor's signature), never typed text:
    the handle shown beside the name, the profile it links to, and a same-origin avatar path."""

    handle: str
    profile_url: str = ""
    avatar_url: str = ""

    @property
    def host(self) -> str:
        """The server of an ``@user@host`` handle."""
        return self.handle.rsplit("@", 1)[-1] if self.handle.count("@") == 2 else ""


# Apps that prove who wrote some replies add a function here (in their AppConfig.ready): given the
# replies about to be shown, it answers {reply id: ProvenIdentity}. Called once per rendered list.
IDENTITY_SOURCES: list[Callable[[Sequence[Reply]], dict[int, ProvenIdentity]]] = []


def proven_identities(replies: Sequence[Reply]) -> dict[int, ProvenIdentity]:
    found: dict[int, ProvenIdentity] = {}
    if replies:
        for source in IDENTITY_SOURCES:
            found.update(source(replies))
    return found


_AVATAR_PATTERNS: dict[tuple[object, str], str] = {}


def avatar_url_pattern() -> str:
    """The avatar view's path with ``{key}`` in place of the key. Reversed once per URL
    configuration (Django makes a new resolver when it changes) and script prefix: every reply
    post and every reply list asks for it."""
    key = (get_resolver(get_urlconf()), get_script_prefix())
    pattern = _AVATAR_PATTERNS.get(key)
    if pattern is None:
        if len(_AVATAR_PATTERNS) >= 16:  # a bound: old resolvers are not kept alive
            _AVATAR_PATTERNS.clear()
        pattern = _AVATAR_PATTERNS[key] = reverse("discussion:avatar", args=["0" * 16]).replace("0" * 16, "{key}")
    return pattern


_SHIPPED: WeakKeyDictionary[Engine, dict[str, bool]] = WeakKeyDictionary()


def is_shipped(name: str, templates: Path) -> bool:
    """Whether the template ``name`` is the one in ``templates`` (an app's own folder) and not
    one a project put in its place. HTML written out in Python stands in for a template only while
    the template is ours: an override is rendered as written. Asked once per template engine
    (Django makes a new one when the ``TEMPLATES`` setting changes)."""
    engine = Engine.get_default()
    known = _SHIPPED.setdefault(engine, {})
    shipped = known.get(name)
    if shipped is None:
        try:
            origin = engine.get_template(name).origin.name
        except TemplateDoesNotExist:
            origin = ""
        shipped = known[name] = bool(origin) and Path(origin).resolve() == (templates / name).resolve()
    return shipped


def avatar_url(key: str) -> str:
    return avatar_url_pattern().format(key=key or DEFAULT_KEY)


class ReplyRenderer:
    """Renders one reply as an <article>. Subclass and override ``render`` to change the markup.

    A reply whose text is longer than ``collapse_longer_than`` characters shows its first
    ``collapse_lead`` or so and folds the rest (``body``); set it to 0 to show every reply whole."""

    collapse_longer_than = 3000
    collapse_lead = 1200

    def __init__(self, *, accepts_replies: bool):
        self.accepts_replies = accepts_replies
        self.labels = {
            "reply": escape(pgettext("action on a reply", "Reply")),
            "edit": escape(_("Edit")),
            "delete": escape(_("Delete")),
            "report": escape(_("Report")),
            "edited": escape(_("(edited)")),
            "held": escape(_("Awaiting moderation.")),
            "held_note": escape(_("Only you can see this reply until a moderator approves it.")),
            "in_reply_to": _("in reply to %(name)s"),
            "less": escape(_("Show less")),
        }
        self._dates: dict[date, str] = {}
        self._utc = timezone.get_current_timezone_name() == "UTC"
        placeholder = 987654321
        self.urls = {
            name: reverse(f"discussion:reply_{name}", args=[placeholder]).replace(str(placeholder), "{id}")
            for name in ("edit", "delete", "report")
        }
        self.avatar_url = avatar_url_pattern()
        self.identities: dict[int, ProvenIdentity] = {}

    def when(self, moment) -> tuple[str, str]:
        local = moment if self._utc else timezone.localtime(moment)
        day = local.date()
        shown = self._dates.get(day)
        if shown is None:
            shown = self._dates[day] = date_format(day, "DATE_FORMAT")
        # %H:%M by hand: strftime costs twice the rest of this, once per reply on the page.
        return local.isoformat(), f"{shown}, {local.hour:02d}:{local.minute:02d}"

    def render(self, node: ReplyNode) -> str:
        reply = node.reply
        labels = self.labels
        reply_id = reply.pk
        name = escape(reply.author_name)
        held = reply.status != Reply.Status.APPROVED
        if reply.author_website:
            author = f'<a href="{escape(reply.author_website)}" rel="nofollow ugc noopener">{name}</a>'
        else:
            author = name
        iso, shown = self.when(reply.created_at)
        proven = self.identities.get(reply_id)
        avatar = escape(proven.avatar_url) if proven and proven.avatar_url else None
        parts = [
            f'<article class="reply{" reply--held" if held else ""}" id="reply-{reply_id}" '
            f'aria-labelledby="reply-{reply_id}-author"><header class="reply__header">'
            f'<img class="reply__avatar" src="{avatar or self.avatar_url.format(key=reply.avatar_key or DEFAULT_KEY)}" '
            'alt="" loading="lazy">'
            f'<span class="reply__author" dir="auto" id="reply-{reply_id}-author">{author}</span>'
        ]
        if proven:
            handle = escape(proven.handle)
            if proven.profile_url:
                handle = f'<a href="{escape(proven.profile_url)}" rel="nofollow ugc noopener">{handle}</a>'
            parts.append(f'<span class="reply__handle" dir="ltr">{handle}</span>')
        if node.in_reply_to:
            context = escape(labels["in_reply_to"] % {"name": node.in_reply_to})
            parts.append(f'<span class="reply__context">{context}</span>')
        parts.append(f'<a class="reply__time" href="#reply-{reply_id}"><time datetime="{iso}">{shown}</time></a>')
        if reply.edited_at:
            parts.append(f'<span class="reply__edited">{labels["edited"]}</span>')
        parts.append("</header>")
        if held:
            parts.append(
                f'<p class="reply__held" role="status"><strong>{labels["held"]}</strong> {labels["held_note"]}</p>'
            )
        parts.append(
            f'<div class="reply__body" dir="auto">{self.body(reply.body_html)}</div><footer class="reply__actions">'
        )
        if self.accepts_replies and not held:
            parts.append(
                f'<a class="reply__action" href="?replyto={reply_id}#respond" data-reply-to="{reply_id}" '
                f'data-reply-name="{name}" rel="nofollow">{labels["reply"]}</a>'
            )
        if node.can_change:
            parts.append(
                f'<a class="reply__action" href="{self.urls["edit"].format(id=reply_id)}" rel="nofollow">'
                f"{labels['edit']}</a>"
                f'<a class="reply__action" href="{self.urls["delete"].format(id=reply_id)}" rel="nofollow">'
                f"{labels['delete']}</a>"
            )
        if not held and not node.own:
            parts.append(
                f'<a class="reply__action reply__action--report" href="{self.urls["report"].format(id=reply_id)}" '
                f'rel="nofollow">{labels["report"]}</a>'
            )
        parts.append("</footer></article>")
        return "".join(parts)

    def body(self, html: str) -> str:
        """The stored body, with the rest of a very long one in a ``<details>`` (no script needed)."""
        if not self.collapse_longer_than:
            return html
        split = split_long(html, longer_than=self.collapse_longer_than, lead=self.collapse_lead)
        if split is None:
            return html
        lead, rest, words = split
        more = escape(
            ngettext(
                "Show the rest of this reply (%(count)s more word)",
                "Show the rest of this reply (%(count)s more words)",
                words,
            )
            % {"count": number_format(words, force_grouping=True)}
        )
        return (
            f'{lead}<details class="reply__more"><summary><span class="reply__more-closed">{more}</span>'
            f'<span class="reply__more-open">{self.labels["less"]}</span></summary>{rest}</details>'
        )


def get_renderer(*, accepts_replies: bool) -> ReplyRenderer:
    renderer_class = import_string(app_settings.REPLY_RENDERER)
    return renderer_class(accepts_replies=accepts_replies)


def render_reply_list(nodes: list[ReplyNode], closing_tags: str, *, accepts_replies: bool) -> SafeString:
    """The nested <li> items of a thread page (the caller writes the outer <ol>)."""
    renderer = get_renderer(accepts_replies=accepts_replies)
    renderer.identities = proven_identities([node.reply for node in nodes])
    out = []
    for node in nodes:
        out.append(f'{node.before}<li class="replies__item" data-reply-item="{node.reply.pk}">{renderer.render(node)}')
    out.append(closing_tags)
    # Safe: ReplyRenderer.render escapes every value a person gave, and the body is nh3's output.
    return mark_safe("".join(out))  # nosec B308, B703


def render_single_reply(node: ReplyNode, *, accepts_replies: bool = True) -> SafeString:
    renderer = get_renderer(accepts_replies=accepts_replies)
    renderer.identities = proven_identities([node.reply])
    # Safe for the same reason as render_reply_list's.
    return mark_safe(renderer.render(node))  # nosec B308, B703
