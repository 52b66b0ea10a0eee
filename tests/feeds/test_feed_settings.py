"""Issue 14 through the sandbox: albums grouped, filters, templates, /feed edit, discovery,
duplicates under a changed guid. Real feed servers on 127.0.0.1, the real bot, a controlled clock."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from PIL import Image

from bench.synthetic_images import make_jpeg
from bot import delivery
from bot.core import Cupola
from bot.feeds import store
from bot.feeds.parse import Entry
from bot.sandbox import Sandbox
from tests.feeds.feedserver import Album, FeedServer, media_rss
from tests.feeds.photofeeds import UPLOAD, Item, image_of_the_day, photostream, rss
from tests.support.helpers import Clock, World, albums_in, poller

HOUR = 3600
EPHEMERAL = 64


def fields_of(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields", [])}


async def subscription(bot: Cupola, world: World) -> store.SubscriptionView:
    [view] = await bot.db.run(store.guild_subscriptions, world.guild.id)
    return view


def serve_photos(feeds: FeedServer, count: int) -> list[str]:
    urls = []
    for n in range(1, count + 1):
        feeds.image(f"/photo/{n}.jpg", make_jpeg(320, 240, seed=n))
        urls.append(feeds.url(f"/photo/{n}.jpg"))
    return urls


# --------------------------------------------------------------------------------------------- albums


async def test_a_30_photo_upload_is_one_announcement_with_its_count_and_a_collage(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    older = photostream(3, start=100, at=UPLOAD - timedelta(days=2), stem="iss071e0")
    feeds.feed("/stream.xml", rss(older))
    await sandbox.invoke("feed watch", {"url": feeds.url("/stream.xml"), "channel": world.albums})
    urls = serve_photos(feeds, 30)
    upload = photostream(30)
    for item, url in zip(upload, urls, strict=True):
        item.photos = [url]
    feeds.feed("/stream.xml", rss(older + upload))
    clock.advance(2 * HOUR)
    report = await poller(feed_bot).run_once()
    assert (report.new_entries, report.posted) == (30, 1)  # was: 10 posts, 20 silently dropped

    [message] = albums_in(sandbox, world.albums)
    embed = message["embeds"][0]
    assert embed["title"] == "iss072e"
    assert embed["url"] == "https://www.flickr.com/photos/nasa2explore/5401/"
    assert fields_of(message)["Photos"] == "30 photos"
    assert fields_of(message)["Credit"] == "NASA/Matthew Dominick"
    assert embed["image"]["url"] == "attachment://preview.jpg"
    [attachment] = message["attachments"]
    collage = Image.open(io.BytesIO(sandbox.files[int(attachment["id"])].data))
    assert collage.format == "JPEG" and min(collage.size) >= 512  # a collage, not one 320×240 photo
    fetched = {n for n in range(1, 31) if feeds.hits[f"/photo/{n}.jpg"]}
    assert {1, 2, 3, 4} <= fetched and fetched <= set(range(1, 7))  # at most six tried, four shown

    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    assert len(albums_in(sandbox, world.albums)) == 1


async def test_an_upload_read_half_way_is_announced_then_continued(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/stream.xml", rss([]))
    await sandbox.invoke("feed watch", {"url": feeds.url("/stream.xml"), "channel": world.albums})
    upload = photostream(30)
    feeds.feed("/stream.xml", rss(upload[:10]))
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    feeds.feed("/stream.xml", rss(upload))
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    first, rest = albums_in(sandbox, world.albums)
    assert (first["embeds"][0]["title"], fields_of(first)["Photos"]) == ("iss072e", "10 photos")
    assert (rest["embeds"][0]["title"], fields_of(rest)["Photos"]) == (
        "iss072e",
        "20 more photos of this upload",
    )
    # A later upload with the same stem, an hour on, is an album of its own.
    later = photostream(3, start=40, at=UPLOAD + timedelta(hours=1))
    feeds.feed("/stream.xml", rss(upload + later))
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    assert fields_of(albums_in(sandbox, world.albums)[-1])["Photos"] == "3 photos"


async def test_a_single_item_album_and_an_image_of_the_day_feed(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    urls = serve_photos(feeds, 5)
    feeds.feed("/album.xml", rss([], title="Spacewalks"))
    feeds.feed("/iotd.xml", rss(image_of_the_day(1, urls[0]), title="Image of the Day"))
    await sandbox.invoke("feed watch", {"url": feeds.url("/album.xml"), "channel": world.albums})
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/iotd.xml"), "channel": world.other_albums}, guild=world.other
    )
    spacewalk = Item("eva-1", "Expedition 72 spacewalk", "https://images.nasa.gov/eva", UPLOAD, photos=urls)
    feeds.feed("/album.xml", rss([spacewalk], title="Spacewalks"))
    feeds.feed("/iotd.xml", rss(image_of_the_day(4, urls[1]), title="Image of the Day"))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 4

    [album] = albums_in(sandbox, world.albums)
    assert album["embeds"][0]["title"] == "Expedition 72 spacewalk"
    assert fields_of(album)["Photos"] == "5 photos"
    days = albums_in(sandbox, world.other_albums)
    assert [m["embeds"][0]["title"] for m in days] == [
        "Image of the Day 02",
        "Image of the Day 03",
        "Image of the Day 04",
    ]
    assert all("Photos" not in fields_of(m) for m in days)  # one picture each: no count shown


async def test_more_albums_than_one_update_can_post_are_summarised(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    feeds.feed("/a.xml", media_rss([Album(n) for n in range(1, 15)]))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 11
    summary, *full = albums_in(sandbox, world.albums)
    assert [m["embeds"][0]["title"] for m in full] == [f"Album {n}" for n in range(5, 15)]
    assert summary["embeds"][0]["title"] == "3 more new albums in Expedition 72 albums"
    assert summary["embeds"][0]["description"] == "\n".join(
        f"• [Album {n}](https://photos.example.org/album/{n}) (1 photos)" for n in (4, 3, 2)
    )


# --------------------------------------------------------------------------------------------- filters


AGENCY = [
    Album(1, title="ISS reboost burn"),
    Album(2, title="Artemis II crew at the ISS mock-up"),
    Album(3, title="Mars sample return"),
    Album(4, title="Crew-10 launch"),
    Album(5, title="Sunrise", description="Seen from the Expedition 72 cupola."),
    Album(6, title="Soyuz MS-27 landing"),
]


async def test_a_filter_keeps_only_the_matching_items_and_feed_test_explains(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.feed("/agency.xml", media_rss([Album(0)], title="Agency news"))
    await sandbox.invoke("feed watch", {"url": feeds.url("/agency.xml"), "channel": world.albums})
    view = await subscription(feed_bot, world)
    reply = await sandbox.invoke(
        "feed filter", {"feed": str(view.id), "include": "iss, Crew-, expédition", "exclude": "Artemis"}
    )
    assert reply.reply["flags"] & EPHEMERAL
    embed = reply.reply["embeds"][0]
    assert embed["description"] == (
        "Updated **Agency news**: include words, exclude words. Entries already seen stay seen, so "
        "nothing is announced again."
    )
    assert "Only items with: “iss”, “Crew-”, “expédition”" in embed["fields"][0]["value"]
    assert "Never items with: “Artemis”" in embed["fields"][0]["value"]

    feeds.feed("/agency.xml", media_rss([Album(0), *AGENCY], title="Agency news"))
    test = await sandbox.invoke("feed test", {"feed": str(view.id)})
    report = test.reply["embeds"][-1]
    assert report["title"] == "Latest items and this feed's filters"
    assert report["description"].split("\n")[:6] == [
        "❌ Soyuz MS-27 landing: none of the include words found",
        "✅ Sunrise: “expédition” found in the description",
        "✅ Crew-10 launch: “Crew-” found in the title",
        "❌ Mars sample return: none of the include words found",
        "❌ Artemis II crew at the ISS mock-up: excluded: “Artemis” found in the title",
        "✅ ISS reboost burn: “iss” found in the title",
    ]
    assert test.reply["embeds"][0]["title"] == "Sunrise"  # the newest album that passes

    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).new_entries == 6
    assert [m["embeds"][0]["title"] for m in albums_in(sandbox, world.albums)] == [
        "ISS reboost burn",
        "Crew-10 launch",
        "Sunrise",
    ]
    status = (await sandbox.invoke("feed status", locale="zh-CN")).reply["embeds"][0]["fields"][0]["value"]
    assert "只发布包含以下词的条目：“iss”, “Crew-”, “expédition”" in status
    assert "不发布包含以下词的条目：“Artemis”" in status

    cleared = await sandbox.invoke("feed filter", {"feed": str(view.id), "clear": True})
    assert "Only items with" not in cleared.reply["embeds"][0]["fields"][0]["value"]
    refused = await sandbox.invoke(
        "feed filter", {"feed": str(view.id), "include": ",".join(f"w{n}" for n in range(26))}
    )
    assert refused.reply["content"] == (
        "That is 26 include words; at most 25 are allowed. Separate words and phrases with commas."
    )


# --------------------------------------------------------------------------------------------- templates


async def test_a_template_renders_as_previewed_and_pings_only_the_chosen_role(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    urls = serve_photos(feeds, 2)
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await sandbox.invoke(
        "feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums, "role": world.fans}
    )
    view = await subscription(feed_bot, world)
    loud = Album(2, title="@everyone <@&1234567890123456789> new", credit="ESA/@here", images=urls)
    feeds.feed("/a.xml", media_rss([Album(1), loud]))

    set_ = await sandbox.invoke(
        "feed template",
        {
            "feed": str(view.id),
            "text": "{role} New: **{title}** ({count} photos) @everyone {link}",
            "title": "📷 {title:20}",
            "footer": "Credit: {credit} · {feed}",
            "image": "single",
            "details": False,
        },
    )
    embed = set_.reply["embeds"][0]
    assert "message template" in embed["description"]
    assert "The template was checked against the latest album, “@\u200beveryone" in embed["description"]
    assert "Message: message text “{role} New:" in embed["fields"][0]["value"]
    preview = (await sandbox.invoke("feed test", {"feed": str(view.id)})).reply

    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 1
    [posted] = albums_in(sandbox, world.albums)
    content = (
        f"<@&{world.fans.id}> New: **@\u200beveryone <@\u200b&1234567890123456789> new** (2 photos) "
        "@everyone https://photos.example.org/album/2"
    )
    assert posted["content"] == content
    assert preview["content"].endswith("\n" + content)  # the preview shows the same text
    assert preview["allowed_mentions"] == {"parse": []}  # and pings nobody
    assert posted["allowed_mentions"] == {"parse": [], "roles": [world.fans.id]}
    for key in ("title", "description", "footer", "url"):
        assert posted["embeds"][0].get(key) == preview["embeds"][0].get(key), key
    assert posted["embeds"][0]["title"] == "📷 @\u200beveryone <@\u200b&1234…"  # 20 characters
    assert posted["embeds"][0]["footer"]["text"] == "Credit: ESA/@\u200bhere · Expedition 72 albums"
    assert "fields" not in posted["embeds"][0] or posted["embeds"][0]["fields"] == []
    image = Image.open(io.BytesIO(sandbox.files[int(posted["attachments"][0]["id"])].data))
    assert image.size == (320, 240)  # "single": the first photo, not a collage


async def test_bad_templates_are_refused_with_the_reason(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    feeds.feed("/a.xml", media_rss([Album(1, description="word " * 500)]))
    await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    view = await subscription(feed_bot, world)
    unknown = await sandbox.invoke("feed template", {"feed": str(view.id), "text": "{titel} {link}"})
    assert unknown.reply["content"] == (
        "The message text template uses {titel}, which is not a placeholder. Known placeholders: {title} {link} "
        "{description} {credit} {count} {items} {date} {feed} {role} {categories}"
    )
    assert unknown.reply["flags"] & EPHEMERAL
    too_long = await sandbox.invoke(
        "feed edit", {"feed": str(view.id), "text": "{description} {description}"}
    )
    assert too_long.reply["content"] == (
        "With the latest album, the message text would be 4999 characters; Discord allows 2000. Shorten the "
        "template, or cut a value with a length such as {description:500}."
    )
    brace = await sandbox.invoke("feed template", {"feed": str(view.id), "title": "{title"}, locale="zh-CN")
    assert (
        brace.reply["content"]
        == "嵌入标题模板在第 1 个字符处有一个单独的花括号。要显示花括号本身，请写 {{ 或 }}。"
    )
    assert (await subscription(feed_bot, world)).template.is_default  # nothing was saved
    many = await sandbox.invoke(
        "feed filter", {"feed": str(view.id), "exclude": ",".join(f"w{n}" for n in range(30))}, locale="zh-CN"
    )
    assert many.reply["content"] == "排除词共有 30 个，最多允许 25 个。请用逗号分隔词和短语。"


# --------------------------------------------------------------------------------------------- edit


async def test_feed_edit_moves_the_channel_and_pauses_without_reannouncing(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    elsewhere = sandbox.default_channel(world.guild)
    feeds.feed("/a.xml", media_rss([Album(1), Album(2)]))
    await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums, "backfill": 1})
    assert len(albums_in(sandbox, world.albums)) == 1
    view = await subscription(feed_bot, world)

    moved = await sandbox.invoke(
        "feed edit", {"feed": str(view.id), "channel": elsewhere, "role": world.fans}
    )
    assert moved.reply["embeds"][0]["description"].startswith(
        "Updated **Expedition 72 albums**: channel, role."
    )
    assert (await subscription(feed_bot, world)).channel_id == elsewhere.id
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    assert albums_in(sandbox, elsewhere) == []  # nothing seen is announced again

    feeds.feed("/a.xml", media_rss([Album(1), Album(2), Album(3)]))
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    [three] = albums_in(sandbox, elsewhere)
    assert (three["embeds"][0]["title"], three["content"]) == ("Album 3", f"<@&{world.fans.id}>")
    assert len(albums_in(sandbox, world.albums)) == 1

    paused = await sandbox.invoke("feed edit", {"feed": str(view.id), "paused": True, "no_role": True})
    assert "Paused by an admin" in paused.reply["embeds"][0]["fields"][0]["value"]
    listing = (await sandbox.invoke("feed list")).reply["embeds"][0]["fields"][0]["value"]
    assert listing.endswith("paused by an admin")
    feeds.feed("/a.xml", media_rss([Album(n) for n in range(1, 5)]))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).claimed == 1  # still read: what it holds stays seen
    await sandbox.invoke("feed edit", {"feed": str(view.id), "paused": False})
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    assert len(albums_in(sandbox, elsewhere)) == 1  # album 4 came while paused: not news afterwards
    feeds.feed("/a.xml", media_rss([Album(n) for n in range(1, 6)]))
    clock.advance(2 * HOUR)
    await poller(feed_bot).run_once()
    five = albums_in(sandbox, elsewhere)[-1]
    assert (five["embeds"][0]["title"], five["content"]) == ("Album 5", "")  # no_role: nobody pinged

    await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    taken = await sandbox.invoke("feed edit", {"feed": str(view.id), "channel": world.albums})
    assert taken.reply["content"] == (
        f"This feed is already watched in <#{world.albums.id}>. Pick another channel, or remove that "
        "subscription first."
    )
    nothing = await sandbox.invoke("feed edit", {"feed": str(view.id)}, locale="zh-CN")
    assert (
        nothing.reply["embeds"][0]["description"]
        == "**Expedition 72 albums** 没有需要修改的内容：请至少填写一个选项。"
    )
    everyone = await sandbox.invoke(
        "feed edit", {"feed": str(view.id), "role": sandbox.role(world.guild, "@everyone")}
    )
    assert everyone.reply["content"] == (
        "@everyone can't be the role to ping. Pick a role people chose to join, or set no_role."
    )
    member = await sandbox.invoke("feed edit", {"feed": str(view.id), "paused": True}, user=world.member)
    assert member.reply["content"] == "Only server admins (Manage Server permission) can use this command."


# --------------------------------------------------------------------------------------------- discovery


PAGE = b"""<!doctype html><html><head><title>Flyarounds</title>
<link rel="alternate" type="application/rss+xml" title="Flyaround albums" href="/albums/feed.xml">
</head><body><h1>Flyarounds</h1></body></html>"""


async def test_a_web_page_is_watched_through_its_discovered_feed(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    feeds.raw("/flyarounds", PAGE, {"Content-Type": "text/html; charset=utf-8"})
    feeds.feed("/albums/feed.xml", media_rss([Album(1)], title="Flyaround albums"))
    record = await sandbox.invoke("feed watch", {"url": feeds.url("/flyarounds"), "channel": world.albums})
    assert record.reply["content"] == (
        f"<{feeds.url('/flyarounds')}> is a web page; Cupola found its feed at <{feeds.url('/albums/feed.xml')}>. "
        f"Now watching **Flyaround albums** (1 items) in <#{world.albums.id}>. New albums will be announced there."
    )
    assert (await subscription(feed_bot, world)).url == feeds.url("/albums/feed.xml")
    feeds.feed("/albums/feed.xml", media_rss([Album(1), Album(2)], title="Flyaround albums"))
    clock.advance(2 * HOUR)
    assert (await poller(feed_bot).run_once()).posted == 1
    assert feeds.hits["/flyarounds"] == 1  # polled at the feed's own address

    # A page naming several feeds offers them; a page naming none is searched at common paths.
    feeds.feed("/news.xml", media_rss([Album(1)], title="News"))
    several = PAGE.replace(
        b"</head>", b'<link rel="alternate" type="application/atom+xml" href="/news.xml"></head>'
    )
    feeds.raw("/both", several, {"Content-Type": "text/html"})
    offered = await sandbox.invoke(
        "feed watch", {"url": feeds.url("/both"), "channel": world.other_albums}, guild=world.other
    )
    assert offered.reply["content"] == (
        "That address is a web page naming 2 feeds. Watch the one you want by its address:\n"
        f"- Flyaround albums: {feeds.url('/albums/feed.xml')}\n- News: {feeds.url('/news.xml')}"
    )
    feeds.raw("/home", b"<html><body>Welcome</body></html>", {"Content-Type": "text/html"})
    feeds.feed("/rss.xml", media_rss([Album(1)], title="Site feed"))
    found = await sandbox.invoke("feed test", {"feed": feeds.url("/home")})
    assert found.reply["content"].startswith(
        f"Preview of the latest album of **Site feed**, visible only to you: (found on the web page <{feeds.url('/home')}>)"
    )

    feeds.image("/photo.jpg", make_jpeg(200, 100))
    feeds.raw("/data.json", b'{"items": []}', {"Content-Type": "application/json"})
    for path, expected in (
        ("/photo.jpg", "That address is an image, not a feed. Use the address of the feed itself."),
        (
            "/data.json",
            "That address returns a JSON document, not an RSS or Atom feed (JSON Feed is not supported).",
        ),
    ):
        refused = await sandbox.invoke("feed watch", {"url": feeds.url(path), "channel": world.albums})
        assert refused.reply["content"] == expected
    chinese = await sandbox.invoke(
        "feed watch", {"url": feeds.url("/photo.jpg"), "channel": world.albums}, locale="zh-CN"
    )
    assert chinese.reply["content"] == "该地址是一张图片，不是订阅源。请使用订阅源本身的地址。"


# --------------------------------------------------------------------------------------------- duplicates


def _feed(items: list[Item]) -> bytes:
    return rss(items, title="Crew photos")


async def test_a_reguided_item_is_not_announced_again(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    first = Item(
        "guid-1",
        "Crew portrait",
        "https://p.example/1",
        UPLOAD,
        "The crew of Expedition 72.",
        photos=["https://p.example/1.jpg"],
    )
    feeds.feed("/c.xml", _feed([first]))
    await sandbox.invoke("feed watch", {"url": feeds.url("/c.xml"), "channel": world.albums})

    async def round_with(items: list[Item]) -> int:
        feeds.feed("/c.xml", _feed(items))
        clock.advance(2 * HOUR)
        return (await poller(feed_bot).run_once()).posted

    reguided = Item(
        "guid-1-v2", first.title, first.link, first.published, first.description, photos=first.photos
    )
    assert await round_with([reguided]) == 0  # a new guid, same link: seen
    relinked = Item(
        "guid-1-v3",
        first.title,
        "https://p.example/photos/1",
        first.published,
        first.description,
        photos=first.photos,
    )
    assert await round_with([relinked]) == 0  # new guid and link, same content: seen
    edited = Item(
        "guid-1-v3",
        "Crew portrait (retouched)",
        relinked.link,
        first.published,
        "Edited.",
        photos=first.photos,
    )
    assert await round_with([edited]) == 0  # a real edit of a seen item is not news
    # Photos sharing an album link are still news when a new one is added to the album.
    album = "https://p.example/album/eva"
    eva = [
        Item(
            f"eva-{n}",
            f"EVA {n}",
            album,
            UPLOAD + timedelta(hours=n),
            photos=[f"https://p.example/eva{n}.jpg"],
        )
        for n in (1, 2)
    ]
    assert await round_with([edited, *eva]) == 1
    eva.append(
        Item("eva-3", "EVA 3", album, UPLOAD + timedelta(hours=3), photos=["https://p.example/eva3.jpg"])
    )
    assert await round_with([edited, *eva]) == 1
    # A feed listing only its latest items: the oldest photo leaves as a new one arrives.
    eva4 = Item("eva-4", "EVA 4", album, UPLOAD + timedelta(hours=4), photos=["https://p.example/eva4.jpg"])
    assert await round_with([edited, eva[1], eva[2], eva4]) == 1
    titles = [m["embeds"][0]["title"] for m in albums_in(sandbox, world.albums)]
    assert titles == ["EVA", "EVA 3", "EVA 4"]  # the two-photo album by its title stem, then each new photo


async def test_a_post_queued_before_the_upgrade_is_still_posted(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World, clock: Clock
) -> None:
    """Deliveries queued by the previous version carry one entry, not an album."""
    feeds.feed("/a.xml", media_rss([Album(1)]))
    await sandbox.invoke("feed watch", {"url": feeds.url("/a.xml"), "channel": world.albums})
    view = await subscription(feed_bot, world)
    old = Entry(
        "id:old", "Queued before", "https://p.example/old", None, "Text", "NASA", ("https://p.example/o.jpg",)
    )

    def queue(*, session: Any) -> bool:
        payload = {
            "feed_id": view.feed_id,
            "feed_title": "Old",
            "role_id": None,
            "entry": store.entry_payload(old),
        }
        key = store.delivery_key(view.feed_id, world.albums.id, old.key)
        return delivery.enqueue(
            store.ALBUM,
            key,
            channel_id=world.albums.id,
            guild_id=world.guild.id,
            payload=payload,
            session=session,
        )

    assert await feed_bot.db.run(queue)
    assert (await poller(feed_bot).run_once()).posted == 1
    [message] = albums_in(sandbox, world.albums)
    assert (message["embeds"][0]["title"], fields_of(message)["Credit"]) == ("Queued before", "NASA")
