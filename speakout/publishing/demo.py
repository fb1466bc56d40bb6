"""Demo content: a made-up collective, its reports and pages, all written for Speakout.

``load_demo_content()`` goes only into an empty site (a fresh install: no page but Wagtail's
placeholder, no reply), so ``make run`` can call it on every start without duplicating anything
or touching real content; it never replaces or deletes a page.
Pictures are drawn here with Pillow, so the demo needs no downloaded file.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Site

from speakout.contact.models import ContactPage

from .demo_discussion import load_demo_discussion
from .home import content_summary, home_page
from .models import Author, Category, HomePage, ReportAuthor, ReportIndexPage, ReportPage, StandardPage

ORGANISATION = "Harbour Lane Collective"

MISSION = (
    "<p>We are a volunteer-run collective of sex workers and allies. We document what happens to "
    "people in our trade when laws, landlords and platforms change, we publish what we find, and "
    "we organise so that nobody has to face it alone.</p>"
)


def _draw_picture(seed: int, title: str) -> ImageFile:
    """An abstract picture (overlapping discs on a tinted ground), different for each seed."""
    from PIL import Image, ImageDraw

    palettes = [
        ((122, 31, 61), (240, 180, 90), (250, 240, 228)),
        ((30, 80, 110), (120, 190, 170), (238, 243, 240)),
        ((70, 50, 110), (230, 120, 110), (246, 238, 246)),
        ((40, 90, 60), (220, 200, 80), (242, 244, 232)),
    ]
    dark, bright, ground = palettes[seed % len(palettes)]
    picture = Image.new("RGB", (1600, 900), ground)
    draw = ImageDraw.Draw(picture, "RGBA")
    for step in range(9):
        radius = 140 + (seed * 37 + step * 53) % 220
        x = (seed * 211 + step * 173) % 1600
        y = (seed * 97 + step * 131) % 900
        colour = dark if step % 2 else bright
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*colour, 150))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=82)
    buffer.seek(0)
    return ImageFile(buffer, name=f"demo-{seed}.jpg")


def _image(seed: int, title: str):
    Image = get_image_model()
    return Image.objects.create(title=title, file=_draw_picture(seed, title))


def _block(kind: str, value) -> dict:
    return {"type": kind, "value": value, "id": str(uuid.uuid4())}


def _paragraph(html: str) -> dict:
    return _block("paragraph", html)


def _heading(text: str, level: str = "h2") -> dict:
    return _block("heading", {"text": text, "level": level})


def _quote(text: str, attribution: str = "") -> dict:
    return _block("quote", {"quote": text, "attribution": attribution})


def _picture(image, alt: str, caption: str = "", credit: str = "") -> dict:
    return _block("image", {"image": image.pk, "alt_text": alt, "caption": caption, "credit": credit})


def _media(url: str, title: str, description: str, kind: str = "video") -> dict:
    return _block("media_link", {"url": url, "title": title, "description": description, "kind": kind})


def _notes(*texts: str) -> list[dict]:
    return [_block("note", {"text": text}) for text in texts]


def _at(days_ago: int, hour: int = 9) -> datetime:
    moment = timezone.now() - timedelta(days=days_ago)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def demo_skip_reason() -> str:
    """Why the demo would not be loaded now ("" when it would): it goes into an empty site only."""
    summary = content_summary()
    if not any(summary.values()):
        return ""
    if HomePage.objects.filter(title=ORGANISATION).exists():
        return "the demo content is already there"
    return (
        f"the site already has content ({summary['pages']} pages, {summary['replies']} replies), "
        "and the demo goes only into an empty site"
    )


@transaction.atomic
def load_demo_content() -> bool:
    """Create the demo site. Returns False, and changes nothing, unless the site is empty (see
    ``demo_skip_reason``): the demo never replaces or deletes a page."""
    if demo_skip_reason():
        return False

    home = home_page(ORGANISATION)
    home.title = ORGANISATION
    home.mission = MISSION
    home.search_description = "Reports and organising by a volunteer collective of sex workers and allies."
    home.save()
    home.save_revision().publish()
    site = Site.objects.get(is_default_site=True)
    site.site_name = ORGANISATION
    site.save(update_fields=["site_name"])

    reports = home.add_child(
        instance=ReportIndexPage(
            title="Reports",
            slug="reports",
            show_in_menus=True,
            intro="<p>Everything we have documented, newest first.</p>",
        )
    )
    reports.save_revision().publish()

    research = Category.objects.create(
        name="Research", slug="research", description="What we found when we asked and counted."
    )
    events = Category.objects.create(
        name="Events", slug="events", description="Gatherings we attended, organised or spoke at."
    )
    policy = Category.objects.create(
        name="Policy", slug="policy", description="Laws, rules and how they land on people."
    )
    mara = Author.objects.create(
        name="Mara Quill", slug="mara-quill", bio="Outreach volunteer and the collective's data keeper."
    )
    tomas = Author.objects.create(
        name="Tomás Ferreira", slug="tomas-ferreira", bio="Organiser; writes most of our policy notes."
    )
    ines = Author.objects.create(
        name="Ines Okafor", slug="ines-okafor", bio="Peer researcher and workshop facilitator."
    )

    harbour = _image(1, "Evening light over the harbour wall")
    hall = _image(2, "Conference hall, drawn as overlapping circles")
    notebook = _image(3, "Notebook pages and a cup")
    keys = _image(4, "Keys on a table")

    conference_report = _add_report(
        reports,
        title="Three Days in Lisbon: What We Heard at the Peer Safety Conference",
        slug="peer-safety-conference-lisbon",
        date=_at(6),
        standfirst=(
            "Four of us travelled to a peer-led safety conference. These are our notes on what "
            "other groups are trying, what is working, and what we want to bring home."
        ),
        authors=[ines, mara],
        categories=[events],
        tags=["conference", "peer support", "safety"],
        body=[
            _paragraph(
                "<p>The conference was organised by and for people who sell sex, with a small number "
                "of invited allies. Around two hundred people came from eleven countries. Sessions "
                "ran in three languages with volunteer interpreters, and every room had a quiet "
                "corner for anyone who needed a break.</p>"
            ),
            _picture(
                hall,
                alt="Abstract drawing of overlapping purple and coral circles, standing in for a busy conference hall.",
                caption="The main hall on the first morning (our illustration: we took no photos of people).",
                credit="Harbour Lane Collective",
            ),
            _heading("Bad-client lists that actually get used"),
            _paragraph(
                "<p>The most practical session compared warning lists. The groups whose lists were "
                "used every week had three things in common: reports could be sent in under a "
                "minute, nothing identified the person reporting, and the list was read out at "
                'drop-ins for people who do not use phones for work.<sup><a href="#note-1">1</a></sup></p>'
            ),
            _quote(
                "If a list is hard to add to, it becomes a list of the people who had time that week.",
                "A peer worker from the Porto delegation",
            ),
            _heading("Platforms and the disappearing ad"),
            _paragraph(
                "<p>Several speakers described advertising accounts closed without warning, taking "
                "years of reviews and regular contacts with them. The advice was plain: keep your own "
                "list of contacts somewhere you control, and never let one platform hold everything.</p>"
            ),
            _heading("What we are bringing home", "h3"),
            _paragraph(
                "<ul><li>A one-minute reporting form for our own warning list.</li>"
                "<li>Interpreted drop-ins once a month.</li>"
                "<li>A workshop on keeping your contacts when a platform drops you.</li></ul>"
            ),
            _media(
                "https://example.org/peer-safety-conference/closing-panel",
                "Closing panel: organising when the platforms turn against you",
                "A recording of the final session, published by the organisers.",
            ),
            _paragraph(
                '<p>If your group would like our full session notes, please <a href="/contact-us/">contact us</a>. '
                "We are happy to share anything that does not identify a speaker.</p>"
            ),
        ],
        notes=_notes("Figures from the session handout, shared with the permission of the presenters."),
        image=hall,
    )
    load_demo_discussion(conference_report)

    evictions = _add_report(
        reports,
        title="Nowhere to Go: Evictions After the New Licensing Rules",
        slug="evictions-after-licensing-rules",
        date=_at(20),
        standfirst=(
            "Since the council's licensing rules came in, we have recorded forty-one evictions "
            "among people we support. This report sets out what happened and what we are asking for."
        ),
        authors=[mara],
        categories=[research, policy],
        tags=["housing", "licensing"],
        body=[
            _paragraph(
                "<p>Between March and September, our outreach volunteers logged every eviction or "
                "threat of eviction that someone chose to tell us about. We asked the same five "
                "questions each time, and we recorded no names.</p>"
            ),
            _picture(
                keys,
                alt=(
                    "Abstract drawing of dark green and yellow circles on a pale ground, "
                    "standing in for keys left on a table."
                ),
                caption="Forty-one households lost their homes in six months.",
            ),
            _heading("What we found"),
            _paragraph(
                "<p>In most cases the landlord cited the new rules directly. Several people were "
                "given less than a week to leave. Nobody we spoke to had been offered help by the "
                'council before losing their home.<sup><a href="#note-1">1</a></sup></p>'
            ),
            _quote(
                "He said the council would fine him if I stayed, so I had to go that night.",
                "A woman we supported in July",
            ),
            _heading("What we are asking for"),
            _paragraph(
                "<ol><li>An immediate review of how the rules are enforced against tenants.</li>"
                "<li>A named housing officer people can contact without giving their legal name.</li>"
                "<li>No information sharing between licensing and immigration enforcement.</li></ol>"
            ),
        ],
        notes=_notes(
            "We count a household once even if it was threatened more than once.",
            "The council did not answer our request for comment before publication.",
        ),
        image=keys,
    )

    _add_report(
        reports,
        title="Keeping Safe Online: A Short Guide for Our Members",
        slug="keeping-safe-online",
        date=_at(45),
        standfirst="Simple steps that make it harder for anyone to link your work to your everyday life.",
        authors=[tomas, ines],
        categories=[policy],
        tags=["safety", "privacy"],
        body=[
            _paragraph(
                "<p>This guide grew out of our Thursday workshops. It is not a complete course in "
                "digital security, and nobody needs to do everything at once. Start with one step.</p>"
            ),
            _heading("Separate your phones, or at least your accounts"),
            _paragraph(
                "<p>A second phone is best. If that is not possible, use a separate account on your "
                "phone for work, with its own email address, and never sign in to both at the same time.</p>"
            ),
            _picture(
                notebook,
                alt="Abstract drawing of blue and teal circles on a pale ground, standing in for an open notebook.",
                caption="Write your recovery codes down on paper and keep them somewhere safe.",
            ),
            _heading("Photos say more than you think"),
            _paragraph(
                "<p>Pictures carry hidden details such as the place they were taken. Remove them before "
                "sharing, and check the background for anything recognisable: a window view, a poster, "
                "a distinctive piece of furniture.</p>"
            ),
            _media(
                "https://example.org/workshops/photo-metadata",
                "Workshop recording: cleaning your photos before you post",
                "Twenty minutes, with captions.",
            ),
        ],
        notes=[],
        image=notebook,
    )

    _add_report(
        reports,
        title="Our Response to the Consultation on Online Advertising",
        slug="consultation-online-advertising",
        date=_at(80),
        standfirst="We told the ministry what its proposals would mean for the people who answer to us.",
        authors=[tomas],
        categories=[policy],
        tags=["platforms", "consultation"],
        body=[
            _paragraph(
                "<p>The proposals would make websites liable for any advertisement that might relate "
                "to sex work. Experience elsewhere shows what follows: sites close the whole category, "
                "and work moves to places that are less visible and less safe.</p>"
            ),
            _heading("Our recommendations"),
            _paragraph(
                "<p>Consult the people affected before writing rules; measure harm rather than "
                "visibility; and fund peer-led safety work instead of removing the tools people use "
                "to screen clients.</p>"
            ),
            _picture(
                harbour,
                alt=(
                    "Abstract drawing of deep red and amber circles on a cream ground, "
                    "standing in for evening light over a harbour wall."
                ),
            ),
        ],
        notes=[],
        image=harbour,
    )

    home.add_child(
        instance=StandardPage(
            title="About",
            slug="about",
            show_in_menus=True,
            intro="Who we are, how we work, and how we keep the people we support safe.",
            body=[
                _paragraph(
                    "<p>Harbour Lane Collective started in a back room of a community centre with six "
                    "people and a kettle. Today around forty volunteers run drop-ins, outreach and "
                    "research. Everyone who decides what we do has worked in the trade or works in it now.</p>"
                ),
                _heading("How we handle what you tell us"),
                _paragraph(
                    "<p>We write down as little as we can, we never record legal names without a reason "
                    "you agree with, and we delete notes we no longer need. Replies on this site can be "
                    "written under any name you choose.</p>"
                ),
            ],
        )
    ).save_revision().publish()

    home.add_child(
        instance=StandardPage(
            title="Get involved",
            slug="get-involved",
            show_in_menus=True,
            intro="There is a place for you here, whatever time you have.",
            body=[
                _heading("Volunteer"),
                _paragraph(
                    "<p>We need people for outreach evenings, for the drop-in kitchen and for "
                    "research interviews. Training is free and led by peers.</p>"
                ),
                _heading("Spread the word"),
                _paragraph(
                    "<p>Share our reports with anyone who makes decisions about housing, policing or "
                    "platforms. Follow new reports through the feeds on the reports page.</p>"
                ),
                _heading("Talk to us"),
                _paragraph(
                    "<p>If you want to help, or need help, please contact us. Every message is read by "
                    "a member of the collective and by nobody else.</p>"
                ),
            ],
        )
    ).save_revision().publish()

    home.add_child(
        instance=ContactPage(
            title="Contact us",
            slug="contact-us",
            show_in_menus=True,
            intro=(
                "<p>Write to us about anything: press questions, volunteering, or help you need. A member "
                "of the collective reads every message and answers within a few days. Use any name you like.</p>"
            ),
            topics="Press\nVolunteering\nSupport\nSomething else",
            recipients="collective@example.org",
            thank_you="<p>Thank you. Your message has reached the collective, and we will answer soon.</p>",
        )
    ).save_revision().publish()

    _translate_into_french(home, reports, evictions, keys)
    return True


def _translated(page, locale, **fields):
    """Wagtail's "Translate" (a copy in the other locale), with the translated words, published."""
    from wagtail.actions.copy_for_translation import CopyPageForTranslationAction

    copy = CopyPageForTranslationAction(page=page, locale=locale).execute(skip_permission_checks=True).specific
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.save()
    copy.save_revision().publish()
    return copy


