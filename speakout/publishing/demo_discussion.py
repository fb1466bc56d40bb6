"""Demo discussion: readers talking about the Lisbon conference report, all written for Speakout.

``load_demo_discussion(report)`` posts about forty replies under a report, every one through
``submit_reply`` and the policy pipeline (without the rate limit and the time trap, which are
about real people at real keyboards). Most are published; a few are left in the moderation queues
so a new site has something to show there: three held for review, two caught as spam, and one
published reply that a reader has reported.

It is idempotent: a thread that already has replies is left alone. The site's discussion settings
are copied and adjusted in memory for the demo; the stored settings are never changed.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from speakout.discussion.clients import new_guest_token
from speakout.discussion.models import DiscussionSettings, Flag, Reply
from speakout.discussion.policy import (
    BannedCheck,
    BlockWordsCheck,
    ClosedThreadCheck,
    DuplicateCheck,
    HoldWordsCheck,
    HoneypotCheck,
    LinkCountCheck,
    TrustCheck,
)
from speakout.discussion.services import REJECTED, Author, flag_reply, submit_reply

from .discussion import thread_for_report

logger = logging.getLogger(__name__)

# Hours after the report's date at which each reply is dated, on a six-day scale. When the report
# is younger than that, every time is shrunk in proportion so that no reply is dated in the future.
TIME_SCALE_HOURS = 144

# Words a moderator of such a site might well list: people sometimes post their own phone number
# in public without thinking, and some spam is too predictable to look at twice.
DEMO_HOLD_WORDS = ["whatsapp"]
DEMO_BLOCK_WORDS = ["crypto signals"]


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    website: str = ""


PEOPLE = {
    "ines": Person("Ines (Harbour Lane)", "ines.hl@example.org"),
    "mara": Person("Mara (Harbour Lane)", "mara.hl@example.org"),
    "juniper": Person("Juniper", "juniper.b@example.net"),
    "fen": Person("Fen", "fen.writes@example.net"),
    "amaranta": Person("Amaranta", "amaranta.s@example.net"),
    "gareth": Person("Gareth W.", "gw.letters@example.com"),
    "nightjar": Person("Nightjar", "nightjar@example.net"),
    "dani": Person("Dani from Riverside Outreach", "dani@example.net", "https://example.net/riverside-outreach"),
    "sal": Person("Aunty Sal", "auntysal@example.org"),
    "hanne": Person("Hanne V.", "hanne.v@example.org", "https://example.org/hanne-fieldnotes"),
    "saffron": Person("Saffron", "saffron.k@example.net"),
    "pim": Person("Pim", "pim.tech@example.org"),
    "moth": Person("Moth", "moth.at.night@example.net"),
    "corvid": Person("Corvid", "corvid@example.org"),
    "bea": Person("Bea", "bea.m@example.com"),
    "ren": Person("Ren K.", "ren.k@example.net"),
    "lark": Person("Lark", "lark.ro@example.org"),
    "benny": Person("Benny", "benny.c@example.com"),
    "vika": Person("Vika from Kraków", "vika.krk@example.net"),
    "quietcat": Person("quietcat", "quietcat@example.net"),
    "goldie": Person("Goldie", "goldie.lx@example.com"),
    "essays": Person("Essay Writing Pro", "promo@example.com"),
    "crypto": Person("Crypto King", "wins@example.com"),
}


@dataclass(frozen=True)
class Entry:
    key: str
    person: str
    hours: float  # after the report's date, on the TIME_SCALE_HOURS scale
    body: str
    parent: str | None = None
    homepage: str = ""  # the honeypot field: only robots fill it in
    first_timer: bool = False  # posted under rules that hold a commenter's first reply


# The conversation, in the order it happened. A parent always comes before its replies.
CONVERSATION = [
    Entry(
        "lists",
        "juniper",
        3.4,
        "This made me laugh out loud, because it is *exactly* our problem. Our warning list is "
        "mostly reports from the same three people, and two of them have moved away.\n\n"
        "How short is a one-minute form, really? What do you leave out?",
    ),
    Entry(
        "thanks-fen",
        "fen",
        5.55,
        "Thank you for writing this up. I couldn't travel this year (visa trouble, again), so "
        "reports like this are how I get to be there a little.",
    ),
    Entry(
        "lists-form",
        "mara",
        7.2,
        "Short enough to fill in at a bus stop. Our draft asks four things:\n\n"
        "1. When it happened (roughly is fine)\n"
        "2. Which part of town\n"
        "3. What he looks like, drives, or calls himself\n"
        "4. What he did\n\n"
        "No name, number or email for the person reporting. There's an optional box at the end "
        "for anything else, and most people skip it. We'll share the draft here before we switch "
        "it on.",
        parent="lists",
    ),
    Entry(
        "interpreting",
        "amaranta",
        9.1,
        "Interpreted drop-ins would change a lot for the women I know here. Which languages are "
        "you starting with? And are you looking for volunteers, or paying interpreters?",
    ),
    Entry(
        "lists-doubt",
        "gareth",
        11.3,
        "I'll be the awkward one. I understand why you want it quick and anonymous, but doesn't "
        "that make it easy to misuse? Someone with a grudge could put a man on the list and nobody "
        "could check. I'm not against the list. I just think *some* friction might be a feature, "
        "not a bug.",
        parent="lists-form",
    ),
    Entry(
        "quiet-corner",
        "nightjar",
        13.45,
        "A quiet corner in every room. **Every** event should do this. I've left more meetings "
        "early than I've stayed to the end, just because there was nowhere to breathe for five "
        "minutes.",
    ),
    Entry(
        "interpreting-plan",
        "ines",
        20.4,
        "We're starting with Portuguese and Romanian, because those are the languages people ask "
        "for most at the door. The plan so far:\n\n"
        "- the first Thursday of each month, six till nine\n"
        "- one paid interpreter per language (a small grant covers it)\n"
        "- a volunteer from the collective alongside them, so nobody is on their own\n\n"
        "We'd love to add Spanish once we've seen how the first few evenings go.",
        parent="interpreting",
    ),
    Entry(
        "platforms",
        "dani",
        22.7,
        "Greetings from Riverside Outreach! The part about disappearing ads hit home. We lost our "
        "main platform overnight last spring, and the people who came through it best had done "
        "three simple things:\n\n"
        "- kept their regulars' contacts *somewhere other than the platform*\n"
        "- copied out their good reviews, so they could quote them elsewhere\n"
        "- agreed a back-up way to reach each other before anything went wrong\n\n"
        "None of it is technical. It just has to be done before the day you need it.",
    ),
    Entry(
        "lists-experience",
        "sal",
        23.6,
        "Gareth, I've helped keep a list going for the best part of fifteen years. In all that "
        "time I can count the reports I thought were made up on one hand. People don't have "
        "time to invent trouble; they barely have time to warn each other.\n\n"
        "What we do is choose our words. We read things out as **reported**, never as **proven**, "
        "and we don't put a full name on anything even when we have one. A description and a "
        "warning is enough to make someone think twice before getting in a car.",
        parent="lists-doubt",
    ),
    Entry(
        "lists-concede",
        "gareth",
        26.1,
        "That's a fair answer, and \"reported, not proven\" goes a long way with me. I'd still "
        "put a line on the form itself saying what happens to a report and who reads it. People "
        "are more careful when they know.",
        parent="lists-experience",
    ),
    Entry(
        "lists-research",
        "hanne",
        27.2,
        "A data point, for what it's worth: when I asked people why they *didn't* send reports to "
        "warning lists, doubts about accuracy hardly came up. The two big reasons were the effort, "
        "and fear that a report could be traced back to them. There's a short summary here: "
        "[what stops people reporting](https://example.org/fieldnotes/warning-lists-summary).\n\n"
        "I'm not saying misuse never happens, only that it wasn't what kept the lists empty.",
        parent="lists-doubt",
    ),
    Entry(
        "contacts-where",
        "saffron",
        28.1,
        'Practical question: where is "somewhere other than the platform"? If my phone gets '
        "checked, a list of contacts on it is exactly what I don't want anyone to find.",
        parent="platforms",
    ),
    Entry(
        "interpreting-offer",
        "amaranta",
        30.2,
        "I speak Spanish, and my Portuguese is decent if slow. Could I help with the Spanish "
        "evenings when they start? I'd rather not leave my details in a public comment, though.",
        parent="interpreting-plan",
    ),
    Entry(
        "lists-wording",
        "mara",
        31.75,
        'Both good points. We\'ll borrow "reported, not proven" for the read-outs, with thanks, '
        "Sal. And Gareth, there will be a sentence at the top of the form: who reads reports, "
        "how long we keep them, and that we never publish names.",
        parent="lists-experience",
    ),
    Entry(
        "contacts-options",
        "pim",
        33.2,
        "It depends on who you're worried about, but here are the options we talk through in the "
        "workshops:\n\n"
        "1. A notes app that locks with its own code, separate from the phone's\n"
        "2. A paper copy in a sealed envelope, kept by someone you trust\n"
        "3. Nicknames instead of names, so the list means nothing to anyone else\n\n"
        "Most people end up combining the second and the third.",
        parent="contacts-where",
    ),
    Entry(
        "reading-aloud",
        "moth",
        35.85,
        "Thank you for the bit about reading the list out at drop-ins. I don't use a smartphone "
        'for work, on purpose, and most "safety tools" assume I do. Happy to be one of the '
        "readers if you need people.",
        parent="lists",
    ),
    Entry(
        "interpreting-contact",
        "ines",
        36.3,
        "Very sensible, please don't! Send us a message through the form on the Get involved page. "
        "Any name you like is fine, and only the two of us who run the drop-ins will read it.",
        parent="interpreting-offer",
    ),
    Entry(
        "research-offer",
        "hanne",
        40.1,
        "I research peer-led safety work, and I was glad to see this written up so carefully. The "
        "line that stayed with me:\n\n"
        "> nothing identified the person reporting\n\n"
        "It matches what I keep hearing, and it's so often the first thing to go when a list is "
        "run by an agency instead of by peers. Would the collective be open to talking about a "
        "small piece of joint research on this? No pressure at all.",
    ),
    Entry(
        "contacts-envelope",
        "saffron",
        44.4,
        "The envelope idea is so simple I'm slightly annoyed I never thought of it. Thank you, Pim.",
        parent="contacts-options",
    ),
    Entry(
        "contacts-paper",
        "corvid",
        46.2,
        "Gently disagreeing about the paper copy: paper can be found too, and you can't wipe it "
        "from a distance. For some people a locked app really is safer. I don't think there's one "
        "right answer; it depends on where the risk comes from.",
        parent="contacts-options",
    ),
    Entry(
        "captions",
        "bea",
        48.1,
        "Is the closing panel recording captioned? I'd like to show it at our next meeting, but a "
        "few of us are hard of hearing.",
    ),
    Entry(
        "reading-rota",
        "ines",
        50.35,
        "Moth, yes please! We're putting together a reading rota for Tuesday and Friday evenings. "
        "Come by the kitchen on a Tuesday and ask for me, or for anyone wearing a green lanyard.",
        parent="reading-aloud",
    ),
    Entry(
        "research-doubt",
        "ren",
        52.2,
        "Not aimed at you personally, Hanne, but people in our trade get studied a lot, and we "
        "rarely see what comes of it. Before anyone says yes: what would the collective actually "
        "get back?",
        parent="research-offer",
    ),
    Entry(
        "contacts-fit",
        "pim",
        55.3,
        "Fair, and I should have said it more clearly. The best system is the one you'll actually "
        "keep up, for the risks *you* have. That's why we'd rather have the conversation one to "
        "one than hand out a checklist.",
        parent="contacts-paper",
    ),
    Entry(
        "interpreting-swap",
        "lark",
        58.6,
        "Something I learned the hard way: in a small community, an interpreter from the same "
        "country may well know the person they're interpreting for, or their family. Worth "
        "deciding in advance what happens then. Ours can step out and hand over to a phone "
        "interpreter, no questions asked.",
        parent="interpreting-plan",
    ),
    Entry(
        "captions-yes",
        "mara",
        60.2,
        "Yes: captions in English and Portuguese. If a written transcript would help, ask us and we'll send one.",
        parent="captions",
    ),
    Entry(
        "workshop-invite",
        "mara",
        63.25,
        "Dani, your list is almost word for word what we want the workshop to cover. Would "
        "Riverside be up for running it with us? We can pay travel, and there is always soup.",
        parent="platforms",
    ),
    Entry(
        "research-terms",
        "hanne",
        66.1,
        "A completely fair question, and the right one to ask first. What I can offer: people are "
        "paid for their time, the collective decides the questions with me, the notes stay with "
        "you, and anyone who wants to is named as a co-author, under any name they choose. If it "
        "isn't useful to you, it shouldn't happen.",
        parent="research-doubt",
    ),
    Entry(
        "interpreting-swap-thanks",
        "ines",
        70.9,
        "That's a really good point, Lark, and not one we'd thought through. We'll arrange a "
        "hand-over option and make sure the interpreters know they can step out without saying "
        "why. Thank you.",
        parent="interpreting-swap",
    ),
    Entry(
        "jumble-sale",
        "benny",
        72.2,
        "Slightly off topic, sorry: is the jumble sale at the community centre still on this "
        "Saturday? I've got two bags of winter coats to drop off and nobody answers the phone "
        "there.",
    ),
    Entry(
        "krakow",
        "vika",
        75.3,
        "Hello from Kraków! We were at the warning-lists session too (we were the ones with the "
        "paper forms and the very loud stapler). Our form is in Polish and English; happy to swap "
        "with yours once it's ready.",
    ),
    Entry(
        "workshop-yes",
        "dani",
        79.15,
        "Soup is a persuasive offer. Yes, gladly. I'll bring the worksheet we use; it has been "
        "translated into four languages by now.",
        parent="workshop-invite",
    ),
    Entry(
        "research-pay",
        "ren",
        84.3,
        "That's more than most offer. One suggestion: publish the pay rate up front, before anyone "
        "agrees to an interview. It saves people having to ask, and asking is awkward.",
        parent="research-terms",
    ),
    Entry(
        "krakow-swap",
        "ines",
        88.2,
        "The stapler was legendary. Yes, let's swap. Comparing what each group decided to leave "
        "*out* of its form would be really interesting.",
        parent="krakow",
    ),
    Entry(
        "allies",
        "corvid",
        94.1,
        "One small disagreement with the write-up: I'd have liked to hear how the organisers kept "
        "the number of allies small. At some events the allies end up outnumbering us and the "
        "whole mood changes. I'm not saying keep people out, just keep the room ours.",
    ),
    Entry(
        "allies-agree",
        "sal",
        98.2,
        "Seconded. I've sat through meetings where I spent the whole time answering questions "
        "instead of getting to ask any.",
        parent="allies",
    ),
    Entry(
        "research-agreement",
        "ines",
        102.55,
        "Agreed, Ren. For anyone wondering: we ask every researcher to sign a short agreement "
        "before we work with them, and the pay rate goes in it. Here it is: "
        "[our research agreement](https://example.org/harbour-lane/research-agreement). "
        "Hanne, we'll be in touch.",
        parent="research-pay",
    ),
    Entry(
        "allies-lawyers",
        "juniper",
        110.3,
        "I half agree. Some of the most useful people in Lisbon were the lawyers who came to "
        "answer questions, and they were allies. Maybe the rule is that allies are there to be "
        "*asked*, not to ask?",
        parent="allies-agree",
    ),
    # Left in the moderation queues.
    Entry(
        "contacts-reading",
        "pim",
        56.1,
        "For anyone who wants to read up before the workshop:\n\n"
        "- [Keeping contacts off the platform](https://example.org/guides/contacts)\n"
        "- [Locking individual apps](https://example.org/guides/app-locks)\n"
        "- [A plain-language threat model](https://example.net/threat-model-basics)",
        parent="contacts-where",
    ),
    Entry(
        "step-free",
        "quietcat",
        90.2,
        "Will the interpreted drop-ins be step-free? I use a wheelchair, and the back room at the "
        "centre has always had those two steps at the door.",
        parent="interpreting-plan",
        first_timer=True,
    ),
    Entry(
        "keep-in-touch",
        "goldie",
        115.2,
        "Anyone who was in Lisbon and wants to stay in touch, message me on WhatsApp, my number is "
        "07700 900 417. Would love to keep the group going!",
    ),
    Entry(
        "essay-spam",
        "essays",
        80.4,
        "Very informative article, thanks for sharing. Our professional writers can help with any "
        "topic, visit us today!",
        homepage="https://example.com/best-essays",
    ),
    Entry(
        "crypto-spam",
        "crypto",
        120.1,
        "EARN 5000 EUR A WEEK FROM HOME!!! Guaranteed crypto signals, 100% profit, no experience "
        "needed. Join now: https://example.com/easy-money",
    ),
]

# A reader's mild report of an off-topic reply, left open for the moderators.
FLAGGED_ENTRY = "jumble-sale"
FLAG_NOTE = "Not about the report. Maybe this belongs on the drop-in noticeboard?"


def demo_checks() -> list:
    """The reply pipeline without the rate limit and the time trap."""
    return [
        ClosedThreadCheck(),
        HoneypotCheck(),
        DuplicateCheck(),
        BannedCheck(),
        BlockWordsCheck(),
        HoldWordsCheck(),
        LinkCountCheck(),
        TrustCheck(),
    ]


def _copy_rules(rules: DiscussionSettings, **changes) -> DiscussionSettings:
    """An in-memory copy of the settings with some changes. It is never saved."""
    result = copy.copy(rules)
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def _demo_rules() -> tuple[DiscussionSettings, DiscussionSettings]:
    site_rules = DiscussionSettings.load()
    rules = _copy_rules(
        site_rules,
        hold_first_reply=False,
        auto_close_days=0,  # the demo's replies are dated after the report, whatever the site says
        hold_words="\n".join([site_rules.hold_words, *DEMO_HOLD_WORDS]).strip(),
        block_words="\n".join([site_rules.block_words, *DEMO_BLOCK_WORDS]).strip(),
    )
    return rules, _copy_rules(rules, hold_first_reply=True)


def _client_hash(handle: str) -> str:
    return hashlib.sha256(f"speakout-demo-client:{handle}".encode()).hexdigest()


def _summary(thread, created: bool, rejected: int = 0) -> dict:
    counts = {status: 0 for status in Reply.Status.values}
    for status in thread.replies.values_list("status", flat=True):
        counts[status] += 1
    counts["flags"] = Flag.objects.filter(reply__thread=thread).count()
    counts["rejected"] = rejected
    counts["created"] = created
    return counts


@transaction.atomic
def load_demo_discussion(report) -> dict:
    """Post the demo conversation under ``report``. Returns reply counts by status, the number
    of reader reports ("flags"), entries the pipeline refused ("rejected", normally 0) and
    whether anything was created. A thread that already has replies is left unchanged."""
    thread = thread_for_report(report)
    if thread.replies.exists():
        return _summary(thread, created=False)

    rules, first_reply_rules = _demo_rules()
    checks = demo_checks()
    authors = {handle: Author(client_hash=_client_hash(handle), guest_token=new_guest_token()) for handle in PEOPLE}

    start = report.first_published_at or report.date
    now = timezone.now()
    scale = min(1.0, max(0.0, (now - start) / timedelta(hours=TIME_SCALE_HOURS)))
    hours = {entry.key: entry.hours for entry in CONVERSATION}

    posted: dict[str, Reply] = {}
    rejected = 0
    for entry in sorted(CONVERSATION, key=lambda entry: entry.hours):
        if entry.parent is not None:
            assert hours[entry.parent] < entry.hours, f"{entry.key} is dated before its parent"
            parent = posted.get(entry.parent)
            if parent is None or parent.status != Reply.Status.APPROVED:
                rejected += 1  # its parent was refused or held: nothing to answer
                continue
        else:
            parent = None
        person = PEOPLE[entry.person]
        data = {
            "thread": thread.key,
            "parent": parent.pk if parent else "",
            "name": person.name,
            "email": person.email,
            "website": person.website,
            "body": entry.body,
            "homepage": entry.homepage,
        }
        result = submit_reply(
            thread=thread,
            data=data,
            author=authors[entry.person],
            checks=checks,
            check_form_token=False,
            rules=first_reply_rules if entry.first_timer else rules,
        )
        if result.outcome == REJECTED:
            logger.warning("Demo reply %s was refused: %s", entry.key, result.errors)
            rejected += 1
            continue
        reply = result.reply
        reply.created_at = start + timedelta(hours=entry.hours * scale)
        Reply.objects.filter(pk=reply.pk).update(created_at=reply.created_at)
        posted[entry.key] = reply

    flagged = posted.get(FLAGGED_ENTRY)
    if flagged is not None and flagged.status == Reply.Status.APPROVED:
        flag_reply(flagged, Flag.Reason.OTHER, note=FLAG_NOTE, client_hash=_client_hash("a-reader"))
    thread.bump_version()
    return _summary(thread, created=True, rejected=rejected)
