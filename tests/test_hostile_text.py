"""NUL and other control characters at every entry: options, articles, feed items, stored rows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.core import Cupola
from bot.db import Database
from bot.errors import ControlCharacters, clean_input
from bot.feeds.parse import parse_feed
from bot.knowledge.ingest import parse_article
from bot.models import Article, Fact
from bot.sandbox import Sandbox, Upload
from bot.sandbox.model import Guild, User
from bot.text import strip_controls
from tests.support.helpers import cupola, make_settings, running_bot

EPHEMERAL = 64


def admin_of(sandbox: Sandbox, guild: Guild) -> User:
    return sandbox.add_user("alice", guild=guild, roles=[sandbox.role(guild, "Admins")])


def facts(*, session: Session) -> list[Fact]:
    return list(session.exec(select(Fact).where(Fact.guild_id.is_not(None))).all())  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("command", "options", "what"),
    [
        ("admin fact add", {"text": "The ISS has\x00 a cupola.", "source": "notes"}, "text"),
        ("admin fact add", {"text": "Fine text.", "source": "bell\x07"}, "source"),
        ("admin crew add", {"name": "Ingrid\x00Solberg", "agency": "ESA"}, "name"),
        ("feed watch", {"url": "https://photos.example.org/feed\x00.xml"}, "url"),
        ("iss ask", {"question": "How long\x1b[2J is the arm?"}, "question"),
    ],
)
async def test_control_characters_in_any_option_are_refused_politely(
    bot: Cupola, sandbox: Sandbox, command: str, options: dict[str, str], what: str
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    alice = admin_of(sandbox, guild)
    record = await sandbox.invoke(command, options, user=alice)
    assert record.reply["content"] == (
        f"The {what} contains control characters (such as NUL), which can't be stored. "
        "Remove them and try again."
    )
    assert record.reply["flags"] & EPHEMERAL
    chinese = await sandbox.invoke(command, options, user=alice, locale="zh-CN")
    assert chinese.reply["content"] == f"{what} 含有控制字符（例如 NUL），无法保存。请删除后重试。"
    assert await bot.db.run(facts) == []
    # The bot is still up and the same command with clean text works.
    about = await sandbox.invoke("about")
    assert about.reply["embeds"][0]["title"] == "About Cupola"


async def test_clean_text_still_adds_a_fact(bot: Cupola, sandbox: Sandbox) -> None:
    guild = next(iter(sandbox.guilds.values()))
    record = await sandbox.invoke(
        "admin fact add", {"text": "The\tcupola has seven windows."}, user=admin_of(sandbox, guild)
    )
    assert record.reply["content"].startswith("Added fact #")


def test_clean_input_refuses_controls_but_keeps_ordinary_whitespace() -> None:
    with pytest.raises(ControlCharacters) as info:
        clean_input("a\x00b", 100, "caption")
    assert info.value.key == "input.control" and info.value.params == {"what": "caption"}
    assert clean_input(" a\tb\r\nc ", 100, "caption", collapse=True) == "a b c"


def test_strip_controls_walks_front_matter() -> None:
    assert strip_controls({"title": "a\x00b", "tags": ["c\x01", 3]}) == {"title": "ab", "tags": ["c", 3]}


def test_a_yaml_escape_cannot_put_nul_into_an_article() -> None:
    parsed = parse_article(
        b'---\ntitle: "Solar\\0 array"\nsource: "NASA\\x07"\n---\n\nThe array is 19 meters long.\n',
        filename="a.md",
    )
    assert parsed.title == "Solar array"
    assert parsed.source == "NASA"


async def test_article_with_nul_in_its_front_matter_imports_on_both_databases(
    bot: Cupola, sandbox: Sandbox
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    article = b'---\ntitle: "Roll-Out\\0 Solar Array"\n---\n\nTwo astronauts installed a solar array 19 meters long.\n'
    record = await sandbox.invoke(
        "admin article import",
        {"file": Upload("array.md", article, "text/markdown")},
        user=admin_of(sandbox, guild),
    )
    await sandbox.wait_until(lambda: "passages" in (record.messages[0]["content"] if record.messages else ""))
    assert "Roll-Out Solar Array" in record.messages[0]["content"]

    def titles(*, session: Session) -> list[str]:
        return [a.title for a in session.exec(select(Article).where(Article.guild_id == guild.id)).all()]

    assert await bot.db.run(titles) == ["Roll-Out Solar Array"]


def test_feed_items_lose_their_control_characters() -> None:
    document = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Al\x00bums</title>'
        b"<item><title>Aurora\x00 over\x1f the Pacific</title><guid>a\x00-1</guid>"
        b"<link>https://photos.example.org/a\x00</link><description>Green\x00 curtains</description></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(document)
    [entry] = feed.entries
    assert feed.title == "Albums"
    assert entry.title == "Aurora over the Pacific"
    assert entry.description_text == "Green curtains"
    assert entry.key == "id:a-1"
    assert entry.link is None  # a URL with a control character in it is not used


# --------------------------------------------------------------------------------------------- stored rows


def nul_fact(db_url: str, guild_id: int) -> int:
    """A fact with a NUL byte, stored as an older Cupola did (SQLite accepts NUL in text)."""
    db = Database(db_url)
    db.open_sync(migrate=True)

    def add(*, session: Session) -> int:
        bad = Fact(guild_id=guild_id, key="admin", text="The arm\x00 is 17.6 meters long.")
        good = Fact(guild_id=guild_id, key="admin", text="The cupola has seven windows.")
        session.add(bad)
        session.add(good)
        session.flush()
        assert bad.id is not None
        return bad.id

    try:
        return db.run_sync(add)
    finally:
        db.close()


async def test_a_stored_row_that_fails_to_load_is_skipped_logged_once_and_reported(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_url = f"sqlite:///{tmp_path / 'cupola.db'}"
    guild = next(iter(sandbox.guilds.values()))
    fact_id = nul_fact(db_url, guild.id)
    db = Database(db_url)
    caplog.set_level(logging.INFO)
    async with running_bot(make_settings(sandbox, tmp_path, db_url), db, sandbox) as bot:
        assert list(bot.knowledge.skipped) == [f"fact {fact_id}"]
        assert "ArticleError" in bot.knowledge.skipped[f"fact {fact_id}"]
        for _ in range(5):
            await bot.knowledge.refresh()
        lines = [r for r in caplog.records if f"fact {fact_id}" in r.getMessage()]
        # one line when it was skipped, one in the start-up summary; refreshes add nothing
        assert len(lines) == 2, [r.getMessage() for r in lines]
        record = await sandbox.invoke("iss ask", {"question": "How many windows does the cupola have?"})
        assert "seven windows" in record.reply["embeds"][0]["description"]

        # Removing the row through /admin clears the report.
        removed = await sandbox.invoke(
            "admin fact remove", {"id": str(fact_id)}, user=admin_of(sandbox, guild)
        )
        assert "Removed" in removed.reply["content"]
        assert bot.knowledge.skipped == {}


async def test_cli_ask_and_db_check_with_a_bad_row(tmp_path: Path) -> None:
    """`cupola ask` answers, `cupola db check` names the row and exits 1 (it used to crash both)."""
    fact_id = nul_fact(f"sqlite:///{tmp_path / 'data' / 'cupola.db'}", 1234)
    code, out, err = await cupola("ask", "How long is the station?", cwd=tmp_path)
    assert code == 0, err
    assert f"fact {fact_id}" in err and "skipped" in err
    code, out, err = await cupola("db", "check", cwd=tmp_path)
    assert code == 1, err
    assert out.splitlines()[0].startswith(f"cannot load fact {fact_id}: ArticleError: The file contains NUL")
    assert "1 stored rows cannot be loaded" in out


async def test_a_fact_the_index_cannot_read_is_refused_before_it_is_stored(
    bot: Cupola, sandbox: Sandbox
) -> None:
    """It used to be stored, then fail with "Something went wrong" (and be skipped at every start)."""
    guild = next(iter(sandbox.guilds.values()))
    alice = admin_of(sandbox, guild)
    record = await sandbox.invoke("admin fact add", {"text": "Fact 0."}, user=alice)
    assert record.reply["content"] == (
        "I can't read a sentence in that fact, so /iss ask could never answer from it. Write it as a "
        "full sentence, for example: The cupola has seven windows."
    )
    assert record.reply["flags"] & EPHEMERAL
    zh = await sandbox.invoke("admin fact add", {"text": "Fact 0."}, user=alice, locale="zh-CN")
    assert zh.reply["content"].startswith("我无法从这条事实中读出完整的句子")
    assert await bot.db.run(facts) == []
