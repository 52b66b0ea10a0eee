"""The ``cupola`` command: run, sync, db upgrade, console, sandbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import discord

from bot import __version__
from bot.config import ConfigError, Settings, load_settings
from bot.db import Database, DatabaseError
from bot.extensions import find_extensions

log = logging.getLogger("cupola")

NO_TOKEN = """\
Cupola needs a Discord bot token to connect to Discord.

  1. Open https://discord.com/developers/applications and create an application.
  2. Under "Bot", reset and copy the token.
  3. Put it in config.toml as [discord] token = "...", or export DISCORD_TOKEN=...
  4. Invite the bot to your server: `cupola invite` prints the link (scopes bot and
     applications.commands; permissions {permissions}), or open
     {url}
     with your application id (General Information) in place of APPLICATION_ID.
  5. Register the slash commands once: cupola sync

To try Cupola without a token or network, run:  cupola console
"""


def no_token_message() -> str:
    from bot.invite import BOT_PERMISSIONS, invite_url

    names = ", ".join(name.replace("_", " ").title() for name in BOT_PERMISSIONS)
    return NO_TOKEN.format(permissions=names, url=invite_url("APPLICATION_ID"))


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("discord.client").setLevel(logging.ERROR if level != "DEBUG" else logging.DEBUG)
    # Each migration step is a line at INFO; the operator needs them only when something goes wrong.
    logging.getLogger("alembic").setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)


SHUTDOWN_GRACE_S = 7.0
"""After SIGINT/SIGTERM: this long for a clean close, then the main task is cancelled; 2 s more
and the process exits regardless (whatever discord.py is doing), well within 10 s."""


def install_signal_handlers(stop: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """SIGINT/SIGTERM close the bot cleanly (loops stopped, session and database closed), bounded."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    stopping: set[asyncio.Future[object]] = set()

    def on_signal(sig: signal.Signals) -> None:
        log.warning("stopping (%s)", sig.name)
        stopping.add(asyncio.ensure_future(stop()))
        if main is not None:
            loop.call_later(SHUTDOWN_GRACE_S, _cancel_late, main)
        watchdog = threading.Timer(SHUTDOWN_GRACE_S + 2, _exit_now)
        watchdog.daemon = True
        watchdog.start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX
            pass


def _cancel_late(task: asyncio.Task[object]) -> None:
    if not task.done():
        log.warning("the bot did not stop within %s s; cancelling it", SHUTDOWN_GRACE_S)
        task.cancel()


def _exit_now() -> None:
    """Last resort: the event loop itself is stuck. Everything written was committed already."""
    sys.stderr.write("cupola: did not stop in time after the signal; exiting now\n")
    sys.stderr.flush()
    os._exit(0)


async def _run(settings: Settings) -> int:
    from bot.core import Cupola

    bot = Cupola(settings=settings, db=Database(settings.database_url), extensions=find_extensions())
    install_signal_handlers(bot.close)
    try:
        async with bot:
            await bot.start(settings.discord.token)
    except asyncio.CancelledError:  # the shutdown grace ran out (see install_signal_handlers)
        return 0
    except discord.LoginFailure:
        print("cupola: Discord refused the token. Check [discord] token / DISCORD_TOKEN.", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"cupola: database: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.discord.token:
        print(no_token_message(), file=sys.stderr)
        return 2
    return asyncio.run(_run(settings))


async def _sync(settings: Settings, guild_id: int | None) -> int:
    from bot.core import Cupola

    settings.discord.sync_on_start = "off"
    bot = Cupola(settings=settings, db=Database(settings.database_url), extensions=find_extensions())
    async with bot:
        try:
            await bot.login(settings.discord.token)
        except discord.LoginFailure:
            print("cupola: Discord refused the token.", file=sys.stderr)
            return 1
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            try:
                synced = await bot.tree.sync(guild=guild)
            except (discord.NotFound, discord.Forbidden) as exc:
                print(unknown_guild_message(guild_id, exc, bot.application_id), file=sys.stderr)
                return 1
        else:
            synced = await bot.tree.sync()
    where = f"in guild {guild_id}" if guild_id else "globally (may take up to an hour to show everywhere)"
    print(f"Registered {len(synced)} commands {where}: " + ", ".join(f"/{c.name}" for c in synced))
    return 0


def unknown_guild_message(guild_id: int, exc: discord.HTTPException, application_id: int | None) -> str:
    from bot.invite import invite_url

    link = invite_url(application_id) if application_id else "the link from `cupola invite`"
    return (
        f"cupola sync: the bot is not in server {guild_id} (Discord answered {exc.status} {exc.text}). "
        f"Check the server id, or invite the bot first: {link}"
    )


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.discord.token:
        print(no_token_message(), file=sys.stderr)
        return 2
    return asyncio.run(_sync(settings, args.guild))


def cmd_invite(settings: Settings, args: argparse.Namespace) -> int:
    from bot.invite import BOT_PERMISSIONS, application_id_from_token, invite_url

    app_id = args.client_id or application_id_from_token(settings.discord.token)
    if app_id is None:
        print(
            "cupola invite: give --client-id APPLICATION_ID (Developer Portal → General Information), "
            "or set [discord] token / DISCORD_TOKEN.",
            file=sys.stderr,
        )
        return 2
    print(invite_url(app_id))
    print("Scopes: bot, applications.commands. Permissions:")
    for name, why in BOT_PERMISSIONS.items():
        print(f"  {name.replace('_', ' ').title()}: {why}")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db import current_revision

    db = Database(settings.database_url)
    db.open_sync(migrate=True)
    print(
        f"Database {db.engine.url.render_as_string(hide_password=True)} is at revision {current_revision(db.engine)}."
    )
    db.close()
    return 0


async def _check(settings: Settings) -> int:
    """Load every stored row the way `cupola run` does and name the ones that cannot be loaded."""
    from bot.knowledge.service import Knowledge

    db = Database(settings.database_url)
    await db.open()
    knowledge = Knowledge(db)
    try:
        loaded = await knowledge.load(seed_if_empty=False)
    finally:
        db.close()
    for row, why in knowledge.skipped.items():
        print(f"cannot load {row}: {why}")
    print(
        f"{loaded} articles checked; {len(knowledge.skipped)} stored rows cannot be loaded (skipped at start)."
    )
    return 1 if knowledge.skipped else 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_check(settings))