def _translate_into_french(home, reports, evictions, keys):
    """One report in French, with the home page and the reports index it needs, so the
    language switcher has a translation to offer (docs/languages.md)."""
    from wagtail.models import Locale

    french = Locale.objects.get_or_create(language_code="fr")[0]
    _translated(
        home,
        french,
        mission=(
            "<p>Nous sommes un collectif bénévole de travailleuses et travailleurs du sexe et de "
            "leurs allié·es. Nous documentons ce qui arrive aux gens de notre métier quand les lois, "
            "les propriétaires et les plateformes changent, nous publions ce que nous trouvons, et "
            "nous nous organisons pour que personne n’ait à y faire face seul.</p>"
        ),
        search_description=(
            "Rapports et organisation collective, par un collectif bénévole de travailleuses du sexe et d’allié·es."
        ),
    )
    _translated(
        reports,
        french,
        title="Rapports",
        slug="rapports",
        intro="<p>Tout ce que nous avons documenté, du plus récent au plus ancien.</p>",
    )
    standfirst = (
        "Depuis l’entrée en vigueur des règles de licence de la mairie, nous avons recensé "
        "quarante et une expulsions parmi les personnes que nous accompagnons. Ce rapport expose "
        "ce qui s’est passé et ce que nous demandons."
    )
    _translated(
        evictions,
        french,
        title="Nulle part où aller\u00a0: les expulsions depuis les nouvelles règles de licence",
        slug="nulle-part-ou-aller",
        standfirst=standfirst,
        search_description=standfirst,
        body=[
            _paragraph(
                "<p>De mars à septembre, nos bénévoles de terrain ont noté chaque expulsion, ou menace "
                "d’expulsion, que quelqu’un a choisi de nous raconter. Nous avons posé les cinq mêmes "
                "questions à chaque fois, et nous n’avons noté aucun nom.</p>"
            ),
            _picture(
                keys,
                alt=(
                    "Dessin abstrait de cercles vert foncé et jaunes sur un fond clair, "
                    "à la place de clés laissées sur une table."
                ),
                caption="Quarante et un foyers ont perdu leur logement en six mois.",
            ),
            _heading("Ce que nous avons constaté"),
            _paragraph(
                "<p>Le plus souvent, le propriétaire invoquait directement les nouvelles règles. "
                "Plusieurs personnes ont eu moins d’une semaine pour partir. Personne parmi celles à qui "
                "nous avons parlé ne s’était vu proposer d’aide par la mairie avant de perdre son "
                'logement.<sup><a href="#note-1">1</a></sup></p>'
            ),
            _quote(
                "Il disait que la mairie lui mettrait une amende si je restais, alors j’ai dû partir le soir même.",
                "Une femme que nous accompagnions en juillet",
            ),
            _heading("Ce que nous demandons"),
            _paragraph(
                "<ol><li>Un réexamen immédiat de la façon dont les règles sont appliquées aux locataires.</li>"
                "<li>Un agent du logement désigné, que l’on puisse joindre sans donner son nom légal.</li>"
                "<li>Aucun échange d’informations entre le service des licences et celui de l’immigration.</li></ol>"
            ),
        ],
        notes=_notes(
            "Nous ne comptons un foyer qu’une fois, même s’il a été menacé plusieurs fois.",
            "La mairie n’a pas répondu à notre demande de commentaire avant la publication.",
        ),
    )


def _add_report(index, *, title, slug, date, standfirst, authors, categories, tags, body, notes, image):
    report = ReportPage(
        title=title,
        slug=slug,
        date=date,
        standfirst=standfirst,
        body=body,
        notes=notes,
        search_description=standfirst,
        social_image=image,
        social_image_alt="",
        first_published_at=date,
    )
    report.categories = categories
    report.report_authors = [ReportAuthor(author=author, sort_order=i) for i, author in enumerate(authors)]
    index.add_child(instance=report)
    report.tags.add(*tags)
    report.save()
    report.save_revision().publish()
    return report
