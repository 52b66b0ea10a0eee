"""/feed commands end to end through the sandbox: replies, refusals, permissions, languages."""

from __future__ import annotations

from sqlmodel import Session, select

from bench.synthetic_images import make_jpeg
from bot.core import Cupola
from bot.feeds import store
from bot.models import Feed
from bot.net import SafeHttp
from bot.sandbox import Sandbox
from tests.feeds.feedserver import Album, FeedServer, media_rss
from tests.feeds.samples import BILLION_LAUGHS, HTML_PAGE, MALFORMED, gzip_bomb
from tests.support.helpers import World

EPHEMERAL = 64
NOT_ADMIN = "Only server admins (Manage Server permission) can use this command."


def feed_rows(*, session: Session) -> list[Feed]:
    return list(session.exec(select(Feed)).all())


async def test_watch_answers_with_title_and_count_and_backfills(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    feeds.image("/p.jpg", make_jpeg(640, 480))
    albums = [Album(n, images=[feeds.url("/p.jpg")]) for n in (1, 2, 3)]
    feeds.feed("/a.xml", media_rss(albums))
    record = await sandbox.invoke(
        "feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums, "role": world.fans, "backfill": 2}
    )
    assert record.response_type == 5  # deferred: the fetch may take a while
    assert record.reply["flags"] & EPHEMERAL
    assert record.reply["content"] == (
        f"Now watching **Expedition 72 albums** (3 items) in <#{world.albums.id}>. New albums will be "
        f"announced there, pinging <@&{world.fans.id}>. Posting the latest 2 now."
    )
    posted = sandbox.channel_messages(world.albums)
    assert [m["embeds"][0]["title"] for m in posted] == ["Album 2", "Album 3"]  # oldest first
    assert all(m["content"] == f"<@&{world.fans.id}>" for m in posted)
    assert all(m["attachments"][0]["filename"] == "preview.jpg" for m in posted)

    again = await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    assert again.reply["content"] == (
        f"This feed is already watched in <#{world.albums.id}>. To change its channel, role, filters or "
        "message, use /feed edit."
    )
    assert len(sandbox.channel_messages(world.albums)) == 2


async def test_watch_defaults_to_this_channel_and_refuses_everyone_as_role(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    everyone = sandbox.role(world.guild, "@everyone")
    refused = await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "role": everyone})
    assert refused.reply["content"].startswith("@everyone can't be the role to ping.")
    record = await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml")}, channel=world.albums)
    assert f"in <#{world.albums.id}>." in record.reply["content"]


