from __future__ import annotations

from bot import __version__
from bot.content import count_content
from bot.core import Cupola
from bot.sandbox import Sandbox


async def test_about_end_to_end(bot: Cupola, sandbox: Sandbox) -> None:
    record = await sandbox.invoke("about")
    reply = record.reply
    embed = reply["embeds"][0]
    assert embed["title"] == "About Cupola"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Version"] == __version__
    assert fields["Servers"] == "1"
    assert fields["Shards"] == "1"
    # The shipped articles were loaded on first start.
    c = await bot.db.run(count_content, guild_id=None)
    assert c.articles == 2 and c.crew == 7 and c.photos >= 10
    assert fields["Content"] == f"2 articles · {c.facts} facts · 7 crew · {c.photos} photos"
    assert not reply["flags"] & 64
    # The reply went out as the interaction callback, once.
    callbacks = sandbox.calls_to("POST", "/interactions/")
    assert [c.status for c in callbacks] == [200]
    assert callbacks[0].json["type"] == 4


async def test_about_in_chinese(bot: Cupola, sandbox: Sandbox) -> None:
    record = await sandbox.invoke("about", locale="zh-CN")
    embed = record.reply["embeds"][0]
    assert embed["title"] == "关于 Cupola"
    assert "篇文章" in {f["name"]: f["value"] for f in embed["fields"]}["内容"]


async def test_about_has_chinese_localization(bot: Cupola, sandbox: Sandbox) -> None:
    about = next(c for c in sandbox.commands[None] if c["name"] == "about")
    assert about["name_localizations"] == {"zh-CN": "关于"}
    assert about["description_localizations"]["zh-CN"].startswith("机器人")


async def test_content_counts_cache_expires_and_invalidates(db) -> None:  # type: ignore[no-untyped-def]
    from bot.content import CountsCache
    from bot.models import Fact

    now = [0.0]
    cache = CountsCache(db, ttl=10, clock=lambda: now[0])
    assert (await cache.get(1)).facts == 0

    def add_fact(*, session) -> None:  # type: ignore[no-untyped-def]
        session.add(Fact(guild_id=1, key="number", text="The ISS has 16 solar array wings."))

    await db.run(add_fact)
    assert (await cache.get(1)).facts == 0  # cached
    cache.invalidate(1)
    assert (await cache.get(1)).facts == 1
    await db.run(add_fact)
    now[0] = 11.0
    assert (await cache.get(1)).facts == 2  # expired
    assert (await cache.get(2)).facts == 0  # another guild never sees guild 1's facts


async def test_counts_for_thousands_of_servers_take_one_query(db) -> None:  # type: ignore[no-untyped-def]
    """Issue 11: /about asked from 10,000 servers missed a per-server cache 10,000 times."""
    from bot.content import CountsCache
    from bot.models import Fact

    def add_facts(*, session) -> None:  # type: ignore[no-untyped-def]
        session.add(Fact(guild_id=None, key="orbit", text="The ISS orbits every 92 minutes."))
        session.add(Fact(guild_id=7, key="number", text="The ISS has 16 solar array wings."))

    await db.run(add_facts)
    queries = 0
    original = db.run

    async def counting_run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal queries
        queries += 1
        return await original(fn, *args, **kwargs)

    db.run = counting_run
    try:
        cache = CountsCache(db, ttl=10, clock=lambda: 0.0)
        facts = [(await cache.get(guild)).facts for guild in range(1, 10_001)]
    finally:
        db.run = original
    assert queries == 1
    assert facts[6] == 2 and facts.count(1) == 9_999  # guild 7 sees its own fact, nobody else does
