"""A reply post reads the shared cache's small entries in one round trip (speakout/net/sharedreads.py),
against a real Redis as production runs it (``SPEAKOUT_TEST_REDIS_URL``), and a change made between
two posts by another process is seen by the next post."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches

from speakout.discussion import services
from speakout.discussion.forms import STAFF_NAMES_KEY
from speakout.discussion.models import DiscussionSettings, Reply
from speakout.net import sharedreads
from speakout.net.rediscache import SharedClientRedisCache
from speakout.safety.models import SafetySettings
from tests.discussion.helpers import api_post
from tests.sharedcache import REDIS_URL, commands_of

pytestmark = pytest.mark.django_db


def test_a_reply_post_reads_its_rules_keys_and_names_in_one_round_trip(
    client, rules, redis, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Once the entries are cached, a published reply asks Redis for: one multi-get of the
    site's language (read by the middleware before the view), the rules, client keys, staff
    names, safety rules, spam model version and the client's refusal counts; and the thread's
    version bumped twice (before the reply's transaction and at its commit)."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    thread = services.get_or_create_thread("shared-reads", url="http://testserver/s/", title="Shared reads")
    assert api_post(client, thread, 1)["outcome"] == "published"  # fills the cache
    sent = commands_of(redis, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_post(client, thread, 2)
    assert answer["outcome"] == "published", answer
    reads = [command for command in sent if command in ("GET", "MGET")]
    assert reads == ["MGET"], sent
    assert sent.count("EVALSHA") == 2, sent
    assert len(sent) == 3, sent


def test_changes_between_two_posts_are_read_by_the_next(client, rules, redis, settings):
    """Nothing read together outlives its block: the rules, the safety rules and the staff's
    names changed by another process (straight in the cache and database) count at once."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    thread = services.get_or_create_thread("shared-reads-2", url="http://testserver/t/", title="Shared reads")
    assert api_post(client, thread, 1)["outcome"] == "published"
    another_process = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": redis.key_prefix})

    DiscussionSettings.objects.filter(pk=1).update(hold_words="pineapple")
    from speakout.pagecache import versions

    versions.bump_now("discussion-settings")
    assert api_post(client, thread, 2, body="About pineapple.")["outcome"] == "held"

    SafetySettings.objects.update_or_create(pk=1, defaults={"protected_names": "Zelda Quux"})
    another_process.delete(SafetySettings.CACHE_KEY)
    answer = api_post(client, thread, 3, body="Zelda Quux said so.")
    assert answer["status"] == 400 and answer["code"] == "personal_data", answer

    another_process.set(STAFF_NAMES_KEY, {"writerd"}, 60)
    answer = api_post(client, thread, 4, name="Writer d")
    assert answer["status"] == 400 and "name" in answer["errors"], answer
    assert Reply.objects.filter(thread=thread).count() == 2


def test_a_page_sends_redis_what_it_sent_without_the_middleware(client, redis, monkeypatch, settings):
    """The site's language joins a reply post's read (above); a request that reads nothing
    together sends Redis the same commands as without SharedReadsMiddleware: never a read it
    would not have made."""
    client.get("/robots.txt")  # fills the cache
    sent = commands_of(redis, monkeypatch)
    client.get("/robots.txt")
    with_middleware = list(sent)
    sent.clear()
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if not name.endswith(".SharedReadsMiddleware")]
    client.get("/robots.txt")
    assert with_middleware == sent and "GET" in sent, sent


def test_the_language_changed_by_another_process_counts_on_the_next_post(client, rules, redis, settings):
    """The default language read with a post's rules is the cache's at the post's start."""
    from speakout.theme.languages import CACHE_KEY

    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    thread = services.get_or_create_thread("shared-reads-5", url="http://testserver/f/", title="Shared reads")
    another_process = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": redis.key_prefix})
    another_process.set(CACHE_KEY, "fr", None)
    answer = api_post(client, thread, 1, body="")
    assert answer["errors"]["body"] == ["Écrivez quelque chose avant d’envoyer."], answer
    another_process.set(CACHE_KEY, "es", None)
    answer = api_post(client, thread, 2, body="")
    assert answer["errors"]["body"] != ["Écrivez quelque chose avant d’envoyer."], answer
    assert api_post(client, thread, 3)["outcome"] == "published"
    assert Reply.objects.get(thread=thread).language == "es"


def test_a_block_inside_another_reads_only_what_the_outer_one_does_not_hold(monkeypatch):
    """A request's block (the middleware's) holds some keys; a view's block inside it reads the
    others, and each key still answers its first read only."""
    cache.set("shared-outer", 1, 60)
    cache.set("shared-inner", 2, 60)
    asked: list[list[str]] = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: asked.append(list(keys)) or get_many(keys))
    with sharedreads.read_together(["shared-outer"]):
        with sharedreads.read_together(["shared-outer", "shared-inner"]):
            cache.set("shared-outer", 3, 60)
            assert sharedreads.get("shared-outer") == 1
            assert sharedreads.get("shared-inner") == 2
        with sharedreads.read_together(["shared-outer"]):
            assert sharedreads.get("shared-outer") == 3, "read again: its first answer was taken"
    assert asked == [["shared-outer"], ["shared-inner"], ["shared-outer"]]
    cache.delete_many(["shared-outer", "shared-inner"])