async def _import(settings: Settings, paths: list[str], defaults: bool) -> int:
    from bot.knowledge import ArticleError
    from bot.knowledge.service import Knowledge

    db = Database(settings.database_url)
    await db.open()
    knowledge = Knowledge(db)
    failed = 0
    try:
        await knowledge.ensure_defaults()
        if defaults:
            for result in await knowledge.import_defaults():
                print(f"shipped article {result.summary()}")
        for name in paths:
            path = Path(name)
            try:
                data = await asyncio.to_thread(path.read_bytes)
                result = await knowledge.import_bytes(data, filename=path.name, guild_id=None)
            except (OSError, ArticleError) as exc:
                failed += 1
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                print(f"{name}: not imported: {reason}", file=sys.stderr)
                continue
            print(f"{name}: {result.summary()}")
    finally:
        db.close()
    if failed:
        print(f"{failed} of {len(paths)} files could not be imported.", file=sys.stderr)
    return 1 if failed else 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    if not args.paths and not args.defaults:
        print(
            "cupola import: give article files to import, or --defaults for the shipped ones.",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(_import(settings, args.paths, args.defaults))


async def _ask(settings: Settings, question: str | None, as_json: bool) -> int:
    from bot.knowledge.service import Knowledge
    from bot.render.knowledge import answer_plain

    db = Database(settings.database_url)
    await db.open()
    knowledge = Knowledge(db)
    try:
        await knowledge.load()
        questions = [question] if question else (line.strip() for line in sys.stdin)
        for q in questions:
            if not q:
                continue
            answer = knowledge.answer(q, guild_id=None)
            if as_json:
                print(json.dumps(answer_json(q, answer), ensure_ascii=False), flush=True)
            else:
                print(answer_plain(answer, answer.language))
                if answer.found and answer.article_title:
                    date = f" ({answer.article_date.isoformat()})" if answer.article_date else ""
                    print(f"  -- {answer.article_title}{date}")
                print(flush=True)
    finally:
        db.close()
    return 0


def answer_json(question: str, answer: object) -> dict[str, object]:
    from bot.knowledge.qa import Answer
    from bot.render.knowledge import answer_plain

    assert isinstance(answer, Answer)
    return {
        "question": question,
        "answer": answer_plain(answer, answer.language),
        "value": answer.text if answer.found and answer.kind == "value" else None,
        "found": answer.found,
        "language": answer.language,
        "quote": answer.quote,
        "quote_language": answer.quote_language,
        "sources": list(answer.sources),
        "article": answer.article_title,
        "date": answer.article_date.isoformat() if answer.article_date else None,
    }


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_ask(settings, args.question, args.json))


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import run_console

    images = Path(args.images).expanduser() if args.images else None
    if images is not None and not images.is_dir():
        print(f"cupola console: --images {images}: not a directory", file=sys.stderr)
        return 2
    return asyncio.run(run_console(settings, images=images))


