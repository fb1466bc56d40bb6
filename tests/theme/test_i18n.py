"""The public site in every language it offers: language negotiation, the footer language switcher,
right to left for Arabic, and each catalog under speakout/locale (es, fr, pt_BR, ar) being complete,
compiled and in step with the code.

When these fail after someone adds or changes a user-facing string, refresh the catalogs:

    make messages
    (translate the new or changed entries in every locale/*/LC_MESSAGES/django.po, drop "#, fuzzy")
    make messages   (again: it compiles the .mo files)

and commit the django.po and django.mo files.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
import shutil
from pathlib import Path

import django
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from tests.theme.catalogs import LOCALE_DIR, PACKAGE_DIR, Entry, parse_po

pytestmark = pytest.mark.django_db

DJANGO_LOCALE_DIR = Path(django.__file__).resolve().parent / "conf" / "locale"
# Every catalog the project ships; test_every_offered_language_has_a_catalog keeps this list,
# settings.LANGUAGES and the folders under speakout/locale the same.
LOCALES = ["ar", "es", "fr", "pt_BR"]
# The standard Arabic rule: zero, one, two, few (3-10), many (11-99), other.
ARABIC_PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 && n%100<=99 ? 4 : 5;"
)

REFRESH_HINT = "run `make messages`, translate the new entries in every catalog, then `make messages` again"

SPANISH = [
    "Últimos informes",
    "Saltar al contenido principal",
    "Todos los informes",
    "Cambiar idioma",
]
ENGLISH = ["Latest reports", "Skip to main content", "All reports", "Change language"]


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


class Catalog(list):
    """A parsed .po file (its entries, header first) and the locale it is for."""

    def __init__(self, locale: str):
        path = po_path(locale)
        assert path.exists(), f"{path} is missing; {REFRESH_HINT}"
        super().__init__(parse_po(path))
        self.locale = locale
        self.mo_path = path.with_suffix(".mo")

    @property
    def header_fields(self) -> dict[str, str]:
        return dict(line.split(": ", 1) for line in self[0].msgstr.splitlines() if ": " in line)

    @property
    def plural(self):
        """The catalog's own Plural-Forms rule, as a function of n."""
        return stdlib_gettext.c2py(self.header_fields["Plural-Forms"].split("plural=", 1)[1].rstrip(";"))


@pytest.fixture(scope="module", params=LOCALES)
def catalog(request) -> Catalog:
    return Catalog(request.param)


def messages(catalog: list[Entry]) -> list[Entry]:
    return [entry for entry in catalog if not entry.is_header]


def where(entry: Entry) -> str:
    return f"{entry.path}:{entry.line} {entry.msgid!r}"


def sample_number(plural, index: int) -> int:
    """A count that the plural rule sends to form ``index``."""
    return next(n for n in (1, 2, 5, 1_000_000, 0, 21, 3, 11, 100) if plural(n) == index)


# --- (a), (b) Language negotiation from the browser ---------------------------------------------


@pytest.mark.parametrize("accept_language", ["es", "es-MX", "es-ES,es;q=0.9,en;q=0.8"])
def test_home_page_is_spanish_for_spanish_browsers(client, site_builder, accept_language):
    author_a, author_b = site_builder.author("Ana"), site_builder.author("Bea")
    site_builder.report("Informe de prueba", authors=[author_a, author_b])

    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    html = response.content.decode()

    assert response.status_code == 200
    assert '<html lang="es" dir="ltr">' in html
    assert response["Content-Language"] == "es"
    assert "Vary" in response and "Accept-Language" in response["Vary"]
    for text in SPANISH:
        assert text in html, f"{text!r} missing from the Spanish home page"
    for text in ENGLISH:
        assert text not in html, f"English {text!r} left on the Spanish home page"
    assert 'Por <span class="author">Ana</span> y <span class="author">Bea</span>' in html, "the byline is translated"
    assert re.search(r'<option value="es" lang="es"\s+selected>', html), "the switcher shows Spanish as current"


@pytest.mark.parametrize("accept_language", ["en", "en-GB,en;q=0.9", "de"])
def test_home_page_is_english_for_other_browsers(client, site_builder, settings, accept_language):
    settings.LANGUAGE_CODE = "en"  # the fallback for languages we do not offer (de)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    html = response.content.decode()

    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in html
    for text in ENGLISH:
        assert text in html, f"{text!r} missing from the English home page"
    for text in SPANISH:
        assert text not in html, f"Spanish {text!r} on the English home page"
    assert re.search(r'<option value="en" lang="en"\s+selected>', html)


