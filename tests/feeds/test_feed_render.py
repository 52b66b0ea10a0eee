"""Rendering announcements and replies: Discord's limits, escaping, both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import Entry
from bot.feeds.policy import FAILURE_CODES as _ERRORS
from bot.feeds.preview import Preview
from bot.feeds.service import refusal_key
from bot.i18n import MESSAGES, t
from bot.render.feeds import EMBED_TOTAL, album_message, describe_error, explain, paused_notice


def entry(**overrides: object) -> Entry:
    values: dict[str, object] = {
        "key": "id:1",
        "title": "ISS flyaround",
        "link": "https://photos.example.org/album/1",
        "published": datetime(2025, 6, 3, 12, 0, tzinfo=UTC),
        "description_text": "Seen from Crew Dragon.",
        "credit": "NASA/Jane Doe",
    }
    values.update(overrides)
    return Entry(**values)  # type: ignore[arg-type]


def test_announcement_fits_discords_limits_whatever_the_feed_says() -> None:
    huge = entry(title="T" * 1000, description_text="word " * 3000, credit="C" * 3000)
    message = album_message(huge, feed_title="F" * 600, role_id=None, preview=Preview(url="https://x/y.jpg"))
    embed = message.embed
    assert embed is not None
    assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed.author.name or "") <= 256
    assert len(embed) <= EMBED_TOTAL
    assert embed.image.url == "https://x/y.jpg" and message.file is None
    assert message.allowed_mentions.to_dict() == {"parse": []}


def test_announcement_with_a_preview_file_and_a_role_ping() -> None:
    message = album_message(entry(), feed_title="Albums", role_id=42, preview=Preview(b"jpeg", "preview.jpg"))
    assert message.content == "<@&42>"
    assert message.allowed_mentions.to_dict() == {"parse": [], "roles": [42]}
    assert message.file is not None and message.file.filename == "preview.jpg"
    assert message.embed is not None and message.embed.image.url == "attachment://preview.jpg"
    assert [f.name for f in message.embed.fields] == ["Published", "Credit"]
    zh = album_message(entry(title=""), feed_title=None, role_id=None, preview=None, lang="zh")
    assert zh.embed is not None and zh.embed.title == "无标题相册"
    assert [f.name for f in zh.embed.fields] == ["发布时间", "版权"]


@pytest.mark.parametrize("code", [*_ERRORS, "http_404", "http_418", "http_503", "internal"])
def test_every_failure_is_explained_in_both_languages(code: str) -> None:
    assert explain(code, "en") == describe_error(code)
    chinese = explain(code, "zh")
    assert chinese and chinese != describe_error(code)


def test_catalog_english_matches_the_policy_wording() -> None:
    for code in _ERRORS:
        assert t(f"feeds.why.{code}", "en") == describe_error(code)
    assert t("feeds.why.other", "en") == describe_error("no-such-code")


@pytest.mark.parametrize(
    ("code", "status", "key"),
    [
        ("http_error", 404, "feeds.refuse.http_404"),
        ("http_error", 401, "feeds.refuse.http_denied"),
        ("http_error", 502, "feeds.refuse.http_5xx"),
        ("http_error", 418, "feeds.refuse.http"),
        ("entities", None, "feeds.refuse.entities"),
        ("something_new", None, "feeds.refuse.connection_failed"),
    ],
)
def test_refusal_keys_exist(code: str, status: int | None, key: str) -> None:
    found, params = refusal_key(code, status)
    assert found == key and key in MESSAGES
    assert t(found, "zh", **params)


def test_paused_notice_is_plain_text_without_pings() -> None:
    notice = paused_notice({"feed_title": "@everyone albums", "failures": 5, "code": "http_410"}, "en")
    assert notice.content is not None
    assert notice.content.startswith("Cupola stopped checking the feed **@\u200beveryone albums** after 5")
    assert "410 Gone: the feed has been removed for good" in notice.content
    assert notice.allowed_mentions.to_dict() == {"parse": []}
