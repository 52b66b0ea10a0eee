"""Engine, sessions and migrations. Synchronous SQLModel sessions, always run in a worker thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, overload

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, ExceptionContext, make_url
from sqlmodel import Session, create_engine

from bot.errors import UserFacingError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Under Discord's 3 s interaction deadline: a command waiting on a lock held elsewhere answers
# "the database is busy" in time instead of going silent.
BUSY_TIMEOUT_MS = 2000
CONNECT_TIMEOUT_S = 2
POOL_TIMEOUT_S = 2
POOL_RECYCLE_S = 300

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class SessionCall(Protocol[T_co]):
    """What ``Database.run`` calls: a function whose only open argument is ``session=``.

    Our store functions take ``session`` keyword-only (``def f(*, session: Session, x: int)``), which
    a ParamSpec cannot split off (PEP 612 allows no keyword parameters between ``*args: P.args`` and
    ``**kwargs: P.kwargs``). Bind the other arguments with ``functools.partial(f, x=1)`` (mypy checks
    a partial's argument names and types against ``f``) or a lambda, and the result type follows.
    """

    def __call__(self, *, session: Session) -> T_co: ...


class DatabaseError(Exception):
    """The database cannot be used as configured; the message says what to do."""


class DatabaseUnavailable(UserFacingError):
    """The database did not answer in time (locked, read-only, unreachable): a passing fault.

    Commands tell the member to try again; background loops back off (bot/faults.py).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(
            "The database is busy right now; please try again in a minute.",
            key="error.db_busy",
        )
        self.reason = reason

    def __str__(self) -> str:
        return f"database unavailable: {self.reason}"


def _is_transient(error: BaseException) -> bool:
    """Locked, read-only, disconnected, pool exhausted or unreachable: it passes without us."""
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):
        return True
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError)
    return False


def _sqlite_readonly_is_a_disconnect(context: ExceptionContext) -> None:
    """A connection opened while the file was read-only stays read-only for good: drop it (and the
    pool's older connections) so the next checkout opens the file afresh."""
    if "readonly database" in str(context.original_exception).lower():
        context.is_disconnect = True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_savepoint_inside_a_transaction(conn: Any, _name: str) -> None:
    """A savepoint opened outside a transaction runs in one of its own: open the transaction first.

    Python's sqlite3 module begins a transaction by itself only before INSERT/UPDATE/DELETE, so a
    unit of work whose first write sits in ``begin_nested()`` issued SAVEPOINT in autocommit mode,
    and SQLite's RELEASE of that outermost savepoint committed on the spot: each savepoint was a
    transaction of its own. A feed entry and its 2,000 queued announcements were written as 2,001
    commits, and a kill -9 half-way left ~1,000 servers never queued (the entry was already known).
    """
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def _postgres_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
    """A row or table lock held by another process fails after BUSY_TIMEOUT_MS, as on SQLite,
    instead of making a command wait past Discord's deadline."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_connection.commit()


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
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_timeout=POOL_TIMEOUT_S,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_savepoint_inside_a_transaction)
        event.listen(engine, "handle_error", _sqlite_readonly_is_a_disconnect)
        return engine
    try:
        # pre-ping: a connection killed (pg_terminate_backend, restart) is replaced at checkout;
        # recycle: none lives long enough to meet a silently dropped NAT/firewall state.
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_recycle=POOL_RECYCLE_S,
            pool_timeout=POOL_TIMEOUT_S,
            pool_size=10,
            max_overflow=10,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        event.listen(engine, "connect", _postgres_lock_timeout)
        return engine
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
        self._idle = threading.Condition()
        self._in_flight = 0  # run_sync calls still working in a thread

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

    @overload
    def run_sync(self, fn: SessionCall[T], /) -> T: ...
    @overload
    def run_sync(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...
    def run_sync(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Raises :class:`DatabaseUnavailable` for a passing fault; other errors as they are.

        A connection found broken (killed, or left read-only) was rolled back and thrown away:
        the call is tried once more on a fresh one, so the first command after a fault succeeds.
        """
        with self._idle:
            self._in_flight += 1
        try:
            return self._run_with_retry(fn, *args, **kwargs)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _run_with_retry(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        for attempt in (1, 2):
            try:
                with self.session() as session:
                    result = fn(*args, session=session, **kwargs)
                    session.commit()
                    return result
            except exc.SQLAlchemyError as error:
                if not _is_transient(error):
                    raise
                if attempt == 1 and isinstance(error, exc.DBAPIError) and error.connection_invalidated:
                    log.info("database connection was broken (%s); retrying on a new one", error.orig)
                    continue
                raise DatabaseUnavailable(str(getattr(error, "orig", None) or error)) from error
        raise AssertionError("unreachable")  # pragma: no cover

    @overload
    async def run(self, fn: SessionCall[T], /) -> T: ...
    @overload
    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...
    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``fn(*args, session=..., **kwargs)`` in a thread and commit; never blocks the loop.

        The checked form is ``run(partial(fn, ...))`` (or a function of ``session`` alone): mypy checks
        the arguments against ``fn`` and gives the result ``fn``'s return type. The older form
        ``run(fn, *args, **kwargs)`` still works (tests and benchmarks use it); mypy checks only its
        result type there.
        """
        return await asyncio.to_thread(self.run_sync, fn, *args, **kwargs)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no call is working in a thread (a cancelled task's thread keeps going)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let calls still in worker threads finish (their writes are not lost), then close."""
        if not await asyncio.to_thread(self.wait_idle, timeout):
            log.warning("closing the database with %d calls still running", self._in_flight)
        self.close()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