@pytest.mark.parametrize(
    "accept_language, code, direction, texts",
    [
        ("fr-FR,fr;q=0.9", "fr", "ltr", ["Derniers rapports", "Aller au contenu principal", "Changer de langue"]),
        ("pt-BR", "pt-br", "ltr", ["Relatórios recentes", "Pular para o conteúdo principal", "Mudar de idioma"]),
        ("pt", "pt-br", "ltr", ["Relatórios recentes"]),
        ("ar-EG,ar;q=0.9", "ar", "rtl", ["أحدث التقارير", "الانتقال إلى المحتوى الرئيسي", "تغيير اللغة"]),
        ("es", "es", "ltr", SPANISH),
    ],
)
def test_home_page_in_each_language(client, site_builder, accept_language, code, direction, texts):
    site_builder.report("Uno")

    html = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language).content.decode()

    assert f'<html lang="{code}" dir="{direction}">' in html
    for text in texts:
        assert text in html, f"{text!r} missing from the {code} home page"
    for text in ENGLISH:
        assert text not in html, f"English {text!r} left on the {code} home page"
    assert re.search(rf'<option value="{code}" lang="{code}"\s+selected>', html), "the switcher shows the language"


def test_error_pages_are_right_to_left_in_arabic(client, site_builder):
    missing = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ar")

    assert missing.status_code == 404
    assert '<html lang="ar" dir="rtl">' in missing.content.decode()
    assert "الصفحة غير موجودة" in missing.content.decode()


def test_reports_index_and_not_found_page_are_translated(client, site_builder):
    site_builder.report("Uno")

    index = client.get("/reports/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    missing = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")

    assert "Seguir estos informes:" in index and "Categorías" in index
    assert missing.status_code == 404
    assert "Página no encontrada" in missing.content.decode()
    assert '<html lang="es" dir="ltr">' in missing.content.decode()


# --- (c) The footer language switcher -----------------------------------------------------------


def test_language_switcher_sets_cookie_and_overrides_accept_language(site_builder):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    form = re.search(r'<form class="language-switcher" action="([^"]+)" method="post">(.*?)</form>', page, re.S)
    assert form, "the footer has a language switcher form"
    action, body = form.group(1), form.group(2)
    assert "csrfmiddlewaretoken" not in body, "a cached page needs no token: the browser's headers are checked"
    assert action == "/i18n/setlang/"
    assert re.search(r'<input name="next" type="hidden" value="/">', body)

    response = client.post(
        action,
        {"language": "es", "next": "/"},
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_SEC_FETCH_SITE="same-origin",
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    cookie = client.cookies[django_settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "es"

    following = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es" dir="ltr">' in following
    for text in SPANISH:
        assert text in following

    # and back again
    client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_SEC_FETCH_SITE="same-origin")
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en" dir="ltr">' in client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()


def test_language_switcher_refuses_offsite_next(client, site_builder):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


# --- (d) The catalog is complete ----------------------------------------------------------------


def test_every_offered_language_has_a_catalog(settings):
    offered = sorted(translation.to_locale(code) for code, _name in settings.LANGUAGES if code != "en")
    on_disk = sorted(path.name for path in LOCALE_DIR.iterdir() if path.is_dir())
    assert offered == on_disk == sorted(LOCALES), "settings.LANGUAGES, speakout/locale and LOCALES here differ"


def test_catalog_header_is_filled_in(catalog):
    header = catalog[0]
    assert header.is_header, "the .po starts with its header entry"
    assert "fuzzy" not in header.flags, "the header is still marked fuzzy"
    fields = catalog.header_fields
    assert fields.get("Language") == catalog.locale
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    assert fields.get("Plural-Forms", "").startswith("nplurals=")


def test_catalog_counts_like_django_does(catalog):
    """Our plural rule is Django's own for the language: Django keeps catalogs with another rule
    apart, and a count would then pick its words from two different rules on one page."""
    django_po = DJANGO_LOCALE_DIR / catalog.locale / "LC_MESSAGES" / "django.po"
    django_fields = dict(line.split(": ", 1) for line in parse_po(django_po)[0].msgstr.splitlines() if ": " in line)
    ours = catalog.header_fields["Plural-Forms"]
    assert " ".join(ours.split()) == " ".join(django_fields["Plural-Forms"].split())
    if catalog.locale == "ar":
        assert ours == ARABIC_PLURAL_FORMS


def test_arabic_counts_have_six_forms():
    counts = {0: 0, 1: 1, 2: 2, 3: 3, 10: 3, 11: 4, 99: 4, 100: 5, 102: 5, 103: 3, 111: 4}
    with translation.override("ar"):
        words = {n: translation.ngettext("%(count)d reply", "%(count)d replies", n) for n in counts}
    forms = {}
    for n, index in counts.items():
        forms.setdefault(index, set()).add(words[n])
    assert all(len(texts) == 1 for texts in forms.values()), forms
    assert len({next(iter(texts)) for texts in forms.values()}) >= 4, "Arabic uses distinct words for these counts"
    assert words[3] == "%(count)d ردود" and words[11] == "%(count)d ردًّا"


def test_catalog_has_no_untranslated_or_fuzzy_entries(catalog):
    entries = messages(catalog)
    assert len(entries) > 50, "the catalog looks truncated"

    fuzzy = [where(e) for e in entries if "fuzzy" in e.flags]
    empty = [where(e) for e in entries if e.msgid_plural is None and not e.msgstr]
    nplurals = int(re.search(r"nplurals\s*=\s*(\d+)", catalog[0].msgstr).group(1))
    bad_plurals = [
        where(e)
        for e in entries
        if e.msgid_plural is not None
        and (sorted(e.msgstr_plural) != list(range(nplurals)) or not all(e.msgstr_plural.values()))
    ]

    assert not fuzzy, f"fuzzy entries: {fuzzy}; {REFRESH_HINT}"
    assert not empty, f"untranslated entries: {empty}; {REFRESH_HINT}"
    assert not bad_plurals, f"plural entries need all {nplurals} forms: {bad_plurals}"


def test_catalog_keeps_placeholders(catalog):
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}|\{\w*\}")
    broken = []
    for entry in messages(catalog):
        wanted = sorted(placeholder.findall(entry.msgid + (entry.msgid_plural or "")))
        wanted = sorted(set(wanted))
        for text in [entry.msgstr] if entry.msgid_plural is None else entry.msgstr_plural.values():
            if sorted(set(placeholder.findall(text))) != wanted:
                broken.append(f"{where(entry)} -> {text!r}")
    assert not broken, f"placeholders differ from the English: {broken}"


