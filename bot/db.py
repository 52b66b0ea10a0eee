"""Engine, sessions and migrations. Synchronous SQLModel sessions, always run in a worker thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseError(Exception):
    """The database cannot be used as configured; the message says what to do."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// use psycopg 3, the driver the ``postgres`` extra installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"the database driver is missing ({exc.name}); install it with: pip install 'cupola[postgres]'"
        ) from None


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    """Owns the engine; ``run`` executes a sync function with a fresh session in a worker thread."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise DatabaseError("the database is not open")
        return self._engine

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    def open_sync(self, *, migrate: bool | None = None) -> None:
        """Connect; migrate SQLite automatically, and refuse an out-of-date PostgreSQL schema."""
        self._engine = make_engine(self.url)
        if migrate is None:
            migrate = self.is_sqlite
        if migrate:
            upgrade(self._engine)
            return
        current, head = current_revision(self._engine), head_revision()
        if current != head:
            raise DatabaseError(
                f"the database schema is at {current or 'nothing'}, the code needs {head}: "
                "run `cupola db upgrade` first"
            )

    async def open(self, *, migrate: bool | None = None) -> None:
        await asyncio.to_thread(self.open_sync, migrate=migrate)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def run_sync(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        with self.session() as session:
            result = fn(*args, session=session, **kwargs)
            session.commit()
            return result

    async def run(self, fn: Callable[Concatenate[..., P], T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``fn(*args, session=..., **kwargs)`` in a thread and commit; never blocks the loop."""
        return await asyncio.to_thread(self.run_sync, fn, *args, **kwargs)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
