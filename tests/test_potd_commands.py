"""/potd set | off | status | now through the sandbox: validation, admin checks, replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core import Cupola
from bot.db import Database
from bot.sandbox import Sandbox
from tests.support.helpers import (
    ImageServer,
    clear_catalog,
    controlled,
    field_values,
    footer,
    potd_service,
    seed_url_photos,
)


def ts(when: datetime) -> str:
    value = int(when.timestamp())
    return f"<t:{value}:F> (<t:{value}:R>)"


async def test_set_status_off(bot: Cupola, sandbox: Sandbox) -> None:
    potd_service(bot)
    controlled(bot, datetime(2026, 6, 1, 5, 0, tzinfo=UTC))  # 07:00 in Paris
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    off = await sandbox.invoke("potd status")
    assert off.reply["content"] == "The photo of the day is off here. An admin can turn it on with /potd set."
    done = await sandbox.invoke("potd set", {"channel": channel, "time": "8:30", "timezone": "europe/paris"})
    next_post = datetime(2026, 6, 1, 6, 30, tzinfo=UTC)
    assert done.reply["content"] == (
        f"The photo of the day will be posted in <#{channel.id}> every day at 08:30 (Europe/Paris). "
        f"Next post: {ts(next_post)}."
    )
    assert done.reply["flags"] & 64
    status = await sandbox.invoke("potd status")
    assert status.reply["content"] == (
        f"The photo of the day is posted in <#{channel.id}> every day at 08:30 (Europe/Paris).\n"
        f"Next post: {ts(next_post)}."
    )
    chinese = await sandbox.invoke("potd status", locale="zh-CN")
    assert chinese.reply["content"].startswith(f"每日一图每天 08:30（Europe/Paris）发布到 <#{channel.id}>。")
    assert (await sandbox.invoke("potd off")).reply["content"] == (
        "The photo of the day is off. Turn it on again with /potd set."
    )
    assert (await sandbox.invoke("potd off")).reply["content"] == "The photo of the day was already off."
    assert (
        (await sandbox.invoke("potd status")).reply["content"].startswith("The photo of the day is off here.")
    )


async def test_set_after_todays_time_starts_tomorrow(bot: Cupola, sandbox: Sandbox) -> None:
    potd_service(bot)
    controlled(bot, datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    channel = sandbox.default_channel(next(iter(sandbox.guilds.values())))
    done = await sandbox.invoke("potd set", {"channel": channel, "time": "08:30"})
    assert done.reply["content"].endswith(
        f"at 08:30 (UTC). Next post: {ts(datetime(2026, 6, 2, 8, 30, tzinfo=UTC))}."
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"time": "8am"}, "time must look like 08:30 (24-hour, 00:00 to 23:59), not '8am'."),
        ({"time": "25:00"}, "time must look like 08:30 (24-hour, 00:00 to 23:59), not '25:00'."),
        (
            {"time": "08:30", "timezone": "Mars/Olympus"},
            "timezone must be an IANA zone name such as Europe/Paris, America/New_York or Asia/Shanghai, "
            "not 'Mars/Olympus'. Start typing and pick one from the list.",
        ),
    ],
)
async def test_bad_values_are_refused_with_the_allowed_form(
    bot: Cupola, sandbox: Sandbox, options: dict[str, str], expected: str
) -> None:
    channel = sandbox.default_channel(next(iter(sandbox.guilds.values())))
    record = await sandbox.invoke("potd set", {"channel": channel, **options})
    assert record.reply["content"] == expected
    assert record.reply["flags"] & 64
    assert (
        (await sandbox.invoke("potd status")).reply["content"].startswith("The photo of the day is off here.")
    )


async def test_timezone_autocomplete(bot: Cupola, sandbox: Sandbox) -> None:
    channel = sandbox.default_channel(next(iter(sandbox.guilds.values())))
    choices = await sandbox.autocomplete(
        "potd set", {"channel": channel, "time": "08:30", "timezone": "new_y"}, focused="timezone"
    )
    assert {"name": "America/New_York", "value": "America/New_York"} in choices
    many = await sandbox.autocomplete("potd set", {"timezone": "a"}, focused="timezone")
    assert len(many) == 25


async def test_members_are_refused_even_with_crafted_interactions(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    potd_service(bot)
    await seed_url_photos(db, image_server, 2)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    member = sandbox.add_user("mallory", guild=guild)
    refusal = "Only server admins (Manage Server permission) can use this command."
    for command, options in (
        ("potd set", {"channel": channel, "time": "08:30"}),
        ("potd off", {}),
        ("potd now", {}),
    ):
        record = await sandbox.invoke(command, options, user=member)
        assert record.reply["content"] == refusal, command
        assert record.reply["flags"] & 64
    assert (
        (await sandbox.invoke("potd status", user=member))
        .reply["content"]
        .startswith("The photo of the day is off here.")
    )
    assert not [m for m in sandbox.channel_messages(channel) if "Photo of the day" in footer(m)]
    # Admins (a role with Administrator) may.
    admin = sandbox.add_user("alice", guild=guild, roles=[sandbox.role(guild, "Admins")])
    record = await sandbox.invoke("potd set", {"channel": channel, "time": "08:30"}, user=admin)
    assert record.reply["content"].startswith("The photo of the day will be posted")


async def test_now_posts_an_extra_photo_that_does_not_count(
    bot: Cupola, sandbox: Sandbox, db: Database, image_server: ImageServer
) -> None:
    service = potd_service(bot)
    ids = await seed_url_photos(db, image_server, 3)
    guild = next(iter(sandbox.guilds.values()))
    channel = sandbox.default_channel(guild)
    clock = controlled(bot, datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    not_set = await sandbox.invoke("potd now")
    assert not_set.reply["content"] == "Set a channel first with /potd set; /potd now posts there."
    await sandbox.invoke("potd set", {"channel": channel, "time": "08:30"})
    record = await sandbox.invoke("potd now")
    [extra] = sandbox.channel_messages(channel)
    extra_id = int(footer(extra).rsplit("#", 1)[1])
    assert footer(extra) == f"Extra photo, posted by an admin · #{extra_id}"
    assert field_values(extra)["Credit"] == "NASA" and extra["attachments"]
    assert record.reply["content"] == (
        f"Posted photo #{extra_id} in <#{channel.id}>. This extra post does not count as today's photo of "
        f"the day; the next scheduled one is {ts(datetime(2026, 6, 1, 8, 30, tzinfo=UTC))}."
    )
    assert record.reply["flags"] & 64
    # The scheduled post still comes, with a different photo (same rotation).
    clock.set(datetime(2026, 6, 1, 8, 30, tzinfo=UTC))
    [outcome] = await service.tick()
    assert outcome.status == "sent" and outcome.photo_id != extra_id and outcome.photo_id in ids
    assert len(sandbox.channel_messages(channel)) == 2
    status = await sandbox.invoke("potd status")
    assert status.reply["content"].endswith("Today's photo has been posted.")


async def test_now_without_photos(bot: Cupola, sandbox: Sandbox, db: Database) -> None:
    potd_service(bot)
    await db.run(clear_catalog)
    channel = sandbox.default_channel(next(iter(sandbox.guilds.values())))
    await sandbox.invoke("potd set", {"channel": channel, "time": "08:30"})
    record = await sandbox.invoke("potd now")
    assert record.reply["content"] == "There is no photo with a picture to post yet."
