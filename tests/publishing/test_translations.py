"""Reports in several languages: each translation at its language's address, linked to the
others (switcher, hreflang), with its own feeds, search, menu and discussion."""

from importlib import import_module

import feedparser
import pytest
from django.apps import apps
from wagtail.models import Locale, Page

from speakout.publishing.discussion import thread_for_report
from tests.helpers import paragraph

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}


@pytest.fixture
def translated(site_builder):
    report = site_builder.report("Housing report", standfirst="What we found about housing.")
    untranslated = site_builder.report("Only in English", standfirst="Not translated.")
    site_builder.translate(site_builder.home, "fr", title="Collectif de test")
    index_fr = site_builder.translate(site_builder.index, "fr", title="Rapports")
    report_fr = site_builder.translate(
        report,
        "fr",
        title="Rapport sur le logement",
        standfirst="Ce que nous avons appris sur le logement.",
        body=[paragraph("<p>Le texte du rapport.</p>")],
    )
    return {"report": report, "report_fr": report_fr, "index_fr": index_fr, "untranslated": untranslated}


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_translation_lives_under_its_language_prefix(client, translated):
    """The default language's report is unprefixed, its French translation under /fr/, and each
    address shows its own text whatever the reader's browser asks for."""
    report, report_fr = translated["report"], translated["report_fr"]
    assert report.url == report.url.removeprefix("/fr")
    assert report_fr.url == "/fr" + report.url
    french = html_of(client.get(report_fr.url, HTTP_ACCEPT_LANGUAGE="es"))
    assert "Rapport sur le logement" in french and "Housing report" not in french.split("<footer")[0]
    assert '<html lang="fr"' in french
    # An unprefixed address keeps the default language's text, in the reader's interface language.
    english = html_of(client.get(report.url, HTTP_ACCEPT_LANGUAGE="fr"))
    article = english.split("<footer")[0]
    assert "Housing report" in article and "Rapport sur le logement" not in article
    assert '<html lang="fr"' in english
    assert '<html lang="es"' in html_of(client.get(report.url, HTTP_ACCEPT_LANGUAGE="es"))
    # A path that only exists in another language's tree is not found under the wrong prefix.
    assert client.get("/es" + report.url).status_code == 404
    assert client.get("/fr" + translated["untranslated"].url).status_code == 404


def test_hreflang_alternates_and_switcher_links(client, translated):
    report, report_fr = translated["report"], translated["report_fr"]
    for url in (report.url, report_fr.url):
        page = html_of(client.get(url))
        assert f'<link rel="alternate" hreflang="en" href="http://testserver{report.url}">' in page
        assert f'<link rel="alternate" hreflang="fr" href="http://testserver{report_fr.url}">' in page
        assert f'<link rel="alternate" hreflang="x-default" href="http://testserver{report.url}">' in page
        assert f'href="{report_fr.url}" hreflang="fr" lang="fr"' in page
    alone = html_of(client.get(translated["untranslated"].url))
    assert 'hreflang="fr"' not in alone.replace('type="application/rss+xml" hreflang', "")
    assert 'class="translations"' not in alone


def test_draft_translation_is_not_offered(client, site_builder, translated):
    site_builder.translate(site_builder.home, "ar", title="التجمع")
    site_builder.translate(site_builder.index, "ar", title="التقارير")
    draft = site_builder.translate(translated["report"], "ar", title="تقرير", live=False)
    page = html_of(client.get(translated["report"].url))
    assert 'hreflang="ar"' not in page
    assert client.get(draft.url).status_code == 404


