"""Settings: config.toml, then CUPOLA_<SECTION>_<NAME> environment variables, then DISCORD_TOKEN.

Every problem is reported by setting name and by where the value came from, never as a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

DISCORD_API = "https://discord.com/api/v10"
CONFIG_ENV = "CUPOLA_CONFIG"
ENV_PREFIX = "CUPOLA_"
# Variables with the prefix that are not settings: the config path and the test harness's own.
ENV_NOT_SETTINGS = (CONFIG_ENV, "CUPOLA_CACHE_DIR")  # the cache folder is read before settings load
ENV_NOT_SETTINGS_PREFIXES = ("CUPOLA_TEST_", "CUPOLA_BENCH_")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
DATABASE_URL_HELP = "sqlite:///PATH or postgresql://user:password@host:5432/dbname"


class ConfigError(Exception):
    """A setting is missing, unknown or invalid; the message names it and its source."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DiscordSettings(_Section):
    token: str = Field("", repr=False)
    api_base: str = DISCORD_API
    gateway_url: str | None = None
    sync_on_start: Literal["off", "global"] | int = "off"
    shard_count: int | None = Field(None, ge=1)
    shard_ids: list[int] | None = None
    # Discord's global REST limit for this bot (requests/s), shared by all its processes.
    global_rate_limit: int = Field(50, ge=1, le=10_000)
    # A stable name for this process among its peers (default: host and shard ids).
    process_name: str | None = Field(None, min_length=1, max_length=40)

    @field_validator("api_base", "gateway_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value is None else value
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be a URL starting with http://, https://, ws:// or wss://")
        return value.rstrip("/")

    @field_validator("process_name", mode="before")
    @classmethod
    def _process_name(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: Any) -> Any:
        if isinstance(value, str | int):  # "0" or 0 from the environment: one shard
            return [int(part) for part in str(value).split(",") if part.strip()]
        return value

    @field_validator("sync_on_start", mode="before")
    @classmethod
    def _sync(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, str) and value not in ("off", "global"):
            raise ValueError('must be "off", "global", or a guild id (a number)')
        return value

    @property
    def uses_discord(self) -> bool:
        return self.api_base == DISCORD_API


class DatabaseSettings(_Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """Refuse at load time what SQLAlchemy could not use, naming what is allowed."""
        value = value.strip()
        if not value:
            return value
        scheme, sep, _ = value.partition("://")
        if not sep or not scheme:
            raise ValueError(f"not a database URL; write {DATABASE_URL_HELP}")
        if scheme.lower() not in DATABASE_SCHEMES:
            backend = scheme.split("+", 1)[0]
            raise ValueError(
                f"the {backend!r} database is not supported; Cupola runs on SQLite or PostgreSQL "
                f"({DATABASE_URL_HELP})"
            )
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(value)
            _ = parsed.port  # a non-numeric port fails only when read
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"cannot be parsed ({exc}); write {DATABASE_URL_HELP}") from None
        return value


class PathSettings(_Section):
    data_dir: Path = Path("data")


class NetSettings(_Section):
    allow_private_addresses: bool = False


class FeedSettings(_Section):
    poll_interval_seconds: int = Field(600, ge=1)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(_Section):
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    net: NetSettings = Field(default_factory=NetSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    _sources: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.paths.data_dir / 'cupola.db'}"

    def source_of(self, section: str, name: str) -> str:
        """Where a setting came from: "config.toml", "environment variable CUPOLA_…", or "default"."""
        return self._sources.get((section, name), "default")

    def describe_setting(self, section: str, name: str) -> str:
        """ "[database] url (from config.toml)" for operator messages."""
        source = self.source_of(section, name)
        return f"[{section}] {name}" + ("" if source == "default" else f" (from {source})")


def _section_fields() -> dict[str, type[BaseModel]]:
    return {name: info.annotation for name, info in Settings.model_fields.items()}  # type: ignore[misc]


def _env_overrides(env: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
    _check_env_names(env)
    values: dict[str, dict[str, Any]] = {}
    sources: dict[tuple[str, str], str] = {}
    for section, model in _section_fields().items():
        for name in model.model_fields:
            var = f"CUPOLA_{section}_{name}".upper()
            if var in env:
                raw = env[var]
                values.setdefault(section, {})[name] = _parse_env_value(raw)
                sources[(section, name)] = f"environment variable {var}"
    if env.get("DISCORD_TOKEN") and ("discord", "token") not in sources:
        values.setdefault("discord", {})["token"] = env["DISCORD_TOKEN"]
        sources[("discord", "token")] = "environment variable DISCORD_TOKEN"
    return values, sources


def _known_env_names() -> list[str]:
    return [
        f"{ENV_PREFIX}{section}_{name}".upper()
        for section, model in _section_fields().items()
        for name in model.model_fields
    ]


def _check_env_names(env: Mapping[str, str]) -> None:
    """A misspelt CUPOLA_* variable is an error, as an unknown setting in the file is."""
    known = _known_env_names()
    sections = _section_fields()
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var in known or var in ENV_NOT_SETTINGS:
            continue
        if var.startswith(ENV_NOT_SETTINGS_PREFIXES):
            continue
        rest = var[len(ENV_PREFIX) :].lower()
        close = difflib.get_close_matches(var, known + list(ENV_NOT_SETTINGS), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        section = next((s for s in sections if rest.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(
                f"environment variable {var}: unknown section; variables are "
                f"CUPOLA_<SECTION>_<NAME> with sections {', '.join(sections)}{hint}"
            )
        name = rest[len(section) + 1 :]
        raise ConfigError(
            f"environment variable {var}: unknown setting [{section}] {name}; "
            f"allowed: {_describe(sections[section])}{hint}"
        )


def _parse_env_value(raw: str) -> Any:
    """Lists come as comma-separated values ("0,1,2"); everything else pydantic coerces."""
    if "," in raw and all(part.strip().isdigit() for part in raw.split(",")):
        return [int(part) for part in raw.split(",")]
    return raw


def _describe(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def load_settings(path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (explicit path, $CUPOLA_CONFIG, or ./config.toml if present) and the environment."""
    env = os.environ if env is None else env
    explicit = path or env.get(CONFIG_ENV)
    file_path = Path(explicit) if explicit else Path("config.toml")
    data: dict[str, Any] = {}
    where = "defaults"
    if file_path.is_file():
        where = str(file_path)
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file_path}: not valid TOML ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file_path}: cannot be read ({exc})") from None
    elif explicit:
        raise ConfigError(f"config file not found: {file_path} (from {'--config' if path else CONFIG_ENV})")

    sections = _section_fields()
    sources: dict[tuple[str, str], str] = {}
    for section, values in data.items():
        if section not in sections:
            raise ConfigError(
                f"{where}: unknown section [{section}]; allowed sections: {', '.join(sections)}"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: [{section}] must be a table of settings, not a value")
        for name in values:
            if name not in sections[section].model_fields:
                raise ConfigError(
                    f"{where}: unknown setting [{section}] {name}; allowed: {_describe(sections[section])}"
                )
            sources[(section, name)] = where
    overrides, env_sources = _env_overrides(env)
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    sources.update(env_sources)
    # An empty gateway_url or shard list in the file means "not set".
    discord_values = data.get("discord", {})
    for key in ("gateway_url", "shard_count", "shard_ids"):
        if discord_values.get(key) in ("", [], 0):
            discord_values[key] = None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, sources, where)) from None
    settings._sources = dict(sources)
    if settings.discord.shard_ids and settings.discord.shard_count is None:
        raise ConfigError(f"{where}: [discord] shard_ids needs [discord] shard_count as well")
    if settings.discord.shard_ids and settings.discord.shard_count is not None:
        bad = [i for i in settings.discord.shard_ids if not 0 <= i < settings.discord.shard_count]
        if bad:
            raise ConfigError(
                f"{where}: [discord] shard_ids {bad} are outside 0..{settings.discord.shard_count - 1}"
            )
    return settings


_PASSWORD_RE = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def _explain(exc: ValidationError, sources: dict[tuple[str, str], str], where: str) -> str:
    # A union reports one error per member; the first one per setting says enough.
    lines: dict[tuple[str, str], str] = {}
    for err in exc.errors():
        section, name = ([str(p) for p in err["loc"]] + ["", ""])[:2]
        message = err["msg"].removeprefix("Value error, ")
        if "literal" in err["type"] and "ctx" in err:
            message = f"allowed: {err['ctx']['expected']}"
        source = sources.get((section, name), where)
        got = err.get("input")
        if isinstance(got, str):
            got = _PASSWORD_RE.sub(r"\1***@", got)  # a database URL's password never reaches a log
        lines.setdefault((section, name), f"{source}: [{section}] {name}: {message} (got {got!r})")
    return "\n".join(lines.values())
