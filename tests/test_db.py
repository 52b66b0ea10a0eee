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
