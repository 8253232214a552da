"""home_refusal: only interactions from a home server may change the knowledge base."""

from __future__ import annotations

from bot.service.home import HOME_UNSET, NOT_HOME, home_refusal


def test_home_server_is_allowed() -> None:
    assert home_refusal(1, frozenset({1, 2})) is None
    assert home_refusal(2, frozenset({1, 2})) is None


def test_other_servers_and_dms_are_refused() -> None:
    assert home_refusal(3, frozenset({1, 2})) == NOT_HOME
    assert home_refusal(None, frozenset({1})) == NOT_HOME


def test_unset_refuses_everywhere_naming_the_variable() -> None:
    for guild in (1, None):
        refusal = home_refusal(guild, frozenset())
        assert refusal == HOME_UNSET
        assert "HOME_GUILD_IDS" in refusal
        assert "\n" not in refusal


def test_answered_text_is_kept_in_home_servers_and_dms_only() -> None:
    from bot.service.home import kept_text

    assert kept_text(1, frozenset({1}), "hi") == "hi"
    assert kept_text(None, frozenset({1}), "hi") == "hi"
    assert kept_text(2, frozenset({1}), "hi") is None
    assert kept_text(2, frozenset(), "hi") is None
