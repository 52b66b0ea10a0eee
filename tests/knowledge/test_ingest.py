from __future__ import annotations

import datetime as dt

import pytest

from bot.knowledge.ingest import ArticleError, ParsedArticle, parse_article, split_sentences
from tests.support.helpers import seed_files


# --- the two seed formats ---------------------------------------------------------------------
def test_plain_text_seed(seeds: dict[str, ParsedArticle]) -> None:
    art = seeds["en"]
    assert art.format == "text"
    assert art.title.startswith("Astronauts Took A Fly-around")
    assert art.published == dt.date(2021, 11, 8)  # from the lone date line in the body
    assert art.language == "en"
    texts = [p.text for p in art.passages]
    assert "Thomas Pesquet was the person behind the camera." in texts
    assert not any(t.strip() in ("F.", ">") for t in texts)
    assert [p.index for p in art.passages] == list(range(len(art.passages)))
    # caption lines ending "Credit: NASA." are photos without a URL
    assert len(art.images) == 4
    assert all(img.url is None and img.credit == "NASA" for img in art.images)
    assert all(img.photographer == "Thomas Pesquet" for img in art.images)
    assert art.images[0].caption and "Harmony module" in art.images[0].caption
    assert art.passages[art.images[0].passage_index].text == art.images[0].caption


def test_seed_crew_and_facts(seeds: dict[str, ParsedArticle]) -> None:
    art = seeds["en"]
    crew = {c.name: c.agency for c in art.crew}
    assert crew == {
        "Pyotr Dubrov": "Roscosmos",
        "Anton Shkaplerov": "Roscosmos",
        "Thomas Marshburn": "NASA",
        "Raja Chari": "NASA",
        "Mark Vande Hei": "NASA",
        "Kayla Barron": "NASA",
        "Matthias Maurer": "ESA",
    }
    facts = {f.key: f for f in art.facts if f.key != "number"}
    assert (facts["orbit_period"].value, facts["orbit_period"].unit) == (92, "min")
    assert (facts["altitude"].value, facts["altitude"].unit) == (400, "km")
    assert (facts["temperature_min"].value, facts["temperature_min"].unit) == (-128, "C")
    assert (facts["temperature_max"].value, facts["temperature_max"].unit) == (200, "F")
    assert facts["continuous_presence_years"].value == 21
    assert facts["visitors"].value == 250 and facts["visitors"].qualifier == "more_than"
    assert facts["countries"].value == 19
    assert facts["crew_size"].value == 7
    assert facts["first_crew_year"].value == 2000
    assert facts["first_crew_size"].value == 3
    # the hyperbole "around the world in 30 minutes" is not taken for the orbit period
    assert any(f.key == "number" and f.value == 30 for f in art.facts)
    for fact in art.facts:
        assert 0 <= fact.passage_index < len(art.passages)


def test_front_matter_html_seed(seeds: dict[str, ParsedArticle]) -> None:
    art = seeds["zh"]
    assert art.format == "html"
    assert art.title == "NASA公布新一批ISS近照：摄于Crew-2返回地球任务期间"
    assert art.published == dt.date(2021, 12, 1)
    assert art.author == "cnBeta"
    assert art.language == "zh"
    assert all(p.text.endswith("。") for p in art.passages)
    assert len(art.images) == 10
    assert all(img.url and img.url.startswith("https://") for img in art.images)
    assert art.photographer == "Thomas Pesquet"
    years = [f for f in art.facts if f.key == "continuous_presence_years"]
    assert years and years[0].value == 20 and years[0].qualifier == "more_than"
    assert not art.crew  # a photographer is not a crew roster


def test_plain_html() -> None:
    html = b"""<!DOCTYPE html><html><head><title>Docking day</title>
    <meta name="author" content="A. Reporter"><meta property="og:site_name" content="Orbit Weekly">
    <meta property="article:published_time" content="2030-05-06T10:00:00Z">
    <link rel="canonical" href="https://orbit.example/docking-day/"></head>
    <body><nav>Home | News</nav><h1>Docking day</h1>
    <p>The cargo ship docked at 10:02 UTC. It carried 2,500 kg of supplies.</p>
    <figure><img src="https://img.example/dock.jpg" alt="dock"><figcaption>The ship approaches the port.
    Credit: ESA</figcaption></figure>
    <script>var x = "ignored";</script>
    <p>Controllers said the approach was smooth!</p></body></html>"""
    art = parse_article(html, filename="docking.html")
    assert art.format == "html"
    assert art.title == "Docking day"
    assert art.author == "A. Reporter"
    assert art.source == "Orbit Weekly"
    assert art.published == dt.date(2030, 5, 6)
    assert art.identity == "url:orbit.example/docking-day"
    texts = [p.text for p in art.passages]
    assert texts[0] == "The cargo ship docked at 10:02 UTC."
    assert "Controllers said the approach was smooth!" in texts
    assert not any("ignored" in t or "Home" in t for t in texts)
    (img,) = art.images
    assert (img.url, img.caption, img.credit) == (
        "https://img.example/dock.jpg",
        "The ship approaches the port.",
        "ESA",
    )
    assert art.passages[img.passage_index].text == "The ship approaches the port."


