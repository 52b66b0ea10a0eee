"""Each admin workflow is one transaction with its audit line: when the audit line cannot be written
(a real trigger on the real database refuses it), neither the change nor its audit is kept, and the
question index, the listings and the counts do not show it either."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, text
from sqlmodel import Session, select

from bot.core import Cupola
from bot.db import Database
from bot.models import Article, AuditEntry, Fact, GuildSettings
from bot.sandbox import Sandbox, Upload
from tests.support.helpers import admin_of, final_message

INTERNAL = "Something went wrong on our side. It has been logged; please try again in a moment."
ARTICLE = """Spacewalk Installs a New Roll-Out Solar Array

March 3, 2026.

Two astronauts spent 6 hours and 41 minutes outside the station on Friday.
They installed a roll-out solar array that unfolds like a carpet to a length of 19 meters.
"""


@contextmanager
def audit_refused(db: Database) -> Iterator[None]:
    """While inside, every insert into ``audit_entry`` fails in the database itself."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(
                text(
                    "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_entry "
                    "FOR EACH ROW EXECUTE FUNCTION audit_refused()"
                )
            )
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_refused" + ("" if db.is_sqlite else " ON audit_entry")))


def rows(db: Database, model: type, *where: object) -> int:
    with Session(db.engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


async def ask(sandbox: Sandbox, question: str) -> str:
    return (await sandbox.invoke("iss ask", {"question": question})).reply["embeds"][0]["description"]


async def test_fact_add_keeps_neither_the_fact_nor_its_audit(
    bot: Cupola, sandbox: Sandbox, db: Database
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    alice = admin_of(sandbox, guild)
    fact = {"text": "The station's robotic arm Canadarm2 is 17.6 meters long."}
    question = "How long is the Canadarm2 robotic arm?"
    with audit_refused(db):
        refused = await sandbox.invoke("admin fact add", fact, user=alice)
    assert refused.reply["content"] == INTERNAL
    assert rows(db, Fact, Fact.article_id.is_(None)) == 0  # type: ignore[union-attr]
    assert rows(db, AuditEntry) == 0
    assert "17.6" not in await ask(sandbox, question)  # the index did not learn it either
    listed = (await sandbox.invoke("admin content list", user=alice)).reply["embeds"][0]
    assert listed["description"].startswith("Nothing added yet.")

    # The same command with the audit working: the fact and its line, together.
    added = await sandbox.invoke("admin fact add", fact, user=alice)
    assert added.reply["content"].startswith("Added fact #")
    assert rows(db, Fact, Fact.article_id.is_(None)) == 1  # type: ignore[union-attr]
    assert rows(db, AuditEntry, AuditEntry.action == "fact add") == 1
    assert "17.6" in await ask(sandbox, question)


async def test_article_import_keeps_neither_the_article_nor_its_audit(
    bot: Cupola, sandbox: Sandbox, db: Database
) -> None:
    guild = next(iter(sandbox.guilds.values()))
    alice = admin_of(sandbox, guild)
    upload = {"file": Upload("spacewalk.txt", ARTICLE.encode(), "text/plain")}
    question = "How long is the roll-out solar array?"
    counts_before = (await sandbox.invoke("about")).reply["embeds"][0]
    with audit_refused(db):
        refused = await final_message(
            sandbox, await sandbox.invoke("admin article import", upload, user=alice)
        )
    assert refused["content"] == INTERNAL
    assert rows(db, Article, Article.guild_id == guild.id) == 0
    assert rows(db, AuditEntry) == 0
    assert "19 meters" not in await ask(sandbox, question)
    assert (await sandbox.invoke("about")).reply["embeds"][0] == counts_before

    imported = await final_message(sandbox, await sandbox.invoke("admin article import", upload, user=alice))
    assert imported["content"].startswith(
        "Article imported: **Spacewalk Installs a New Roll-Out Solar Array**"
    )
    assert rows(db, Article, Article.guild_id == guild.id) == 1
    assert rows(db, AuditEntry, AuditEntry.action == "article import (new)") == 1
    assert "19 meters" in await ask(sandbox, question)


async def test_potd_set_keeps_neither_the_schedule_nor_its_audit(
    bot: Cupola, sandbox: Sandbox, db: Database
) -> None:
    channel = sandbox.default_channel(next(iter(sandbox.guilds.values())))
    options = {"channel": channel, "time": "08:30", "timezone": "Europe/Paris"}
    with audit_refused(db):
        refused = await sandbox.invoke("potd set", options)
    assert refused.reply["content"] == INTERNAL
    assert rows(db, GuildSettings, GuildSettings.potd_channel_id.is_not(None)) == 0  # type: ignore[union-attr]
    assert rows(db, AuditEntry) == 0
    status = await sandbox.invoke("potd status")
    assert status.reply["content"].startswith("The photo of the day is off here.")

    done = await sandbox.invoke("potd set", options)
    assert done.reply["content"].startswith(f"The photo of the day will be posted in <#{channel.id}>")
    assert rows(db, GuildSettings, GuildSettings.potd_channel_id == channel.id) == 1
    assert rows(db, AuditEntry, AuditEntry.action == "potd.set") == 1