def test_switcher_goes_to_the_translation(client, translated):
    """Choosing a language on a translated page leads to that page's version in it; from a
    prefixed page to a language it lacks, back to the default language's version (read in the
    chosen interface language)."""
    report, report_fr = translated["report"], translated["report_fr"]
    response = client.post("/i18n/setlang/", {"language": "fr", "next": report.url}, **SAME_ORIGIN)
    assert response.status_code == 302 and response["Location"] == report_fr.url
    response = client.post("/i18n/setlang/", {"language": "en", "next": report_fr.url}, **SAME_ORIGIN)
    assert response["Location"] == report.url
    response = client.post("/i18n/setlang/", {"language": "es", "next": report_fr.url}, **SAME_ORIGIN)
    assert response["Location"] == report.url
    assert '<html lang="es"' in html_of(client.get(response["Location"]))
    # Not a page, or no translation: the reader stays where they were.
    untranslated = translated["untranslated"].url
    response = client.post("/i18n/setlang/", {"language": "fr", "next": untranslated}, **SAME_ORIGIN)
    assert response["Location"] == untranslated
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/search/?q=x"}, **SAME_ORIGIN)
    assert response["Location"] == "/search/?q=x"


def test_feeds_per_language(client, translated):
    english = feedparser.parse(client.get("/reports/feed/rss/").content)
    french = feedparser.parse(client.get(translated["index_fr"].url + "feed/atom/").content)
    assert {entry.title for entry in english.entries} == {"Housing report", "Only in English"}
    assert [entry.title for entry in french.entries] == ["Rapport sur le logement"]
    assert french.entries[0].link == "http://testserver" + translated["report_fr"].url
    assert english.feed.language == "en" and french.feed.language == "fr"
    page = html_of(client.get(translated["report_fr"].url))
    assert f'hreflang="fr" title="Rapports (RSS)" href="{translated["index_fr"].url}feed/rss/"' in page


def test_home_and_menu_per_language(client, site_builder, translated):
    about = site_builder.standard_page("About us")
    about.show_in_menus = True
    about.save_revision().publish()
    home_fr = Page.objects.get(pk=site_builder.home.get_translation(Locale.objects.get(language_code="fr")).pk)
    french = html_of(client.get(home_fr.url))
    assert "Rapport sur le logement" in french and "Only in English" not in french
    assert "About us" not in french and 'class="site-name" href="/fr/"' in french
    english = html_of(client.get("/"))
    assert "Housing report" in english and "Rapport sur le logement" not in english
    assert "About us" in english


def test_search_per_language(client, translated):
    french = html_of(client.get("/search/", {"q": "logement", "lang": "fr"}))
    assert "Rapport sur le logement" in french and "Housing report" not in french
    english = html_of(client.get("/search/", {"q": "housing", "lang": "en"}))
    assert "Housing report" in english and "Rapport sur le logement" not in english
    # The header's search box on a French page searches French pages.
    assert '<input type="hidden" name="lang" value="fr">' in html_of(client.get(translated["report_fr"].url))
    # Without a language: the reader's, when pages are written in it, else the default one.
    assert "Rapport sur le logement" in html_of(client.get("/search/", {"q": "logement"}, HTTP_ACCEPT_LANGUAGE="fr"))
    spanish_reader = html_of(client.get("/search/", {"q": "housing"}, HTTP_ACCEPT_LANGUAGE="es"))
    assert "Housing report" in spanish_reader


def test_each_translation_has_its_own_discussion(client, translated):
    english, french = thread_for_report(translated["report"]), thread_for_report(translated["report_fr"])
    assert english.pk != french.pk
    assert english.key != french.key


def test_pages_cache_apart_per_language(client, translated):
    """The page cache keys on the address: the French and English versions never swap."""
    for _ in range(2):
        assert "Rapport sur le logement" in html_of(client.get(translated["report_fr"].url))
        assert "Rapport sur le logement" not in html_of(client.get(translated["report"].url)).split("<footer")[0]