async def test_every_refusal_is_specific_polite_and_ephemeral(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    feeds.status("/forbidden.xml", 403)
    feeds.status("/down.xml", 503)
    feeds.raw("/page.html", HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    feeds.raw("/broken.xml", MALFORMED, {"Content-Type": "application/xml"})
    feeds.raw("/laughs.xml", BILLION_LAUGHS, {"Content-Type": "application/rss+xml"})
    feeds.endless("/huge.xml")
    feeds.raw("/bomb.xml", gzip_bomb(64), {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
    feeds.stall("/slow.xml", 5)
    feed_bot.net.total_timeout = 0.3
    feeds.redirect("/loop", feeds.url("/loop"), 302)
    cases = {
        "not a url": "That is not a valid feed address. Check it for typos; it should start with https://.",
        "ftp://files.example.org/feed.xml": "Only http:// and https:// feed addresses can be watched.",
        "https://photos.example.org/" + "a" * 2100: (
            "That is not a valid feed address. Check it for typos; it should start with https://."
        ),
        feeds.url("/missing.xml"): "There is no feed at that address (404 Not Found). Check it for typos.",
        feeds.url("/forbidden.xml"): (
            "The feed server refuses to give the feed to Cupola (403 Forbidden). Cupola cannot log in to feeds."
        ),
        feeds.url("/down.xml"): (
            "The feed server has a problem right now (503 Service Unavailable). Try again later."
        ),
        feeds.url("/page.html"): (  # it names /feed.xml, which is not there
            "That address is a web page; the feed it names could not be read. Try the feed's own "
            "address later, or ask the site about it."
        ),
        feeds.url("/broken.xml"): (
            "That feed's XML is broken, so no albums can be read from it. The publisher has to fix it."
        ),
        feeds.url("/laughs.xml"): (
            "That feed declares XML entities, which Cupola refuses because they can be used to attack it. "
            "Ask the publisher to remove them."
        ),
        feeds.url("/huge.xml"): "That feed is larger than Cupola's size limit, so it was not added.",
        feeds.url("/bomb.xml"): "That feed is larger than Cupola's size limit, so it was not added.",
        feeds.url("/slow.xml"): (
            "The feed server took too long to answer, so the feed was not added. Try again later."
        ),
        feeds.url("/loop"): (
            "That address redirects too many times. Open it in a browser and use the address it ends up at."
        ),
    }
    for url, expected in cases.items():
        record = await sandbox.invoke("feed watch", {"url": url, "channel": world.albums})
        assert record.reply["content"] == expected, url
        assert record.reply["flags"] & EPHEMERAL
    assert await feed_bot.db.run(feed_rows) == []
    chinese = await sandbox.invoke(
        "feed watch", {"url": feeds.url("/missing.xml"), "channel": world.albums}, locale="zh-CN"
    )
    assert chinese.reply["content"] == "该地址没有订阅源（404 Not Found）。请检查拼写。"


async def test_private_addresses_are_refused_with_the_guard_on(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, connect_log: list[str]
) -> None:
    """As in production, except that the test server's own address is allowed for the first hop."""
    guarded = SafeHttp(allowed_networks=["127.0.0.1/32"], connect_timeout=1, total_timeout=2)
    original, feed_bot.net = feed_bot.net, guarded
    try:
        feeds.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/", 302)
        feeds.redirect("/to-lan", "http://10.1.2.3/feed.xml", 301)
        private = (
            "That address leads to a private or local network, which Cupola never fetches from. "
            "Use the feed's public address."
        )
        for url in (feeds.url("/to-metadata"), feeds.url("/to-lan"), "http://192.168.1.1/feed.xml"):
            record = await sandbox.invoke("feed watch", {"url": url, "channel": world.albums})
            assert record.reply["content"] == private, url
        assert set(connect_log) == {"127.0.0.1"}  # never even a socket to the private address
        assert feeds.hits["/to-metadata"] == feeds.hits["/to-lan"] == 1
    finally:
        feed_bot.net = original
        await guarded.close()


async def test_members_can_look_but_not_change(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    for command, options in (
        ("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums}),
        ("feed unwatch", {"feed": "1"}),
        ("feed test", {"feed": feeds.url("/a.xml")}),
    ):
        refused = await sandbox.invoke(command, options, user=world.member)
        assert refused.reply["content"] == NOT_ADMIN, command
        assert refused.reply["flags"] & EPHEMERAL
    assert feeds.hits["/a.xml"] == 0
    assert await feed_bot.db.run(feed_rows) == []
    listing = await sandbox.invoke("feed list", user=world.member)
    assert listing.reply["embeds"][0]["description"] == (
        "This server watches no feeds yet. An admin can add one with /feed watch."
    )
    assert (await sandbox.invoke("feed status", user=world.member)).reply["embeds"][0][
        "title"
    ] == "Feed status"


async def test_list_status_unwatch_with_autocomplete(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
    feeds.feed("/b.xml", media_rss([Album(5)], title="Moon views"))
    await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/b.xml"), "channel": world.albums, "role": world.fans}
    )
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/b.xml"), "channel": world.other_albums}, guild=world.other
    )

    listing = (await sandbox.invoke("feed list")).reply["embeds"][0]
    assert listing["title"] == "Feeds watched in this server"
    assert [(f["name"], f["value"]) for f in listing["fields"]] == [
        ("Expedition 72 albums", f"{feeds.url('/a.xml')}\n<#{world.albums.id}> · 2 items · working"),
        (
            "Moon views",
            f"{feeds.url('/b.xml')}\n<#{world.albums.id}> (pings <@&{world.fans.id}>) · 1 items · working",
        ),
    ]

    choices = await sandbox.autocomplete("feed unwatch", {"feed": "moon"}, focused="feed")
    assert [c["name"] for c in choices] == ["Moon views · #albums"]  # this server's feeds only
    views = await feed_bot.db.run(store.guild_subscriptions, world.guild.id)
    status = (await sandbox.invoke("feed status", {"feed": choices[0]["value"]})).reply["embeds"][0]
    [field] = status["fields"]
    next_poll = int(views[1].next_poll_at.timestamp())
    assert field["name"] == "Moon views"
    assert field["value"] == (
        f"Announced in <#{world.albums.id}>\n"
        f"Last fetch: <t:{int(views[1].last_fetch_at.timestamp())}:f>, read successfully\n"
        f"Next poll: <t:{next_poll}:f> (<t:{next_poll}:R>)"
    )

    gone = await sandbox.invoke("feed unwatch", {"feed": choices[0]["value"]})
    assert gone.reply["content"] == f"Stopped watching **Moon views** in <#{world.albums.id}>."
    # Another server's subscription id is not this server's to remove.
    [theirs] = await feed_bot.db.run(store.guild_subscriptions, world.other.id)
    refused = await sandbox.invoke("feed unwatch", {"feed": str(theirs.id)})
    assert (
        refused.reply["content"]
        == "This server does not watch that feed. Pick one from the list, or see /feed list."
    )
    assert len(await feed_bot.db.run(store.guild_subscriptions, world.other.id)) == 1
    by_address = await sandbox.invoke("feed unwatch", {"feed": feeds.url("/a.xml")})
    assert by_address.reply["content"].startswith("Stopped watching **Expedition 72 albums**")
    assert [f.url for f in await feed_bot.db.run(feed_rows)] == [feeds.url("/b.xml")]


async def test_feed_test_previews_the_latest_album_only_for_the_admin(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    for i in range(4):
        feeds.image(f"/{i}.jpg", make_jpeg(500, 400, seed=i))
    newest = Album(7, title="Crew portrait", images=[feeds.url(f"/{i}.jpg") for i in range(4)])
    feeds.feed("/a.xml", media_rss([Album(6), newest]))
    record = await sandbox.invoke("feed test", {"feed": feeds.url("/a.xml")}, channel=world.albums)
    reply = record.reply
    assert reply["flags"] & EPHEMERAL
    assert reply["content"] == "Preview of the latest album of **Expedition 72 albums**, visible only to you:"
    assert reply["embeds"][0]["title"] == "Crew portrait"
    assert reply["embeds"][0]["image"]["url"] == "attachment://preview.jpg"
    assert sandbox.channel_messages(world.albums) == []
    assert await feed_bot.db.run(feed_rows) == []  # a preview subscribes nothing

    feeds.feed("/empty.xml", media_rss([], title="Nothing yet"))
    empty = await sandbox.invoke("feed test", {"feed": feeds.url("/empty.xml")})
    assert empty.reply["content"] == "**Nothing yet** has no entries yet, so there is nothing to preview."