def test_markdown_with_front_matter_and_images() -> None:
    md = """---
title: Night lights
date: 2029-02-03
source: Example Space Blog
---

# Night lights

Astronaut photographs of cities at night help scientists map light pollution.

![City lights over the coast](https://img.example/city.jpg "Coast at night")
*Image credit: NASA/JSC*

- The images are shared on the **public** gateway.
- [More photos](https://example.org) come every week.
"""
    art = parse_article(md.encode(), filename="night.md")
    assert art.format == "markdown"
    assert art.title == "Night lights"
    assert art.published == dt.date(2029, 2, 3)
    assert art.source == "Example Space Blog"
    texts = [p.text for p in art.passages]
    assert "# Night lights" not in texts and "Night lights" not in texts
    assert "The images are shared on the public gateway." in texts
    assert "More photos come every week." in texts
    (img,) = art.images
    assert img.url == "https://img.example/city.jpg"
    assert img.caption == "City lights over the coast"
    assert img.credit == "NASA/JSC"


def test_markdown_body_without_front_matter_and_gb18030() -> None:
    md = "# 新乘组抵达\n\n三名航天员抵达空间站。他们将在轨工作六个月！\n"
    art = parse_article(md.encode("gb18030"), filename="x.md")
    assert art.title == "新乘组抵达"
    assert art.language == "zh"
    assert [p.text for p in art.passages] == ["三名航天员抵达空间站。", "他们将在轨工作六个月！"]


def test_sentence_splitting() -> None:
    assert split_sentences("Dr. Smith met Col. J. Doe at 3 p.m. on Nov. 8. They talked.") == [
        "Dr. Smith met Col. J. Doe at 3 p.m. on Nov. 8.",
        "They talked.",
    ]
    assert split_sentences("它很高。真的吗？是的！好") == ["它很高。", "真的吗？", "是的！", "好"]
    assert split_sentences("It reached 200 degrees F. Then it cooled.") == [
        "It reached 200 degrees F.",
        "Then it cooled.",
    ]


# --- broken input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        ("", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"%PDF-1.7 binary", "PDF"),
        (b"some text\x00\x01\x02 with NULs", "binary"),
        (b"caf\xe9 au lait \xff\xfe\xfa", "not valid UTF-8"),
        (b"---\ntitle: [unclosed\n---\nBody text here.\n", "YAML front matter is broken"),
        (b"---\ntitle: ok\nno closing line\n\nBody.\n", "no closing '---'"),
        (b"---\n- a\n- b\n---\nBody text here.\n", "key: value"),
        (b"---\ntitle: Only metadata\n---\n\n", "no body"),
        (b"<html><body><script>x=1</script><p> </p></body></html>", "no readable body"),
    ],
)
def test_broken_input_is_refused_with_a_clear_message(data: bytes | str, fragment: str) -> None:
    with pytest.raises(ArticleError) as info:
        parse_article(data, filename="upload.txt")
    assert fragment in str(info.value)


# --- hashing and identity ---------------------------------------------------------------------
def test_same_content_same_hash() -> None:
    for path in seed_files():
        raw = path.read_bytes()
        first = parse_article(raw, filename=path.name)
        again = parse_article(raw, filename=path.name)
        crlf = parse_article(raw.replace(b"\n", b"\r\n"), filename="renamed.txt")
        assert first.content_hash == again.content_hash == crlf.content_hash
        assert first.identity == crlf.identity  # identity does not depend on the file name
        assert first == again
        assert hash(first) == hash(again)


def test_edit_changes_hash_but_keeps_identity() -> None:
    original = "Title: Crew news\nDate: 2030-01-02\n\nThe crew arrived on Monday. They are well.\n"
    edited = original.replace("They are well.", "They are well and busy.")
    a, b = parse_article(original), parse_article(edited)
    assert a.title == b.title == "Crew news"
    assert a.published == dt.date(2030, 1, 2)
    assert a.content_hash != b.content_hash
    assert a.identity == b.identity == "title:crew-news"


def test_identity_falls_back_to_file_stem_without_title() -> None:
    html = "<p>Just one sentence here.</p><p>And another one.</p>"
    art = parse_article(html, filename="Orbit Notes.html")
    assert art.title == "Just one sentence here."  # shown as the title, but not trusted as identity
    assert art.identity == "file:orbit-notes"
    assert parse_article(html).identity == "hash:" + art.content_hash[:24]


def test_dict_round_trip(seeds: dict[str, ParsedArticle]) -> None:
    for art in seeds.values():
        data = art.to_dict()
        assert isinstance(data["published"], str)
        assert ParsedArticle.from_dict(data) == art


def test_credit_and_photographer_on_one_line_are_split_as_written() -> None:
    parsed = parse_article(
        "Soyuz lands\n\n![The capsule on the steppe](https://example.org/a.jpg)\n"
        "*Credit: Roscosmos. Photographer: Oleg Novitskiy.*\n\n"
        "The Soyuz capsule landed in Kazakhstan on Friday after 180 days in orbit.\n",
        filename="soyuz.md",
    )
    image = parsed.images[0]
    assert (image.credit, image.photographer) == ("Roscosmos", "Oleg Novitskiy")


def test_a_picture_without_caption_takes_its_paragraph_s_first_sentence() -> None:
    parsed = parse_article(
        "<html><head><title>Cupola views</title></head><body><h1>Cupola views</h1>"
        "<p><img src='https://example.org/c.jpg'></p>"
        "<p>The cupola faces Earth with seven windows. It was installed in 2010.</p></body></html>",
        filename="cupola.html",
    )
    assert parsed.images[0].caption == "The cupola faces Earth with seven windows."
    assert any("installed in 2010" in p.text for p in parsed.passages)  # the paragraph stays text
