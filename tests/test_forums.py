"""Forum posts (issue 15): the setting and the text the matcher reads."""

from __future__ import annotations

import pytest

from bot.forums import post_text
from bot.settings import Settings, SettingsError


def test_forum_channel_ids_setting() -> None:
    assert Settings.from_env({}).forum_channel_ids == frozenset()
    s = Settings.from_env({"FORUM_CHANNEL_IDS": " 11, 22 ,,33 "})
    assert s.forum_channel_ids == {11, 22, 33}


@pytest.mark.parametrize("value", ["12,abc", "-5", "#questions"])
def test_invalid_forum_channel_ids_name_the_variable(value: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"FORUM_CHANNEL_IDS": value})
    assert "FORUM_CHANNEL_IDS" in str(info.value)
    assert "Discord ids" in str(info.value)


def test_post_text_is_the_title_then_the_first_message() -> None:
    assert post_text(" Too busy? ", "I never have time.\n") == "Too busy?\nI never have time."
    assert post_text("Too busy?", "  ") == "Too busy?"
    assert post_text("", "only the message") == "only the message"
