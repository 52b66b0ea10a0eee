"""A feed item carrying NUL or control characters is announced cleaned, and never blocks its feed."""

from __future__ import annotations

from bot.core import Cupola
from bot.feeds.poller import FeedPoller
from bot.sandbox import Sandbox
from tests.feeds.feedserver import Album, FeedServer, media_rss
from tests.support.helpers import Clock, World

HOUR = 3600


def poller(bot: Cupola) -> FeedPoller:
    return bot.get_cog("Feeds").poller  # type: ignore[union-attr]


async def test_nul_in_an_item_title_does_not_block_the_feed(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    """On PostgreSQL a NUL in a title made every round fail for that feed (text refuses U+0000)."""
    feeds.feed("/a.xml", media_rss([Album(1)]))
    record = await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    assert record.reply["content"].startswith("Now watching")

    hostile = Album(
        2, title="Aurora\x00 over\x07 the Pacific", description="Green\x00 curtains", credit="NASA\x00"
    )
    feeds.feed("/a.xml", media_rss([Album(1), hostile]))
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.ok, report.posted) == (1, 1)

    feeds.feed("/a.xml", media_rss([Album(1), hostile, Album(3)]))
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.ok, report.posted) == (1, 1)
    titles = [m["embeds"][0]["title"] for m in sandbox.channel_messages(world.albums) if m.get("embeds")]
    assert titles == ["Aurora over the Pacific", "Album 3"]