def test_migration_moves_untranslated_site_into_the_default_locale(site_builder):
    """A site whose pages Wagtail put in another locale than today's default language comes
    into the default locale, nothing else changed; a site with translations is left alone."""
    report = site_builder.report("Housing report")
    other = Locale.objects.get_or_create(language_code="es")[0]
    default = Locale.objects.get(language_code="en")
    before = {page.pk: (page.title, page.url_path, page.translation_key) for page in Page.objects.all()}
    Page.objects.update(locale=other)
    migration = import_module("speakout.publishing.migrations.0002_content_locales")
    migration.content_locales(apps, None)
    assert set(Page.objects.values_list("locale_id", flat=True)) == {default.pk}
    assert {page.pk: (page.title, page.url_path, page.translation_key) for page in Page.objects.all()} == before
    assert set(Locale.objects.values_list("language_code", flat=True)) >= {"en", "es", "fr", "pt-br", "ar"}
    site_builder.translate(site_builder.home, "fr", title="Accueil")
    migration.content_locales(apps, None)
    assert Page.objects.filter(locale__language_code="fr").count() == 1
    assert Page.objects.get(pk=report.pk).locale_id == default.pk


def test_sitemap_lists_every_language(client, translated):
    text = client.get("/sitemap.xml").content.decode()
    assert f"<loc>http://testserver{translated['report'].url}</loc>" in text
    assert f"<loc>http://testserver{translated['report_fr'].url}</loc>" in text
    assert f"<loc>http://testserver{translated['index_fr'].url}</loc>" in text


def test_an_editor_translates_a_report_in_the_admin(admin_client, client, site_builder):
    """Wagtail's Translate: the page's menu offers it; translating the home page, the reports
    index and then the report makes a French draft of each, which publishing puts online."""
    report = site_builder.report("Housing report")
    french = Locale.objects.get(language_code="fr")
    edit = admin_client.get(f"/admin/pages/{report.pk}/edit/").content.decode()
    assert f"/admin/translation/submit/page/{report.pk}/" in edit
    form = admin_client.get(f"/admin/translation/submit/page/{report.pk}/").content.decode()
    assert "parent page is not translated" in form or "parent pages are not translated" in form
    for page in (site_builder.home, site_builder.index, report):
        response = admin_client.post(f"/admin/translation/submit/page/{page.pk}/", {"locales": [french.pk]})
        assert response.status_code == 302, response.content.decode()[:2000]
    draft = Page.objects.get(translation_key=report.translation_key, locale=french).specific
    assert not draft.live and draft.title == "Housing report"
    assert client.get("/fr" + report.url).status_code == 404
    draft.title = "Rapport sur le logement"
    draft.save_revision(user=None).publish()
    for page in Page.objects.filter(locale=french, live=False):
        page.specific.save_revision().publish()
    assert "Rapport sur le logement" in html_of(client.get("/fr" + report.url))
    assert 'hreflang="fr"' in html_of(client.get(report.url))


def test_a_translation_is_not_mailed_again_to_subscribers(site_builder, subscribe):
    from speakout.subscriptions.models import Announcement

    subscribe("reader@example.org")
    report = site_builder.report("Housing report")
    assert Announcement.objects.count() == 1
    site_builder.translate(site_builder.home, "fr", title="Collectif de test")
    site_builder.translate(site_builder.index, "fr", title="Rapports")
    site_builder.translate(report, "fr", title="Rapport sur le logement")
    assert Announcement.objects.count() == 1
    site_builder.report("Another report")
    assert Announcement.objects.count() == 2


def test_the_text_carries_its_own_language_when_the_interface_differs(client, translated):
    """An English report read with the interface in Arabic: the page is ``lang="ar" dir="rtl"``
    but the article says it is English, left to right, so a screen reader reads it as English."""
    report, report_fr = translated["report"], translated["report_fr"]
    in_arabic = html_of(client.get(report.url, HTTP_ACCEPT_LANGUAGE="ar"))
    assert '<html lang="ar" dir="rtl"' in in_arabic
    assert '<article class="report" aria-labelledby="report-title" lang="en" dir="ltr">' in in_arabic
    in_english = html_of(client.get(report.url, HTTP_ACCEPT_LANGUAGE="en"))
    assert '<article class="report" aria-labelledby="report-title">' in in_english
    french = html_of(client.get(report_fr.url, HTTP_ACCEPT_LANGUAGE="ar"))
    assert '<article class="report" aria-labelledby="report-title">' in french