def test_each_key_is_answered_from_the_batch_once_and_only_inside_the_block():
    cache.set("shared-a", 1, 60)
    with sharedreads.read_together(["shared-a", "shared-missing"]):
        cache.set("shared-a", 2, 60)
        assert sharedreads.get("shared-a") == 1, "as read when the block started"
        assert sharedreads.get("shared-a") == 2, "a second read asks the cache"
        assert sharedreads.get_many(["shared-missing", "shared-a"]) == {"shared-a": 2}
    cache.set("shared-a", 3, 60)
    assert sharedreads.get("shared-a") == 3
    assert sharedreads.get_many(["shared-a"]) == {"shared-a": 3}
    cache.delete("shared-a")


def test_the_rate_limits_are_read_in_one_round_trip_and_still_hold(client, rules, redis, monkeypatch, settings):
    """With the limits on, the pauses and counts of every key (the client under each key still
    kept, the address) come in one multi-get; a second post within the pause is refused."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 30
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (5, 600)
    thread = services.get_or_create_thread("shared-reads-3", url="http://testserver/r/", title="Shared reads")
    assert api_post(client, thread, 1)["outcome"] == "published"
    sent = commands_of(redis, monkeypatch)
    assert api_post(client, thread, 2)["outcome"] == "published"
    assert [command for command in sent if command in ("GET", "MGET")] == ["MGET", "MGET"], sent
    answer = api_post(client, thread, 2, body="Another reply from the same client, too soon.")
    assert answer["status"] == 429 and answer["code"] == "rate_limit", answer


@pytest.mark.parametrize("guess", ["right", "wrong"])
def test_the_refusal_budget_read_ahead_still_holds(client, rules, redis, settings, monkeypatch, guess):
    """The client's refusal counts are read with the post's other reads, under the client keys
    this process read last; spent is spent, and so it is when those keys have changed since
    (the counts are then asked for under the right ones)."""
    from speakout.discussion import clients

    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    settings.SPEAKOUT_DISCUSSION_REFUSAL_LIMIT = (2, 600)
    thread = services.get_or_create_thread("shared-reads-6", url="http://testserver/b/", title="Shared reads")
    assert api_post(client, thread, 7)["outcome"] == "published"
    for _ in range(2):
        assert api_post(client, thread, 7, body="")["code"] == "invalid"
    if guess == "wrong":
        monkeypatch.setattr(clients, "_last_read", ["00" * 32])
    answer = api_post(client, thread, 7)
    assert answer["status"] == 429 and answer["code"] == "rate_limit", answer
    assert api_post(client, thread, 8)["outcome"] == "published", "another client's budget is its own"


def _signed_in_page(client, url: str) -> str:
    """The page, without the tokens made afresh for each response."""
    import re

    page = client.get(url).content.decode()
    return re.sub(r'(name="(?:csrfmiddlewaretoken|form_token|submission_id)" value=")[^"]*', r"\1", page)


def test_a_signed_in_reader_s_report_page_reads_its_fragments_in_one_round_trip(
    client, rules, redis, monkeypatch, site_builder, post_reply, settings
):
    """The report's fragments (head, article, Fediverse line), the menu, the translations and the
    discussion's rules are read with one multi-get by the page's view, where each was a GET; the
    page is the same, and an edit of the report and a new reply show on the next request."""
    from django.contrib.auth import get_user_model

    from speakout.discussion.models import Thread

    report = site_builder.report("Read ahead", standfirst="First standfirst.")
    thread = Thread.objects.get(key=report.thread_key)
    assert post_reply(thread, body="A first reply.").outcome == "published"
    client.force_login(get_user_model().objects.create_user("reader", "reader@example.org"))
    _signed_in_page(client, report.url)  # fills the cache
    sent = commands_of(redis, monkeypatch)
    page = _signed_in_page(client, report.url)
    read_ahead = [command for command in sent if command in ("GET", "MGET")]
    sent.clear()
    monkeypatch.setattr(sharedreads, "read_ahead", lambda keys: None)
    assert _signed_in_page(client, report.url) == page
    one_by_one = [command for command in sent if command in ("GET", "MGET")]
    # The site's language, the content version, what the view read ahead, the reply list; one
    # by one, six GETs more (the rules' multi-get is in the read-ahead).
    assert read_ahead == ["GET", "MGET", "MGET", "GET"], read_ahead
    assert len(one_by_one) == len(read_ahead) + 6, one_by_one
    monkeypatch.undo()

    report.standfirst = "Second standfirst."
    report.save_revision().publish()
    page = _signed_in_page(client, report.url)
    assert "Second standfirst." in page and "First standfirst." not in page
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    assert post_reply(thread, body="A second reply.").outcome == "published"
    assert "A second reply." in _signed_in_page(client, report.url)


def test_the_fragment_cache_reads_through_the_block_and_writes_to_the_default_cache():
    fragments = caches["template_fragments"]
    assert isinstance(fragments, sharedreads.FragmentCache)
    fragments.set("fragment-a", "a", 60)
    assert cache.get("fragment-a") == "a" and fragments.get("fragment-a") == "a"
    with sharedreads.read_together([]):
        sharedreads.read_ahead(["fragment-a", "fragment-b"])
        cache.set("fragment-a", "changed", 60)
        assert fragments.get("fragment-a") == "a"  # as read ahead, once
        assert fragments.get("fragment-a") == "changed"
        assert fragments.get("fragment-b", "missing") == "missing"
    sharedreads.read_ahead(["fragment-a"])  # outside a block: nothing read, nothing kept
    fragments.delete("fragment-a")
    assert cache.get("fragment-a") is None