def cmd_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.__main__ import serve

    return asyncio.run(serve(port=args.port, token=args.token, guilds=args.guilds, shards=args.shards))


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", default=argparse.SUPPRESS, help="config file (default: $CUPOLA_CONFIG or ./config.toml)"
    )
    parser = argparse.ArgumentParser(
        prog="cupola", description="Cupola, a Discord bot for space news.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"cupola {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="connect to Discord and serve")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("sync", parents=[common], help="register the slash commands with Discord")
    p.add_argument("--guild", type=int, default=None, help="register in one server only (instant)")
    p.set_defaults(func=cmd_sync)
    p = sub.add_parser("invite", parents=[common], help="print the link that adds the bot to a server")
    p.add_argument(
        "--client-id", type=int, default=None, help="the application id (else read from the token)"
    )
    p.set_defaults(func=cmd_invite)
    p = sub.add_parser("db", parents=[common], help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = dbsub.add_parser("upgrade", parents=[common], help="apply database migrations")
    up.set_defaults(func=cmd_db)
    check = dbsub.add_parser("check", parents=[common], help="name stored rows that cannot be loaded")
    check.set_defaults(func=cmd_check)
    p = sub.add_parser("import", parents=[common], help="import article files as global content")
    p.add_argument("paths", nargs="*", metavar="PATH", help=".txt, .md or .html article files")
    p.add_argument("--defaults", action="store_true", help="(re-)import the articles shipped with Cupola")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("ask", parents=[common], help="ask a question from the terminal")
    p.add_argument("question", nargs="?", help="the question; without it, one question per line on stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("console", parents=[common], help="try the bot offline: a local sandbox and a prompt")
    p.add_argument(
        "--images",
        metavar="DIR",
        default=None,
        help="pictures for the shipped photos, offline: files named like the last part of each photo's URL",
    )
    p.set_defaults(func=cmd_console)
    p = sub.add_parser("sandbox", parents=[common], help="run the local Discord-compatible server")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--token", default="sandbox-token")
    p.add_argument("--guilds", type=int, default=1)
    p.add_argument("--shards", type=int, default=1)
    p.set_defaults(func=cmd_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"cupola: configuration problem:\n{exc}", file=sys.stderr)
        return 2
    quiet = ("console", "ask", "import", "sync", "invite")
    level = settings.logging.level if args.command not in quiet else "WARNING"
    setup_logging(level)
    try:
        return int(args.func(settings, args) or 0)
    except DatabaseError as exc:
        print(f"cupola: database: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = operator_error(exc, settings)
        if message is None:
            raise
        log.debug("operator error", exc_info=exc)
        print(f"cupola: {message}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------------------------------
# Operator errors: what went wrong and what to do, in one sentence, instead of a traceback.
# ---------------------------------------------------------------------------------------------
def operator_error(exc: BaseException, settings: Settings) -> str | None:
    """One sentence for the failures an operator can fix (no database, no network); None otherwise."""
    import aiohttp
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        return _database_unreachable(exc, settings)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerTimeoutError | TimeoutError):
        return _discord_unreachable(exc, settings)
    return None


def _first_reason(text: str) -> str:
    """The useful part of a driver message: 'connection ... failed: Connection refused' → 'Connection refused'."""
    line = text.strip().splitlines()[0] if text.strip() else text
    line = line.split("failed: ")[-1] if "failed: " in line else line
    return line.replace("FATAL:", "").strip(" .") or "no reason given"


def _database_unreachable(exc: BaseException, settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    orig = getattr(exc, "orig", None) or exc
    reason = _first_reason(str(orig))
    if settings.database.url:
        where = settings.describe_setting("database", "url")
    else:
        where = f"the default SQLite file under {settings.describe_setting('paths', 'data_dir')}"
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return (
            f"cannot open the SQLite database {url.database} ({reason}); it comes from {where}: "
            "make sure its directory exists and is writable, or change that setting."
        )
    host, port = url.host or "localhost", url.port or 5432
    return (
        f"cannot connect to PostgreSQL at {host}:{port} (database {url.database or '?'}): {reason}. "
        f"Start the server or correct {where}."
    )


def _discord_unreachable(exc: BaseException, settings: Settings) -> str:
    reason = getattr(exc, "os_error", None) or exc
    what = "Discord" if settings.discord.uses_discord else "the Discord API"
    return (
        f"cannot reach {what} at {settings.discord.api_base} ({type(reason).__name__}: {reason}); "
        f"check the network connection or correct {settings.describe_setting('discord', 'api_base')}."
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
