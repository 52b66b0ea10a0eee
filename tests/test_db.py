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


async def test_migration_0007_turns_stored_feed_sentences_into_codes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Rows written before 0007 held English sentences; they become codes the reader's language says."""
    from bot.db import make_engine, upgrade
    from bot.render.feeds import explain, paused_reason

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0006")
    english = (
        "The feed server answered 500 Internal Server Error: "
        "the feed server has a problem; Cupola will try again later."
    )
    with engine.begin() as conn:
        for n, (status, error, paused, failures) in enumerate(
            [
                ("http_500", english, f"Paused after 5 failed fetches in a row. {english}", 6),
                ("timeout", "The feed server took too long to answer.", None, 1),
                ("ok", None, None, 0),
                (None, "Something no version wrote.", "Paused for a reason nobody knows.", 7),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO feed (url, last_status, last_error, item_count, failures, paused,"
                    " paused_reason, next_poll_at, created_at) VALUES (:url, :status, :error, 0,"
                    " :failures, :paused, :reason, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {
                    "url": f"https://feeds.example/{n}",
                    "status": status,
                    "error": error,
                    "failures": failures,
                    "paused": paused is not None,
                    "reason": paused,
                },
            )
    upgrade(engine, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT last_error, paused_reason FROM feed ORDER BY url")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("http_500", '{"code": "http_500", "failures": 5}'),
        ("timeout", None),
        (None, None),
        ("other", '{"code": "other", "failures": 7}'),
    ]
    assert explain(rows[0][0], "en") == english
    assert paused_reason(rows[0][1], "en") == f"Paused after 5 failed fetches in a row. {english}"
    assert paused_reason(rows[0][1], "zh") == (
        "连续 5 次抓取失败后已暂停。订阅源服务器返回了 500 Internal Server Error：订阅源服务器出了问题；Cupola 稍后会再试。"
    )
