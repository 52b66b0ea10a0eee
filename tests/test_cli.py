"""The cupola command as an operator runs it: real subprocesses, real config files."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.sandbox import Sandbox
from tests.support.helpers import ROOT, clean_env, cupola


def test_config_defaults_and_env_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[discord]\ntoken = "from-file"\nsync_on_start = "global"\n[paths]\ndata_dir = "d"\n')
    settings = load_settings(
        cfg, env={"DISCORD_TOKEN": "ignored-when-file-has-one", "CUPOLA_DISCORD_TOKEN": "env"}
    )
    assert settings.discord.token == "env"
    assert settings.discord.sync_on_start == "global"
    assert settings.database_url == "sqlite:///d/cupola.db"
    assert settings.net.allow_private_addresses is False
    assert load_settings(cfg, env={"CUPOLA_DISCORD_SYNC_ON_START": "1234"}).discord.sync_on_start == 1234
    assert "from-file" not in repr(settings)  # the token never shows in logs or reprs


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[discord]\ntokn = "x"\n', "unknown setting [discord] tokn; allowed: token, api_base"),
        ("[dscord]\n", "unknown section [dscord]"),
        (
            '[discord]\nsync_on_start = "sometimes"\n',
            '[discord] sync_on_start: must be "off", "global", or a guild id',
        ),
        ('[discord]\nshard_count = "many"\n', "[discord] shard_count: Input should be a valid integer"),
        (
            '[net]\nallow_private_addresses = "maybe"\n',
            "[net] allow_private_addresses: Input should be a valid boolean",
        ),
        ('[discord]\napi_base = "ftp://x"\n', "[discord] api_base: must be a URL"),
        ("[discord]\nshard_ids = [0, 1]\n", "shard_ids needs [discord] shard_count"),
        ("[discord]\nshard_count = 2\nshard_ids = [0, 5]\n", "shard_ids [5] are outside 0..1"),
        ("token = \n", "not valid TOML"),
    ],
)
def test_config_errors_name_the_setting_and_file(tmp_path: Path, body: str, expected: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert expected in str(info.value)
    assert str(cfg) in str(info.value)


def test_env_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="environment variable CUPOLA_DISCORD_SHARD_COUNT: \\[discord\\] shard_count"
    ):
        load_settings(None, env={"CUPOLA_DISCORD_SHARD_COUNT": "lots"})


async def test_cli_reports_config_problem_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[discord]\ntokn = "x"\n')
    code, _, err = await cupola("--config", "bad.toml", "run", cwd=tmp_path)
    assert code == 2
    assert "bad.toml: unknown setting [discord] tokn" in err
    assert "Traceback" not in err
    code, _, err = await cupola("run", "--config", "missing.toml", cwd=tmp_path)
    assert code == 2 and "config file not found: missing.toml" in err


async def test_run_without_token_explains(tmp_path: Path) -> None:
    code, _, err = await cupola("run", cwd=tmp_path)
    assert code == 2
    assert "needs a Discord bot token" in err
    assert "cupola console" in err


async def test_db_upgrade(tmp_path: Path) -> None:
    code, out, err = await cupola("db", "upgrade", cwd=tmp_path)
    assert code == 0, err
    assert "is at revision" in out
    assert (tmp_path / "data" / "cupola.db").exists()


async def test_console_answers_about_offline(tmp_path: Path) -> None:
    lines = "/about\nlang zh\n/about\n/nope\n1\nhelp\nquit\n"
    code, out, err = await cupola("console", cwd=tmp_path, stdin=lines.encode())
    assert code == 0, err
    assert "┌ About Cupola" in out
    assert "│ • Version: 0.1.0" in out
    assert "┌ 关于 Cupola" in out
    assert "unknown command /nope" in out
    assert "There is no button to press." in out
    assert "/about" in out.split("Commands (")[1]


async def test_run_against_a_separately_started_sandbox(tmp_path: Path) -> None:
    """`cupola run --config FILE` with api_base at a Discord-compatible server: logs in, syncs, answers."""
    sandbox = Sandbox(token="operator-token")
    sandbox.add_guild("Operators")
    async with sandbox:
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[discord]\ntoken = "operator-token"\napi_base = "{sandbox.api_base}"\nsync_on_start = "global"\n'
            f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(cfg),
            cwd=tmp_path,
            env=clean_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await sandbox.wait_for_commands(timeout=60)
            await sandbox.wait_for_connections(1, timeout=60)
            record = await sandbox.invoke("about", timeout=30)
            assert record.reply["embeds"][0]["title"] == "About Cupola"
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        assert "synced" in err.decode()
        assert "operator-token" not in err.decode()


def test_example_config_documents_every_setting_with_its_default() -> None:
    import tomllib

    from bot.config import Settings

    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    defaults = Settings()
    for section, model in Settings.model_fields.items():
        for name in model.annotation.model_fields:  # type: ignore[union-attr]
            assert name in example.get(section, {}), f"config.example.toml lacks [{section}] {name}"
    loaded = load_settings(ROOT / "config.example.toml", env={})
    assert loaded.model_dump() == defaults.model_dump()


async def test_sync_registers_commands_globally_or_in_one_guild(tmp_path: Path) -> None:
    sandbox = Sandbox(token="operator-token")
    guild = sandbox.add_guild("Operators")
    async with sandbox:
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[discord]\ntoken = "operator-token"\napi_base = "{sandbox.api_base}"\n'
            f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
        )
        code, out, err = await cupola("sync", "--guild", str(guild.id), "--config", str(cfg), cwd=tmp_path)
        assert code == 0, err
        assert f"commands in guild {guild.id}" in out and "/about" in out
        assert {c["name"] for c in sandbox.commands[guild.id]} >= {"about", "iss", "crew", "photo", "admin"}
        assert sandbox.commands[None] == []
        code, out, err = await cupola("sync", "--config", str(cfg), cwd=tmp_path)
        assert code == 0, err
        assert "globally" in out
        assert {c["name"] for c in sandbox.commands[None]} >= {"about", "iss", "crew", "photo", "admin"}
