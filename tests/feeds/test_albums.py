"""Album grouping, filters, templates, document sniffing and feed discovery, without Discord."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.synthetic_images import make_jpeg
from bot.errors import UserFacingError
from bot.feeds.albums import STREAM_WINDOW, Album, group_entries, title_stem
from bot.feeds.filters import EntryFilter, fold, parse_terms
from bot.feeds.parse import FeedError, discover_feed_links, parse_feed, sniff_document
from bot.feeds.template import Template, TemplateError, fill, parse, values_for
from tests.feeds.photofeeds import UPLOAD, Item, image_of_the_day, photostream, rss


def entries(items: list[Item], **kwargs: str) -> list:
    return list(parse_feed(rss(items, **kwargs)).entries)


# --------------------------------------------------------------------------------------------- grouping


def test_a_30_photo_upload_is_one_album_of_30() -> None:
    [album] = group_entries(entries(photostream(30)), feed_link="https://www.flickr.com/photos/nasa2explore/")
    assert (album.rule, album.photo_count, album.entry_count) == ("stream", 30, 30)
    assert album.title == "iss072e"
    assert album.credits == ("NASA/Matthew Dominick",)
    assert album.link == "https://www.flickr.com/photos/nasa2explore/5401/"  # the first photo
    # The collage candidates are the photos themselves (not their thumbnails), oldest first.
    assert album.images[:4] == tuple(
        f"https://live.staticflickr.com/65535/{5400 + n}_b.jpg" for n in (1, 2, 3, 4)
    )
    assert album.published == UPLOAD + timedelta(seconds=20 * 29)
    assert Album.from_payload(album.to_payload()) == album


def test_two_uploads_an_hour_apart_are_two_albums_and_the_window_is_between_photos() -> None:
    first = photostream(5)
    second = photostream(5, start=6, at=UPLOAD + timedelta(hours=1))
    albums = group_entries(entries(first + second))
    assert [(a.photo_count, a.title) for a in albums] == [(5, "iss072e"), (5, "iss072e")]
    # A slow upload stays one album as long as no gap exceeds the window.
    slow = photostream(3)
    for n, item in enumerate(slow):
        item.published = UPLOAD + n * (STREAM_WINDOW - timedelta(seconds=1))
    assert [a.photo_count for a in group_entries(entries(slow))] == [3]


def test_a_single_item_album_with_a_media_group_counts_its_photos() -> None:
    item = Item(
        "album-9",
        "Expedition 72 spacewalk",
        "https://images.nasa.gov/album/expedition72-eva",
        UPLOAD,
        description="Twelve views of the spacewalk.",
        photos=[f"https://images.nasa.gov/eva/{n}.jpg" for n in range(12)],
        thumbnail="https://images.nasa.gov/eva/t.jpg",
    )
    [album] = group_entries(entries([item]))
    assert (album.rule, album.photo_count, album.entry_count) == ("single", 12, 1)
    assert album.title == "Expedition 72 spacewalk"
    assert album.key == "id:album-9"


def test_image_of_the_day_items_stay_apart_although_their_titles_share_a_stem() -> None:
    albums = group_entries(entries(image_of_the_day(5)))
    assert [a.title for a in albums] == [f"Image of the Day {day:02d}" for day in range(1, 6)]
    assert {a.photo_count for a in albums} == {1}


def test_items_sharing_an_album_link_are_one_album_but_not_the_feeds_home_page() -> None:
    link = "https://photos.example.org/album/crew-9"
    items = [
        Item(
            f"p{n}",
            f"Portrait {chr(65 + n)}",
            link,
            UPLOAD + timedelta(hours=n),
            photos=[f"https://i/{n}.jpg"],
        )
        for n in range(3)
    ]
    [album] = group_entries(entries(items))
    assert (album.rule, album.photo_count, album.link) == ("link", 3, link)
    home = "https://photos.example.org/"
    careless = [Item(f"c{n}", f"News {chr(65 + n)}", home, UPLOAD + timedelta(hours=n)) for n in range(3)]
    assert len(group_entries(entries(careless, link=home), feed_link=home)) == 3


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        ("Expedition 72 flyaround (3 of 30)", "Expedition 72 flyaround"),
        ("iss072e012345", "iss072e"),
        ("IMG_0042.jpg", "IMG"),
        ("Crew-9 docking 3/30", "Crew-9 docking"),
        ("国际空间站 第3张", "国际空间站"),
        ("Nile delta at night", "Nile delta at night"),
    ],
)
def test_title_stems(title: str, stem: str) -> None:
    assert title_stem(title) == stem


# --------------------------------------------------------------------------------------------- filters


def item(title: str, description: str = "", categories: tuple[str, ...] = ()) -> object:
    [entry] = entries(
        [Item("g", title, "https://x/1", UPLOAD, description=description, categories=list(categories))]
    )
    return entry


def test_filters_are_case_and_accent_insensitive_whole_words_and_chinese() -> None:
    only_iss = EntryFilter(include=("ISS", "Expedition", "Crew-", "空间站"))
    cases = {
        "The iss at dawn": ("included", "ISS", "title"),
        "A mission to Mars": ("no_match", None, None),  # "iss" inside a word is not ISS
        "EXPÉDITION 72 views": ("included", "Expedition", "title"),
        "Crew-9 returns": ("included", "Crew-", "title"),
        "中国空间站的夜景": ("included", "空间站", "title"),
        "Ｉｓｓ in full-width letters": ("included", "ISS", "title"),
    }
    for title, (reason, term, where) in cases.items():
        verdict = only_iss.check(item(title))
        assert (verdict.reason, verdict.term, verdict.where) == (reason, term, where), title
        assert verdict.passed == (reason == "included")
    in_text = only_iss.check(item("Aurora", description="Seen from the   International Space Station, ISS"))
    assert (in_text.reason, in_text.where) == ("included", "description")
    in_tags = only_iss.check(item("Aurora", categories=("Expedition 72",)))
    assert (in_tags.reason, in_tags.where) == ("included", "categories")


def test_exclude_wins_and_phrases_match_across_whitespace() -> None:
    rule = EntryFilter(include=("ISS",), exclude=("space walk", "测试"))
    assert rule.check(item("ISS space  walk preparation")).reason == "excluded"
    assert rule.check(item("ISS spacewalk")).passed  # a phrase is words in order, not a substring
    assert rule.check(item("ISS 测试图片")).term == "测试"
    assert EntryFilter().check(item("anything")).reason == "no_filter"
    assert EntryFilter(exclude=("moon",)).check(item("Earth")).reason == "not_excluded"


def test_parse_terms_splits_on_commas_in_both_languages_and_refuses_abuse() -> None:
    assert parse_terms(' ISS, "Crew-"，空间站、Expedition 72 ; iss ') == (
        "ISS",
        "Crew-",
        "空间站",
        "Expedition 72",
    )
    assert parse_terms("") == ()
    with pytest.raises(UserFacingError) as info:
        parse_terms(",".join(f"w{n}" for n in range(30)))
    assert info.value.key == "feeds.filter.too_many"
    with pytest.raises(UserFacingError) as info:
        parse_terms("x" * 101)
    assert info.value.key == "feeds.filter.too_long"
    assert fold("Ｐéſquet") == "pesquet"


# --------------------------------------------------------------------------------------------- templates


def test_templates_fill_placeholders_with_escaped_values_and_cut_lengths() -> None:
    [album] = group_entries(entries(photostream(30)))
    values = values_for(album, feed_title="NASA *Johnson*", role_id=42)
    pieces = parse("{role} {{new}} {title}: {count} photos by {credit} — {description:20} {feed} {date}")
    text = fill(pieces, values)
    assert text.startswith("<@&42> {new} iss072e: 30 photos by NASA/Matthew Dominick — The International S… ")
    assert "NASA \\*Johnson" in text  # feed text shown literally, not in italics
    assert text.endswith(f"<t:{int(album.published.timestamp())}:D>")


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("{titel}", "feeds.template.unknown"),
        ("{title.__class__}", "feeds.template.unknown"),
        ("{title!r}", "feeds.template.unknown"),
        ("price: {", "feeds.template.brace"),
        ("a } b", "feeds.template.brace"),
        ("{description:0}", "feeds.template.zero"),
        ("x" * 1501, "feeds.template.too_long"),
    ],
)
def test_bad_templates_are_refused_naming_the_problem(source: str, key: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse(source)
    assert info.value.key == key
    if key == "feeds.template.unknown":
        assert info.value.params["known"].startswith("{title} {link} {description}")


def test_template_round_trip_and_reset() -> None:
    template = Template().with_changes(content="{title} {link}", image="single", details=False)
    assert Template.load(template.dump()) == template
    assert template.with_changes(content="").content is None
    assert Template().dump() is None and Template.load("not json") == Template()
    with pytest.raises(TemplateError):
        Template().with_changes(image="gif")


# --------------------------------------------------------------------------------------------- documents


def test_non_feeds_are_named_for_what_they_are() -> None:
    jpeg = make_jpeg(64, 48)
    assert sniff_document(jpeg, "image/jpeg") == ("image", "JPEG")
    assert sniff_document(jpeg, "application/rss+xml") == ("image", "JPEG")  # mislabelled
    assert sniff_document(b'{"version": "https://jsonfeed.org/version/1.1"}', "application/feed+json") == (
        "json",
        "JSON",
    )
    assert sniff_document(b"%PDF-1.7 ...", "") == ("pdf", "PDF")
    assert sniff_document(rss([]), "application/rss+xml") is None
    for data, code in ((jpeg, "image"), (b"[1, 2]", "json"), (b"%PDF-1.4", "pdf")):
        with pytest.raises(FeedError) as info:
            parse_feed(data)
        assert info.value.code == code


def test_discovery_reads_alternate_links_in_page_order() -> None:
    page = b"""<!doctype html><html><head><base href="https://www.nasa.gov/news/">
    <link rel="stylesheet" href="/s.css">
    <link rel="alternate" type="application/rss+xml" title="Image of the Day" href="iotd/feed/">
    <link rel="Alternate" type="application/atom+xml" href="https://www.nasa.gov/atom.xml">
    <link rel="alternate" type="application/rss+xml" href="iotd/feed/">
    <link rel="alternate" hreflang="fr" href="/fr/">
    </head><body></body></html>"""
    links = discover_feed_links(page, "https://www.nasa.gov/")
    assert [(link.url, link.title) for link in links] == [
        ("https://www.nasa.gov/news/iotd/feed/", "Image of the Day"),
        ("https://www.nasa.gov/atom.xml", None),
    ]
    assert discover_feed_links(b"<html><body>no feeds</body></html>", "https://x.example/") == []


def test_feed_test_reply_warns_about_overlong_parts_and_says_when_nothing_passes() -> None:
    from bot.feeds.service import FeedTest
    from bot.feeds.store import SubscriptionView
    from bot.feeds.template import overlong
    from bot.render.feeds import trial_reply

    [album] = group_entries(entries([Item("g", "Long", "https://x/1", UPLOAD, description="word " * 900)]))
    template = Template().with_changes(content="{description}")
    problems = overlong(template, values_for(album, feed_title="F", role_id=None))
    assert problems == [("content", 4095, 2000)]  # the description is cut at 4096 when parsed
    view = SubscriptionView(
        1,
        1,
        1,
        10,
        None,
        "https://x/feed",
        "F",
        False,
        None,
        None,
        None,
        None,
        UPLOAD,
        1,
        0,
        exclude=("long",),
    )
    reply = trial_reply(FeedTest("F", "https://x/feed", view, [], album, None, template, problems))
    assert (
        "With this album the message text is 4095 characters, over Discord's 2000; it will be shortened when posted."
        in reply["content"]
    )
    assert len(reply["content"]) == 2000  # the text as posted follows, cut to what is left
    assert sum(len(e) for e in reply["embeds"]) <= 6000
    assert reply["allowed_mentions"].to_dict() == {"parse": []}
    nothing = trial_reply(FeedTest("F", "https://x/feed", view, [], None), "zh")
    assert nothing["content"].endswith("最新的条目都没有通过此订阅源的过滤词，因此现在不会发布任何内容。")
