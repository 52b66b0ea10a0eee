"""An audit line's action code is said in the reader's language (issue 12: no English to zh-CN readers)."""

from __future__ import annotations

from bot.render.admin import action_text


def test_audit_actions_are_said_in_chinese_and_stay_as_stored_in_english() -> None:
    assert action_text("fact add", "zh") == "添加事实"
    assert action_text("article import (new)", "zh") == "导入文章"
    assert action_text("potd.set", "zh") == "设置每日图片"
    assert action_text("fact add", "en") == "fact add"
    assert action_text("something a newer version wrote", "zh") == "something a newer version wrote"
