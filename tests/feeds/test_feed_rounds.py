"""Polling rounds end to end: real feed servers on 127.0.0.1, the real bot on the sandbox, a
controlled clock. Rounds are driven by calling ``poller.run_once()``, never by waiting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bench.synthetic_images import make_jpeg
from bot.core import Cupola
from bot.db import Database
from bot.feeds import store
from bot.feeds.policy import PAUSE_AFTER_FAILURES
from bot.feeds.poller import FeedPoller
from bot.models import Delivery
from bot.render.feeds import describe_error
from bot.sandbox import Sandbox
from tests.feeds.feedserver import Album, FeedServer, media_rss
from tests.feeds.samples import BILLION_LAUGHS, EXTERNAL_ENTITY, HTML_PAGE, MALFORMED, gzip_bomb
from tests.support.helpers import Clock, World, albums_in, make_settings, poller, running_bot

HOUR = 3600


async def watch(sandbox: Sandbox, url: str, channel: Any, **options: Any) -> Any:
    record = await sandbox.invoke("feed watch", {"url": url, "channel": channel, **options})
    return record


async def test_new_album_is_announced_once_with_preview_and_credit(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/album.xml", media_rss([Album(1), Album(2)]))
    record = await watch(sandbox, feeds.url("/album.xml"), world.albums)
    assert record.reply["content"].startswith("Now watching **Expedition 72 albums** (2 items) in ")
    assert albums_in(sandbox, world.albums) == []  # existing items are only marked seen

    images = [f"/img/{i}.jpg" for i in range(4)]
    for i, path in enumerate(images):
        feeds.image(path, make_jpeg(800, 600, seed=i))
    new = Album(
        3,
        title="Aurora over the Pacific",
        description="<p>Green <b>curtains</b> seen from the station.</p>",
        credit="NASA/Loral O'Hara",
        images=[feeds.url(p) for p in images],
    )
    feeds.feed("/album.xml", media_rss([Album(1), Album(2), new]))
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.claimed, report.ok, report.new_entries, report.posted) == (1, 1, 1, 1)

    [message] = albums_in(sandbox, world.albums)
    embed = message["embeds"][0]
    assert embed["title"] == "Aurora over the Pacific"
    assert embed["url"] == "https://photos.example.org/album/3"
    assert embed["description"] == "Green curtains seen from the station."
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Credit"] == "NASA/Loral O'Hara"
    assert fields["Published"] == "<t:1748952000:f>"
    assert embed["image"]["url"] == "attachment://preview.jpg"
    assert [a["filename"] for a in message["attachments"]] == ["preview.jpg"]
    assert message["allowed_mentions"] == {"parse": []}

    # Later rounds, and the feed re-dating the album, never announce it again.
    redated = Album(3, title=new.title, date="Wed, 04 Jun 2025 09:00:00 +0000", images=new.images)
    feeds.feed("/album.xml", media_rss([Album(1), Album(2), redated]))
    for _ in range(3):
        clock.advance(2 * HOUR)
        await poller(feed_bot).run_once()
    assert len(albums_in(sandbox, world.albums)) == 1


async def subscriptions(bot: Cupola, guild_id: int) -> list[store.SubscriptionView]:
    return await bot.db.run(store.guild_subscriptions, guild_id)


async def test_not_modified_sends_back_validators_verbatim(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    etag, modified = 'W/"album-v1"', "Tue, 03 Jun 2025 12:00:00 GMT"
    feeds.feed("/a.xml", media_rss([Album(1)]), etag=etag, last_modified=modified)
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.claimed, report.not_modified, report.ok) == (1, 1, 0)
    sent = feeds.last_headers("/a.xml")
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == (etag, modified)
    [view] = await subscriptions(feed_bot, world.guild.id)
    assert (view.last_status, view.failures) == ("not_modified", 0)
    assert view.last_fetch_at == clock.now

    # New validators are stored as received and sent back on the next poll.
    feeds.feed("/a.xml", media_rss([Album(1), Album(2)]), etag='"v2"', last_modified=None)
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 1
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).not_modified == 1
    assert feeds.last_headers("/a.xml")["If-None-Match"] == '"v2"'
    assert "If-Modified-Since" not in feeds.last_headers("/a.xml")  # the 200 carried none


async def test_cache_control_delays_the_next_poll(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]), cache_control="max-age=3000")
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    [view] = await subscriptions(feed_bot, world.guild.id)
    assert view.next_poll_at == clock.now + timedelta(seconds=3000)
    clock.advance(2999)
    assert (await poller(feed_bot).run_once()).claimed == 0
    clock.advance(1)
    assert (await poller(feed_bot).run_once()).claimed == 1


async def test_redirects_permanent_remembered_temporary_not(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.redirect("/old.xml", feeds.url("/new.xml"), 301)
    feeds.feed("/new.xml", media_rss([Album(1)]))
    feeds.redirect("/feed", feeds.url("/today.xml"), 302)
    feeds.feed("/today.xml", media_rss([Album(1)], title="Today"))
    record = await watch(sandbox, feeds.url("/old.xml"), world.albums)
    assert "(1 items)" in record.reply["content"]
    await watch(sandbox, feeds.url("/feed"), world.albums)
    feeds.feed("/new.xml", media_rss([Album(1), Album(2)]))
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.ok, report.posted) == (2, 1)
    assert feeds.hits["/old.xml"] == 1 and feeds.hits["/new.xml"] == 2  # straight to the new address
    assert feeds.hits["/feed"] == 2  # a temporary redirect is asked again every time
    views = await subscriptions(feed_bot, world.guild.id)
    assert [v.url for v in views] == [feeds.url("/old.xml"), feeds.url("/feed")]  # as the admin typed


FAILURES = {
    "/404.xml": "The feed server answered 404 Not Found: the address may have moved.",
    "/500.xml": (
        "The feed server answered 500 Internal Server Error: the feed server has a problem; "
        "Cupola will try again later."
    ),
    "/slow.xml": "The feed server took too long to answer. It may be overloaded; Cupola will try again.",
}


async def test_failing_feeds_back_off_then_pause_and_tell_the_channels(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    for path in FAILURES:
        feeds.feed(path, media_rss([Album(1)], title=f"Albums {path}"))
        await watch(sandbox, feeds.url(path), world.albums)
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/404.xml"), "channel": world.other_albums}, guild=world.other
    )
    feeds.status("/404.xml", 404)
    feeds.status("/500.xml", 500)
    feeds.stall("/slow.xml", 5)
    feed_bot.net.total_timeout = 0.2
    views = await subscriptions(feed_bot, world.guild.id)
    clock.now = max(v.next_poll_at for v in views)
    delays = []
    for attempt in range(1, PAUSE_AFTER_FAILURES + 1):
        report = await poller(feed_bot).run_once()
        assert (report.claimed, report.failed) == (3, 3)  # fetched concurrently, each once
        views = await subscriptions(feed_bot, world.guild.id)
        assert [(v.failures, v.last_status) for v in views] == [
            (attempt, "http_404"),
            (attempt, "http_500"),
            (attempt, "timeout"),
        ]
        delays.append((views[0].next_poll_at - clock.now).total_seconds())
        assert {v.next_poll_at for v in views} == {views[0].next_poll_at}
        clock.now = views[0].next_poll_at
    assert delays == [1200, 2400, 4800, 9600, 19200]  # 600 s × 2^failures
    assert all(v.paused for v in views) and report.paused == 3

    # Each subscribing channel, in both servers, is told why, in plain words.
    def notice(path: str) -> str:
        return (
            f"Cupola stopped checking the feed **Albums {path}** after 5 failed attempts in a row. "
            f"{FAILURES[path]} An admin can run /feed watch with the same address to try again, "
            "or /feed unwatch to remove it."
        )

    assert sorted(m["content"] for m in sandbox.channel_messages(world.albums)) == sorted(
        notice(path) for path in FAILURES
    )
    assert [m["content"] for m in sandbox.channel_messages(world.other_albums)] == [notice("/404.xml")]
    hits = sum(feeds.hits.values())
    clock.advance(48 * HOUR)
    assert (await poller(feed_bot).run_once()).claimed == 0  # paused: never fetched again
    assert sum(feeds.hits.values()) == hits

    status_reply = await sandbox.invoke("feed status", user=world.member)
    for field, why in zip(status_reply.reply["embeds"][0]["fields"], FAILURES.values(), strict=True):
        assert f"Problem: {why}" in field["value"]
        assert "Paused after 5 failures in a row." in field["value"]
    assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"


HOSTILE = [
    ("malformed", "malformed"),
    ("html", "not_a_feed"),
    ("billion_laughs", "entities"),
    ("external_entity", "entities"),
    ("gigabyte", "too_large"),
    ("gzip_bomb", "too_large"),
    ("jpeg", "image"),
]


async def test_hostile_feeds_leave_the_bot_up_and_status_explains(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    good = media_rss([Album(1)])
    feeds.feed("/a.xml", good)
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    for hostile, status in HOSTILE:
        sent = [0]
        if hostile == "gigabyte":
            sent = feeds.endless("/a.xml")  # 1 GiB, produced lazily as it is read
        elif hostile == "gzip_bomb":
            feeds.raw(
                "/a.xml", gzip_bomb(64), {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
            )
        else:
            body = {
                "malformed": MALFORMED,
                "html": HTML_PAGE,
                "billion_laughs": BILLION_LAUGHS,
                "external_entity": EXTERNAL_ENTITY,
                "jpeg": make_jpeg(64, 48),  # was reported as broken XML
            }[hostile]
            content_type = "text/html" if hostile == "html" else "application/xml"
            feeds.raw("/a.xml", body, {"Content-Type": content_type})
        clock.advance(4 * HOUR)
        report = await poller(feed_bot).run_once()
        assert (report.failed, report.errors) == (1, []), hostile
        assert sent[0] < 64 * 1024 * 1024  # the endless body was cut off early
        [view] = await subscriptions(feed_bot, world.guild.id)
        assert view.last_status == status, hostile
        reply = await sandbox.invoke("feed status", {"feed": str(view.id)})
        assert f"Problem: {describe_error(status)}" in reply.reply["embeds"][0]["fields"][0]["value"]
        feeds.feed("/a.xml", good)  # the publisher fixes it: failures start again from zero
        clock.advance(4 * HOUR)
        assert (await poller(feed_bot).run_once()).ok == 1
    assert sandbox.channel_messages(world.albums) == []
    assert (await sandbox.invoke("about")).reply["embeds"][0]["title"] == "About Cupola"


async def test_two_servers_one_feed_fetched_once_posted_in_both(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/a.xml"), "channel": world.other_albums}, guild=world.other
    )
    feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
    before = feeds.hits["/a.xml"]
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert feeds.hits["/a.xml"] - before == 1
    assert (report.claimed, report.posted) == (1, 2)
    for channel in (world.albums, world.other_albums):
        [message] = albums_in(sandbox, channel)
        assert message["embeds"][0]["title"] == "Album 2"


async def test_mentions_in_feed_text_ping_nobody_but_the_chosen_role(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    await watch(
        sandbox, feeds.url("/a.xml"), world.guild.channels[next(iter(world.guild.channels))], role=world.fans
    )
    loud = Album(
        2,
        title="@everyone look <@&1234567890123456789>",
        description=f"@everyone @here <@&{world.fans.id}> <@{world.member.id}> **bold** [click](https://evil.example)",
        credit="@everyone",
    )
    feeds.feed("/a.xml", media_rss([Album(1), loud]))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 2

    [quiet] = albums_in(sandbox, world.albums)
    assert quiet["allowed_mentions"] == {"parse": []}
    assert quiet["content"] == ""
    description = quiet["embeds"][0]["description"]
    assert "@everyone" not in description and "@here" not in description
    assert "@\u200beveryone" in description and f"<@\u200b&{world.fans.id}>" in description
    assert "\\*\\*bold**" in description and "\\[click](" in description  # shown literally
    assert quiet["embeds"][0]["fields"][1]["value"] == "@\u200beveryone"

    [pinging] = albums_in(sandbox, sandbox.default_channel(world.guild))
    assert pinging["content"] == f"<@&{world.fans.id}>"
    assert pinging["allowed_mentions"] == {"parse": [], "roles": [world.fans.id]}
    posts = [c for c in sandbox.calls_to("POST", "/channels/") if c.json and c.json.get("embeds")]
    assert all(c.json["allowed_mentions"]["parse"] == [] for c in posts)


async def test_preview_single_image_and_fallback_to_the_url(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.image("/one.jpg", make_jpeg(1200, 800))
    feeds.raw("/broken.jpg", make_jpeg(400, 300)[:500], {"Content-Type": "image/jpeg"})
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    single = Album(2, images=[feeds.url("/one.jpg")])
    broken = Album(
        3, images=[feeds.url("/broken.jpg"), feeds.url("/missing.jpg")], thumbnail=feeds.url("/t.jpg")
    )
    mixed = Album(4, images=[feeds.url("/missing.jpg"), feeds.url("/one.jpg"), feeds.url("/one.jpg?2")])
    feeds.feed("/a.xml", media_rss([Album(1), single, broken, mixed]))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 3
    two, three, four = albums_in(sandbox, world.albums)
    assert two["embeds"][0]["image"]["url"] == "attachment://preview.jpg"
    assert [a["filename"] for a in two["attachments"]] == ["preview.jpg"]
    assert three["attachments"] == []
    assert three["embeds"][0]["image"]["url"] == feeds.url("/t.jpg")  # nothing fetched: the URL
    assert [a["filename"] for a in four["attachments"]] == ["preview.jpg"]  # a collage of two


async def test_a_channel_that_is_gone_is_dropped_for_good(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    del sandbox.channels[world.albums.id]  # deleted on Discord's side
    feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.posted, report.post_failures) == (0, 1)
    [row] = await feed_bot.db.run(_deliveries)
    assert (row.status, row.error) == ("dropped", "404 Unknown Channel")
    assert await subscriptions(feed_bot, world.guild.id) == []
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).post_failures == 0  # not retried


def _deliveries(*, session: Session) -> list[Delivery]:
    return list(session.exec(select(Delivery).where(Delivery.kind == store.ALBUM)).all())


async def test_posts_only_in_guilds_this_process_owns(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock, monkeypatch: Any
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await watch(sandbox, feeds.url("/a.xml"), world.albums)
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/a.xml"), "channel": world.other_albums}, guild=world.other
    )
    monkeypatch.setattr(feed_bot, "owns_guild", lambda guild_id: guild_id == world.guild.id)
    feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 1
    assert albums_in(sandbox, world.other_albums) == []
    waiting = [d for d in await feed_bot.db.run(_deliveries) if d.channel_id == world.other_albums.id]
    assert [(d.status, d.claimed_by) for d in waiting] == [("pending", None)]  # left for its owner
    monkeypatch.undo()  # the other guild's process runs its round
    feed_bot.clock = clock
    assert (await poller(feed_bot).run_once()).posted == 1
    assert len(albums_in(sandbox, world.other_albums)) == 1


async def test_restart_never_reannounces_and_resumes_queued_posts(
    sandbox: Sandbox, world: World, db: Database, db_url: str, tmp_path: Path, feeds: FeedServer
) -> None:
    clock = Clock()
    settings = make_settings(sandbox, tmp_path, db_url)
    feeds.feed("/a.xml", media_rss([Album(1)]))

    def hand_driven(bot: Cupola) -> None:
        """The loop stopped and the clock set before the gateway connects: the loop's first round
        (which runs as soon as the bot is ready) would otherwise post the queued album itself."""
        bot.get_cog("Feeds").poll_loop.cancel()  # type: ignore[union-attr]
        bot.clock = clock

    async with running_bot(settings, db, sandbox, before_connect=hand_driven) as first:
        await watch(sandbox, feeds.url("/a.xml"), world.albums)
        feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
        clock.advance(2 * HOUR)
        assert (await poller(first).run_once()).posted == 1
        # Album 3 is recorded and queued, then the process stops before posting it.
        feeds.feed("/a.xml", media_rss([Album(1), Album(2), Album(3)]))
        clock.advance(2 * HOUR)
        poller(first).deliver = False
        assert (await poller(first).run_once()).queued == 1

    async with running_bot(settings, db, sandbox, before_connect=hand_driven) as second:
        clock.advance(2 * HOUR)
        report = await poller(second).run_once()
        assert (report.new_entries, report.posted) == (0, 1)
        for _ in range(2):
            clock.advance(2 * HOUR)
            await poller(second).run_once()
    titles = [m["embeds"][0]["title"] for m in albums_in(sandbox, world.albums)]
    assert titles == ["Album 2", "Album 3"]


async def test_the_loop_survives_a_failing_round_and_stops_with_the_cog(
    feed_bot: Cupola, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cog: Any = feed_bot.get_cog("Feeds")
    assert cog.poll_loop.seconds == 60  # a tenth of the 600 s interval, at most a minute

    async def database_away() -> None:
        raise OSError("could not connect to the database")

    monkeypatch.setattr(cog.poller, "run_once", database_away)
    with caplog.at_level(logging.ERROR, logger="cogs.feeds"):
        await cog.poll_loop.coro()  # one tick of the loop: logged, not raised
    assert "feed polling failed; backing off" in caplog.text

    monkeypatch.undo()
    feed_bot.clock = Clock()
    cog.poll_loop.change_interval(seconds=3600)
    task = cog.poll_loop.start()
    assert cog.poll_loop.is_running()
    await feed_bot.unload_extension("cogs.feeds")
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.done() and not cog.poll_loop.is_running()


async def test_a_restarted_poller_does_not_parse_a_body_it_has_read(
    feed_bot: Cupola,
    sandbox: Sandbox,
    feeds: FeedServer,
    world: World,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11: after a restart every 200 with an unchanged body was parsed again (the hash of the
    last body lived only in memory); it is stored with the feed now."""
    import bot.feeds.poller as poller_module

    feeds.feed("/plain.xml", media_rss([Album(1)]))  # no ETag, no Last-Modified: always a 200
    await watch(sandbox, feeds.url("/plain.xml"), world.albums)
    clock.advance(2 * HOUR)
    first = await poller(feed_bot).run_once()
    assert (first.claimed, first.ok) == (1, 1)

    parsed: list[int] = []
    real_parse = poller_module.parse_feed_async

    async def counting_parse(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return await real_parse(*args, **kwargs)

    monkeypatch.setattr(poller_module, "parse_feed_async", counting_parse)
    restarted = FeedPoller(feed_bot, deliver=False)  # a new process: nothing in memory
    clock.advance(2 * HOUR)
    report = await restarted.run_once()
    assert (report.claimed, report.ok, report.failed, parsed) == (1, 1, 0, [])
    feeds.feed("/plain.xml", media_rss([Album(1), Album(2)]))  # a new body is read as ever
    clock.advance(2 * HOUR)
    report = await restarted.run_once()
    assert (report.ok, report.new_entries, parsed) == (1, 1, [1])
