"""parse_feed: formats, Media RSS, HTML clean-up, de-duplication keys, and refusals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from bench.synthetic_feeds import make_feed
from bot.feeds.parse import (
    FeedError,
    check_no_entities,
    entry_key,
    html_to_text,
    parse_feed,
    parse_feed_async,
    trim,
)
from tests.feeds.samples import (
    ATOM,
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    HTML_PAGE,
    INTERNAL_SUBSET_NO_ENTITY,
    LOWERCASE_ENTITY,
    MALFORMED,
    NOT_XML,
    PARAMETER_ENTITY,
    QUADRATIC_BLOWUP,
    RSS091_WITH_PUBLIC_DOCTYPE,
    RSS1_RDF,
    RSS2_MEDIA,
    rss,
    utf16,
)

# --------------------------------------------------------------------------------------------- formats


def test_rss2_media_rss() -> None:
    feed = parse_feed(RSS2_MEDIA, headers={"Content-Type": "application/rss+xml"})
    assert feed.format == "rss20"
    assert feed.title == "Expedition 72 album"
    assert feed.link == "https://photos.example.org/album/72"
    first, group, bare = feed.entries

    assert first.key == "id:photo-1"
    assert first.title == "ISS flyaround & docking"
    assert first.link == "https://photos.example.org/p/1"
    assert first.published == datetime(2025, 6, 3, 12, 0, tzinfo=UTC)
    assert first.credit == "NASA/Bob Behnken"  # media:credit wins over dc:creator
    assert first.images == (
        "https://img.example.org/1_b.jpg",  # media:content (the video is skipped)
        "https://img.example.org/1_t.jpg",  # thumbnail
        "https://img.example.org/1_e.png",  # image enclosure (the jpg one is a duplicate, mp3 skipped)
        "https://img.example.org/inline.jpg",  # <img> in the description
    )
    assert first.thumbnail == "https://img.example.org/1_t.jpg"

    assert group.key == "link:https://photos.example.org/p/2"
    assert group.credit == "ESA/Samantha"
    assert group.images == (
        "https://img.example.org/2a.jpg",
        "https://img.example.org/2b.png",
        "https://img.example.org/2_t.jpg",
    )
    assert group.published == datetime(2025, 6, 2, 8, 30, tzinfo=UTC)

    assert bare.key.startswith("hash:")
    assert bare.link is None
    assert bare.credit is None
    assert bare.published == datetime(2025, 6, 1, 20, 0, tzinfo=UTC)  # +0200 converted to UTC


def test_relative_image_urls_resolve_against_base_url() -> None:
    feed = parse_feed(RSS2_MEDIA, base_url="https://photos.example.org/album/72")
    assert feed.entries[2].images == ("https://photos.example.org/relative/night.jpg",)
    assert parse_feed(RSS2_MEDIA).entries[2].images == ()  # relative and no base: dropped


def test_rss1_rdf() -> None:
    feed = parse_feed(RSS1_RDF)
    assert feed.format == "rss10"
    assert feed.title == "Space RDF"
    (entry,) = feed.entries
    assert entry.key == "id:https://space.example.org/a"
    assert entry.title == "Starliner update"
    assert entry.description_text == "Crew safe and well."
    assert entry.credit == "Mission Control"  # dc:creator
    assert entry.published == datetime(2025, 6, 5, 8, 15, tzinfo=UTC)


def test_atom() -> None:
    feed = parse_feed(ATOM)
    assert feed.format == "atom10"
    assert feed.title == "Cupola views"  # type="html" title, tags stripped
    assert feed.link == "https://atom.example.org/"
    first, updated_only = feed.entries
    assert first.key == "id:tag:atom.example.org,2025:e1"
    assert first.published == datetime(2025, 6, 5, 23, 2, 3, tzinfo=UTC)
    assert first.credit == "Astronaut A"
    assert first.description_text == "City lights"
    assert first.thumbnail == "https://atom.example.org/img/1_t.jpg"
    assert set(first.images) == {
        "https://atom.example.org/img/1_t.jpg",
        "https://atom.example.org/img/1.jpg",
        "https://atom.example.org/img/inline.jpg",
    }
    assert updated_only.published == datetime(2025, 6, 4, tzinfo=UTC)  # falls back to <updated>
    assert updated_only.description_text == "Plain summary"


def test_rss091_with_public_doctype_is_accepted() -> None:
    feed = parse_feed(RSS091_WITH_PUBLIC_DOCTYPE)
    assert [e.title for e in feed.entries] == ["Old item"]


def test_utf16_feed() -> None:
    doc = (
        rss([{"title": "Ünïcode ✓", "guid": "u1"}]).decode().replace('encoding="utf-8"', 'encoding="utf-16"')
    )
    feed = parse_feed(doc.encode("utf-16"))
    assert feed.entries[0].title == "Ünïcode ✓"


def test_empty_but_valid_feed_has_no_entries() -> None:
    assert parse_feed(rss([])).entries == ()


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_bench_helper_feeds_parse(kind: str) -> None:
    data = make_feed(25, kind=kind, seed=3)  # type: ignore[arg-type]
    assert data == make_feed(25, kind=kind, seed=3)  # type: ignore[arg-type]
    feed = parse_feed(data)
    assert len(feed.entries) == 25
    assert len({e.key for e in feed.entries}) == 25
    assert all(e.images and e.thumbnail and e.credit and e.published for e in feed.entries)


# --------------------------------------------------------------------------------------------- text


def test_mentions_survive_html_stripping_as_text() -> None:
    feed = parse_feed(RSS2_MEDIA)
    text = feed.entries[0].description_text
    assert text == "Seen from Crew Dragon. Ping @everyone and <@&123>"


def test_mentions_in_cdata_and_raw_html() -> None:
    doc = rss(
        [
            {
                "guid": "m",
                "title": "t",
                "description": "<![CDATA[<p>Hi @everyone</p><p><@&123> and &lt;@!42&gt; @here</p>]]>",
            }
        ]
    )
    assert parse_feed(doc).entries[0].description_text == "Hi @everyone <@&123> and <@!42> @here"


def test_html_to_text_collapses_whitespace_and_drops_scripts() -> None:
    text, images = html_to_text(
        "<div>One\n\n  two</div><script>alert(1)</script><style>p{}</style><p>three&nbsp;&amp; four"
        "<img src='a.jpg'><img src=\"b.png\"/></p>"
    )
    assert text == "One two three & four"
    assert images == ["a.jpg", "b.png"]


def test_description_is_trimmed_with_ellipsis() -> None:
    long = "word " * 2000
    feed = parse_feed(rss([{"guid": "x", "title": "t", "description": long}]), max_description=100)
    text = feed.entries[0].description_text
    assert len(text) <= 100
    assert text.endswith("…")
    assert parse_feed(rss([{"guid": "x", "description": long}])).entries[0].description_text.endswith("…")
    assert len(parse_feed(rss([{"guid": "x", "description": long}])).entries[0].description_text) <= 4096


def test_trim() -> None:
    assert trim("short", 10) == "short"
    assert trim("abcdefghij", 5) == "abcd…"
    assert len(trim("a b c d e f g h i j k l", 10)) <= 10


# --------------------------------------------------------------------------------------------- keys


def test_keys_stable_when_only_the_date_changes() -> None:
    before = rss(
        [
            {"guid": "g-1", "title": "With guid", "date": "Tue, 03 Jun 2025 12:00:00 GMT"},
            {"link": "https://e.org/2", "title": "With link", "date": "Tue, 03 Jun 2025 12:00:00 GMT"},
        ]
    )
    after = rss(
        [
            {"guid": "g-1", "title": "With guid", "date": "Fri, 06 Jun 2025 09:00:00 GMT"},
            {"link": "https://e.org/2", "title": "With link", "date": "Fri, 06 Jun 2025 09:00:00 GMT"},
        ]
    )
    old, new = parse_feed(before).entries, parse_feed(after).entries
    assert [e.key for e in old] == [e.key for e in new] == ["id:g-1", "link:https://e.org/2"]
    assert [e.published for e in old] != [e.published for e in new]
    # nothing visible changed, so the fingerprint (which ignores dates) is the same too
    assert [e.fingerprint for e in old] == [e.fingerprint for e in new]


def test_key_without_id_or_link_uses_title_and_date() -> None:
    one = parse_feed(rss([{"title": "Bare", "date": "Tue, 03 Jun 2025 12:00:00 GMT"}])).entries[0]
    same = parse_feed(rss([{"title": "Bare", "date": "Tue, 03 Jun 2025 12:00:00 GMT"}])).entries[0]
    redated = parse_feed(rss([{"title": "Bare", "date": "Wed, 04 Jun 2025 12:00:00 GMT"}])).entries[0]
    assert one.key == same.key
    assert one.key.startswith("hash:") and len(one.key) == len("hash:") + 64
    assert redated.key != one.key  # documented: nothing stable to go on


def test_entry_key_rules() -> None:
    assert entry_key(entry_id="  abc ", link="https://x", title="t", date_text="d") == "id:abc"
    assert entry_key(entry_id="", link=" https://x/1 ", title="t", date_text="d") == "link:https://x/1"
    long_id = "x" * 500
    key = entry_key(entry_id=long_id, link=None, title=None, date_text=None)
    assert key.startswith("id:sha256:") and len(key) < 100


def test_fingerprint_changes_when_content_changes() -> None:
    a = parse_feed(rss([{"guid": "g", "title": "Old title"}])).entries[0]
    b = parse_feed(rss([{"guid": "g", "title": "New title"}])).entries[0]
    assert a.key == b.key
    assert a.fingerprint != b.fingerprint


# --------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        QUADRATIC_BLOWUP,
        EXTERNAL_ENTITY,
        PARAMETER_ENTITY,
        LOWERCASE_ENTITY,
        INTERNAL_SUBSET_NO_ENTITY,
        utf16(BILLION_LAUGHS),
        utf16(EXTERNAL_ENTITY),
        BILLION_LAUGHS.decode().encode("utf-16-le"),
        BILLION_LAUGHS.decode().encode("utf-32"),
    ],
    ids=[
        "billion-laughs",
        "quadratic-blowup",
        "external-entity",
        "parameter-entity",
        "lowercase",
        "internal-subset",
        "utf16-laughs",
        "utf16-external",
        "utf16le-no-bom",
        "utf32",
    ],
)
def test_entity_attacks_are_refused_before_parsing(document: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser must not see this document")

    monkeypatch.setattr(feedparser, "parse", must_not_parse)
    with pytest.raises(FeedError) as info:
        parse_feed(document)
    assert info.value.code == "entities"
    assert "attack" in info.value.message or "safety" in info.value.message


def test_check_no_entities_accepts_normal_feeds() -> None:
    for document in (RSS2_MEDIA, RSS1_RDF, ATOM, RSS091_WITH_PUBLIC_DOCTYPE, utf16(RSS2_MEDIA)):
        check_no_entities(document)


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(HTML_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    assert info.value.code == "not_a_feed"
    assert "web page" in info.value.message
    with pytest.raises(FeedError) as info:
        parse_feed(HTML_PAGE)  # even when served as XML
    assert info.value.code == "not_a_feed"


@pytest.mark.parametrize("document", [MALFORMED, NOT_XML])
def test_malformed_documents(document: bytes) -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(document)
    assert info.value.code == "malformed"


@pytest.mark.parametrize("document", [b"", b"   \n", b'<?xml version="1.0"?><foo><bar/></foo>'])
def test_other_non_feeds(document: bytes) -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(document)
    assert info.value.code in {"not_a_feed", "malformed"}


def test_bytes_are_never_treated_as_a_path(tmp_path: Path) -> None:
    """Given bytes, feedparser itself would open them as a file name; parse_feed must not."""
    secret = tmp_path / "feed.xml"
    secret.write_bytes(RSS2_MEDIA)
    with pytest.raises(FeedError) as info:
        parse_feed(str(secret).encode())
    assert info.value.code in {"not_a_feed", "malformed"}


def test_strings_are_refused() -> None:
    with pytest.raises(TypeError):
        parse_feed("https://example.org/feed.xml")  # type: ignore[arg-type]


async def test_parse_feed_async_runs_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = feedparser.parse

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    feed = await parse_feed_async(ATOM, base_url="https://atom.example.org/feed")
    assert feed.format == "atom10"
    assert threads and threads[0] != threading.get_ident()


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/plain", "application/octet-stream"]
)
def test_feeds_served_with_a_wrong_content_type_still_parse(content_type: str) -> None:
    feed = parse_feed(RSS2_MEDIA, headers={"Content-Type": content_type})
    assert len(feed.entries) == 3 and not feed.bozo
    assert parse_feed(ATOM, headers={"Content-Type": content_type}).format == "atom10"
    assert parse_feed(rss([]), headers={"Content-Type": content_type}).entries == ()
