"""Entity declarations are refused in whatever encoding the document says it is in.

Every sample here is first shown to be live (feedparser alone expands its entity), so a test that
passes proves the guard, not a harmless document.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import feedparser
import pytest

from bot.core import Cupola
from bot.feeds.parse import FeedError, check_no_entities, parse_feed
from bot.sandbox import Sandbox
from tests.feeds.feedserver import FeedServer
from tests.feeds.samples import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    QUADRATIC_BLOWUP,
    SIMPLE_ENTITY,
    ebcdic,
    encoded,
    loose_blowup,
    rss,
    utf7,
)
from tests.support.helpers import World

MARKER = "EXPANDED-ENTITY"
ROOT = Path(__file__).resolve().parents[2]


def feedparser_expands(document: bytes, headers: dict[str, str] | None = None) -> bool:
    """Whether feedparser on its own would put the entity's text into an entry."""
    result = feedparser.parse(
        io.BytesIO(document), response_headers=headers or {"content-type": "application/xml"}
    )
    return MARKER in json.dumps(result.get("entries") or [], default=str)


FAMILIES = {
    "utf-7 declared, base64 markup": (utf7(SIMPLE_ENTITY), None),
    "cp037 (EBCDIC)": (ebcdic(SIMPLE_ENTITY, "cp037"), None),
    "cp500 (EBCDIC international)": (ebcdic(SIMPLE_ENTITY, "cp500"), None),
    "cp1140 (EBCDIC euro)": (ebcdic(SIMPLE_ENTITY, "cp1140"), None),
    "utf-16 with BOM": (encoded(SIMPLE_ENTITY, "utf-16"), None),
    "utf-16-le, no BOM": (encoded(SIMPLE_ENTITY, "utf-16-le", bom=False), None),
    "utf-16-be, no BOM": (encoded(SIMPLE_ENTITY, "utf-16-be", bom=False), None),
    "utf-32 with BOM": (encoded(SIMPLE_ENTITY, "utf-32"), None),
    "utf-32-le, no BOM": (encoded(SIMPLE_ENTITY, "utf-32-le", bom=False), None),
    "utf-32-be, no BOM": (encoded(SIMPLE_ENTITY, "utf-32-be", bom=False), None),
    "utf-8 with BOM": (b"\xef\xbb\xbf" + SIMPLE_ENTITY, None),
    "utf-7 from the HTTP charset only": (
        SIMPLE_ENTITY.replace(b"<!", b"+ADwAIQ-"),
        {"content-type": "application/rss+xml; charset=utf-7"},
    ),
    "cp037 from the HTTP charset only": (
        SIMPLE_ENTITY.decode().encode("cp037"),
        {"content-type": "text/xml; charset=cp037"},
    ),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_encoding_family_is_refused(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    document, headers = FAMILIES[name]
    assert b"<!ENTITY" not in document or name == "utf-8 with BOM"  # hidden from a byte search
    assert feedparser_expands(document, headers), "the sample must be a live attack"

    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser must not see this document")

    monkeypatch.setattr(feedparser, "parse", must_not_parse)
    with pytest.raises(FeedError) as info:
        parse_feed(document, headers=headers)
    assert info.value.code == "entities"


@pytest.mark.parametrize(
    "codec", ["utf-7", "cp037", "cp500", "utf-16", "utf-32", "utf-16-be", "shift_jis", "gb18030", "koi8-r"]
)
def test_honest_feeds_in_unusual_encodings_still_parse(codec: str) -> None:
    document = rss([{"title": "Album 1", "guid": "a1"}, {"title": "Album 2", "guid": "a2"}]).decode()
    document = document.replace('encoding="utf-8"', f'encoding="{codec}"')
    feed = parse_feed(document.encode(codec))
    assert [entry.title for entry in feed.entries] == ["Album 1", "Album 2"]


ATTACKS = {
    "simple": SIMPLE_ENTITY,
    "blowup": loose_blowup(1, 50),
    "laughs": BILLION_LAUGHS,
    "quadratic": QUADRATIC_BLOWUP,
    "external": EXTERNAL_ENTITY,
}
CODECS = [
    "utf-8", "utf-7", "cp037", "cp273", "cp500", "cp1026", "cp1140", "utf-16", "utf-16-le", "utf-16-be",
    "utf-32", "utf-32-le", "utf-32-be", "latin-1", "cp1252", "iso-8859-7", "shift_jis", "euc-jp",
    "gb18030", "big5", "koi8-r",
]  # fmt: skip
CONTENT_TYPES = ["application/xml", "application/rss+xml", "text/xml", "text/html", "text/plain", None]


def _variant(rng: random.Random, attack: bytes) -> bytes:
    """The attack with the declaration's spelling shuffled (case, spacing, line breaks)."""
    text = attack.decode()
    keyword = "ENTITY"  # feedparser only expands the upper-case spelling, so keep it most of the time
    if rng.random() < 0.3:
        keyword = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in keyword)
    text = text.replace("<!ENTITY", "<!" + keyword + rng.choice([" ", "  ", "\t", "\n"]))
    if rng.random() < 0.3:
        text = text.replace("<!DOCTYPE rss>\n", "<!DOCTYPE rss>" + rng.choice(["", "\r\n", "   "]))
    return text.encode()


def _encode(rng: random.Random, attack: bytes, codec: str) -> tuple[bytes, dict[str, str]]:
    how = rng.choice(["declaration", "charset", "both", "bom-only"])
    declared = how in ("declaration", "both")
    if codec == "utf-7":
        document = utf7(attack) if declared else attack.replace(b"<!", b"+ADwAIQ-")
    else:
        document = (
            encoded(attack, codec, bom=rng.random() < 0.5) if declared else attack.decode().encode(codec)
        )
    content_type = rng.choice(CONTENT_TYPES)
    headers: dict[str, str] = {}
    if content_type:
        headers["content-type"] = content_type
        if how in ("charset", "both"):
            headers["content-type"] += f"; charset={codec}"
    return document, headers


def test_fuzz_encodings_times_entity_attacks() -> None:
    """Random documents from encodings x attacks x declarations x content types: nothing expands.

    Each case must either be refused as ``entities`` or be parsed with no trace of the entity's
    text: a document that decodes to something else (UTF-7 read as ASCII) is harmless gibberish.
    """
    rng = random.Random(20261201)
    refused = expanded_by_feedparser = 0
    cases = 0
    for attack_name, attack in ATTACKS.items():
        for codec in CODECS:
            for _ in range(4):
                document, headers = _encode(rng, _variant(rng, attack), codec)
                cases += 1
                if attack_name == "simple" and feedparser_expands(document, headers or None):
                    expanded_by_feedparser += 1
                try:
                    feed = parse_feed(document, headers=headers)
                except FeedError as exc:
                    refused += exc.code == "entities"
                    assert exc.code in {"entities", "not_a_feed", "malformed"}, (attack_name, codec, headers)
                    continue
                shown = " ".join(f"{e.title} {e.description_text}" for e in feed.entries) + feed.title
                assert MARKER not in shown and "lollol" not in shown and "AAAA" not in shown, (
                    attack_name,
                    codec,
                    headers,
                )
                assert "root:" not in shown
    print(f"{cases} cases, {refused} refused, {expanded_by_feedparser} expanded by feedparser alone")
    assert cases == len(ATTACKS) * len(CODECS) * 4
    assert expanded_by_feedparser >= 20  # the fuzz really produces live attacks
    assert refused >= cases * 0.8


def test_check_no_entities_returns_the_document_feedparser_will_read() -> None:
    decoded = check_no_entities(ebcdic(rss([{"title": "t", "guid": "g"}]).replace(b' encoding="utf-8"', b"")))
    assert decoded.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<title>t</title>" in decoded


def test_peak_memory_under_encoding_attacks_stays_below_300_mb() -> None:
    """200 KB documents that expand to gigabytes, in every hiding encoding, parsed in a child process.

    The child caps its address space at 2 GiB so that a regression fails the test instead of the
    machine, and reports its peak resident size (VmHWM, its own).
    """
    child = textwrap.dedent(
        """
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from bot.feeds.parse import FeedError, parse_feed
        from tests.feeds.samples import ebcdic, encoded, loose_blowup, utf7
        attack = loose_blowup(value_kib=64, references=60_000)  # ~180 KB, ~3.8 GB expanded
        documents = [utf7(attack), ebcdic(attack), ebcdic(attack, "cp500"),
                     encoded(attack, "utf-16-le", bom=False), encoded(attack, "utf-32")]
        codes = []
        for document in documents:
            try:
                parse_feed(document)
                codes.append("parsed")
            except FeedError as exc:
                codes.append(exc.code)
            except MemoryError:
                codes.append("MemoryError")
        def peak_mib():
            # VmHWM belongs to this program's own address space; ru_maxrss survives exec and would
            # report the (large) test process that started us.
            try:
                for line in open("/proc/self/status"):
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
            except OSError:
                pass
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"codes": codes, "peak_mib": peak_mib(), "size": len(documents[0])}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["codes"] == ["entities"] * 5
    assert 150_000 < report["size"] < 250_000
    assert report["peak_mib"] < 300, report


async def test_feed_watch_refuses_a_utf7_or_ebcdic_entity_feed(
    feed_bot: Cupola, sandbox: Sandbox, feeds: FeedServer, world: World
) -> None:
    """Through the sandbox: the admin is told why, in plain words, and nothing is stored."""
    feeds.raw("/u7.xml", utf7(loose_blowup(64, 1000)), {"Content-Type": "application/rss+xml"})
    feeds.raw("/ebcdic.xml", ebcdic(loose_blowup(64, 1000)), {"Content-Type": "application/xml"})
    for path in ("/u7.xml", "/ebcdic.xml"):
        record = await sandbox.invoke("feed watch", {"url": feeds.url(path), "channel": world.albums})
        assert record.reply["content"] == (
            "That feed declares XML entities, which Cupola refuses because they can be used to attack it. "
            "Ask the publisher to remove them."
        )
        assert record.reply["flags"] & 64
    assert sandbox.channel_messages(world.albums) == []
