"""Operator mistakes end in one or two plain lines and a non-zero exit, never a traceback."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.sandbox import Sandbox
from tests.support.helpers import ROOT, clean_env, cupola


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_one_clear_message(code: int, err: str) -> str:
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, err
    return err


@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["ask", "how high is the ISS"], ["import", "--defaults"]]
)
async def test_postgres_not_running_names_host_port_and_setting(tmp_path: Path, command: list[str]) -> None:
    port = closed_port()
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "postgresql://cupola:s3cret@127.0.0.1:{port}/cupola"\n'
    )
    code, _, err = await cupola(*command, cwd=tmp_path)
    assert_one_clear_message(code, err)
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port} (database cupola)" in err
    assert "Connection refused" in err
    assert "[database] url (from config.toml)" in err
    assert "s3cret" not in err


async def test_postgres_url_from_the_environment_is_named(tmp_path: Path) -> None:
    port = closed_port()
    env = clean_env(CUPOLA_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/test")
    code, _, err = await cupola("db", "upgrade", cwd=tmp_path, env=env)
    assert_one_clear_message(code, err)
    assert "(from environment variable CUPOLA_DATABASE_URL)" in err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql://root@localhost/cupola",
            "the 'mysql' database is not supported; Cupola runs on SQLite or PostgreSQL",
        ),
        ("mysql+pymysql://root@localhost/cupola", "the 'mysql' database is not supported"),
        ("postgresql://u@localhost:port/db", "[database] url: cannot be parsed"),
        ("localhost/cupola", "[database] url: not a database URL; write sqlite:///PATH or postgresql://"),
    ],
)
async def test_bad_database_url_says_what_is_allowed(tmp_path: Path, url: str, expected: str) -> None:
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "config.toml", env={})
    assert expected in str(info.value)
    assert "pip install" not in str(info.value)  # mysql is not a missing-extra problem
    code, _, err = await cupola("db", "upgrade", cwd=tmp_path)
    assert code == 2 and "Traceback" not in err
    assert expected in err


def test_a_password_in_a_bad_url_is_not_repeated() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={"CUPOLA_DATABASE_URL": "mysql://root:hunter2@db/cupola"})
    assert "hunter2" not in str(info.value)
    assert "environment variable CUPOLA_DATABASE_URL: [database] url" in str(info.value)


async def test_run_without_network_to_discord(tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api/v10"
    (tmp_path / "config.toml").write_text(f'[discord]\ntoken = "t"\napi_base = "{api}"\n')
    code, _, err = await cupola("run", cwd=tmp_path)
    assert_one_clear_message(code, err)
    assert f"cannot reach the Discord API at {api}" in err
    assert "check the network connection or correct [discord] api_base (from config.toml)" in err


async def test_sync_for_a_server_the_bot_is_not_in(tmp_path: Path) -> None:
    sandbox = Sandbox(token="operator-token")
    sandbox.add_guild("Operators")
    async with sandbox:
        (tmp_path / "config.toml").write_text(
            f'[discord]\ntoken = "operator-token"\napi_base = "{sandbox.api_base}"\n'
            f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
        )
        code, _, err = await cupola("sync", "--guild", "123", cwd=tmp_path)
    assert_one_clear_message(code, err)
    assert "the bot is not in server 123 (Discord answered 404 Unknown Guild)" in err
    assert "scope=bot+applications.commands" in err


@pytest.mark.parametrize(
    ("var", "expected"),
    [
        (
            "CUPOLA_DISCORD_TOKN",
            "environment variable CUPOLA_DISCORD_TOKN: unknown setting [discord] tokn; allowed: token, "
            "api_base, gateway_url, sync_on_start, shard_count, shard_ids, global_rate_limit, process_name; did you mean CUPOLA_DISCORD_TOKEN?",
        ),
        ("CUPOLA_DATABSE_URL", "environment variable CUPOLA_DATABSE_URL: unknown section; variables are"),
        ("CUPOLA_CONFG", "did you mean CUPOLA_CONFIG?"),
    ],
)
def test_misspelt_environment_variables_are_reported(var: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={var: "x"})
    assert expected in str(info.value)


def test_known_and_harness_variables_are_accepted() -> None:
    settings = load_settings(
        None, env={"CUPOLA_PATHS_DATA_DIR": "d", "CUPOLA_TEST_PG_URL": "postgresql://x", "OTHER_THING": "1"}
    )
    assert settings.paths.data_dir == Path("d")
    assert settings.source_of("paths", "data_dir") == "environment variable CUPOLA_PATHS_DATA_DIR"


async def test_cli_reports_a_misspelt_variable(tmp_path: Path) -> None:
    code, _, err = await cupola("run", cwd=tmp_path, env=clean_env(CUPOLA_LOGGING_LEVL="DEBUG"))
    assert code == 2 and "Traceback" not in err
    assert "CUPOLA_LOGGING_LEVL: unknown setting [logging] levl" in err
    assert "did you mean CUPOLA_LOGGING_LEVEL?" in err


async def test_invite_prints_the_oauth2_url_with_scopes_and_permissions(tmp_path: Path) -> None:
    code, out, err = await cupola("invite", "--client-id", "123456789012345678", cwd=tmp_path)
    assert code == 0, err
    url = out.splitlines()[0]
    assert url == (
        "https://discord.com/oauth2/authorize?client_id=123456789012345678"
        "&scope=bot+applications.commands&permissions=117760"
    )
    for name in ("View Channel", "Send Messages", "Embed Links", "Attach Files", "Read Message History"):
        assert name in out
    # Without --client-id the id comes from the token (its first part is the bot's id in base64).
    token = base64.b64encode(b"223456789012345678").decode().rstrip("=") + ".G1a2b3.secretpart"
    code, out, err = await cupola("invite", cwd=tmp_path, env=clean_env(DISCORD_TOKEN=token))
    assert code == 0, err
    assert "client_id=223456789012345678&" in out and "secretpart" not in out + err
    code, _, err = await cupola("invite", cwd=tmp_path)
    assert code == 2 and "--client-id" in err


async def test_run_without_token_prints_an_invite_with_both_scopes(tmp_path: Path) -> None:
    code, _, err = await cupola("run", cwd=tmp_path)
    assert code == 2
    assert "scope=bot+applications.commands&permissions=117760" in err
    assert "cupola invite" in err and "cupola sync" in err


def test_readme_explains_every_permission_in_the_invite() -> None:
    from bot.invite import BOT_PERMISSIONS

    readme = (ROOT / "README.md").read_text()
    for name in BOT_PERMISSIONS:
        assert name.replace("_", " ").title() in readme
    assert "cupola invite" in readme