@pytest.fixture(scope="module")
def fresh_strings(tmp_path_factory) -> set:
    """The strings in the code, extracted afresh from a copy of the package."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("This test needs GNU gettext: apt-get install gettext", pytrace=False)
    tmp_path = tmp_path_factory.mktemp("extract")
    copy = tmp_path / "speakout"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "locale", "*.pyc"))
    (copy / "locale").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(copy)
        patch.setattr(django_settings, "LOCALE_PATHS", [copy / "locale"])
        call_command("makemessages", locale=["es"], no_obsolete=True, verbosity=0)
    return keys(parse_po(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))


def keys(entries):
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in messages(entries)}


def test_catalog_covers_every_string_in_the_code(catalog, fresh_strings):
    fresh = fresh_strings
    committed = keys(catalog)
    new = sorted(msgid for _, msgid, _ in fresh - committed)
    gone = sorted(msgid for _, msgid, _ in committed - fresh)
    assert not new, f"strings in the code missing from the catalog: {new}; {REFRESH_HINT}"
    assert not gone, f"catalog entries no longer in the code: {gone}; {REFRESH_HINT}"


# --- (e) The compiled .mo matches the .po -------------------------------------------------------


def test_compiled_catalog_matches_po(catalog):
    """Read django.mo with the standard library and check every .po entry is in it, unchanged."""
    assert catalog.mo_path.exists(), f"{catalog.mo_path} is missing; {REFRESH_HINT}"
    with catalog.mo_path.open("rb") as handle:
        mo = stdlib_gettext.GNUTranslations(handle)

    stale = []
    for entry in messages(catalog):
        if "fuzzy" in entry.flags or not (entry.msgstr or any(entry.msgstr_plural.values())):
            continue  # msgfmt leaves these out; the completeness test reports them
        if entry.msgid_plural is None:
            got = mo.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt is not None else mo.gettext(entry.msgid)
            if got != entry.msgstr:
                stale.append(f"{where(entry)}: .mo has {got!r}, .po has {entry.msgstr!r}")
            continue
        for index, text in entry.msgstr_plural.items():
            n = sample_number(mo.plural, index)
            if entry.msgctxt is not None:
                got = mo.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
            else:
                got = mo.ngettext(entry.msgid, entry.msgid_plural, n)
            if got != text:
                stale.append(f"{where(entry)}[{index}]: .mo has {got!r}, .po has {text!r}")
    assert not stale, f"django.mo is stale, run compilemessages: {stale}"


def test_django_translates_every_entry_as_the_po_says(catalog):
    """Through Django's own machinery (which merges Django's and Wagtail's catalogs under ours)."""
    stale = []
    plural = catalog.plural
    with translation.override(translation.to_language(catalog.locale)):
        for entry in messages(catalog):
            if entry.msgid_plural is None and entry.msgctxt is None:
                got = translation.gettext(entry.msgid)
                if got != entry.msgstr:
                    stale.append(f"{where(entry)}: got {got!r}, .po has {entry.msgstr!r}")
            elif entry.msgid_plural is not None and entry.msgctxt is None:
                for index, text in entry.msgstr_plural.items():
                    got = translation.ngettext(entry.msgid, entry.msgid_plural, sample_number(plural, index))
                    if got != text:
                        stale.append(f"{where(entry)}[{index}]: got {got!r}, .po has {text!r}")
    assert not stale, f"{catalog.locale} translations do not match the .po (stale .mo?): {stale}"
