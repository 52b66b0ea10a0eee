"""The database layer: migrations match the models on both backends; SQLite runs in WAL mode."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.models  # noqa: F401
from bot.db import Database, DatabaseError, current_revision, head_revision


async def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []
    assert current_revision(db.engine) == head_revision()


async def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    await db.open()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 2000  # under the 3 s deadline
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.close()


async def test_unmigrated_database_is_refused_without_migrate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        db.open_sync(migrate=False)
    except DatabaseError as exc:
        assert "run `cupola db upgrade` first" in str(exc)
    else:
        raise AssertionError("an unmigrated database was accepted")
    finally:
        db.close()


async def test_a_unit_of_work_that_begins_with_a_savepoint_is_still_one_transaction(db: Database) -> None:
    """Issue 11 (the full-size SQLite harness): on SQLite each outermost savepoint used to commit on
    its own, so a feed entry and the announcements queued for its subscribers were written as many
    commits, and a process killed half-way left the rest of the servers never queued."""
    from bot import delivery

    class Interrupted(Exception):
        pass

    def queue_then_fail(*, session) -> None:  # type: ignore[no-untyped-def]
        for n in range(3):
            assert delivery.enqueue(
                "album", f"k{n}", channel_id=n, guild_id=None, payload={}, session=session
            )
        raise Interrupted  # the process dies before the unit of work commits

    try:
        await db.run(queue_then_fail)
    except Interrupted:
        pass

    def count(*, session) -> int:  # type: ignore[no-untyped-def]
        return len(session.execute(text("SELECT id FROM delivery")).all())

    assert await db.run(count) == 0  # nothing half-done was kept
