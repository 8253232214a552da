"""End to end (issue 11, section 4): failed Applies, hand edits in the history, paths never
shown to moderators, and the confirmation before ``/kb unanswered-clear`` deletes anything."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bot.kb import store
from tests.cogs.test_moderation_e2e import (
    BUSY,
    EPHEMERAL,
    JSON,
    NEW_ANSWER,
    Mods,
    ask,
    buttons,
    edit_answer,
    kb,
    kb_bytes,
    mods,
    press,
    preview_and,
    reply,
    text_of,
)
from tests.fakediscord import InteractionHandle

__all__ = ["mods"]  # the fixture, re-exported for pytest

pytestmark = pytest.mark.e2e


def versions(m: Mods) -> list[store.Version]:
    return store.list_versions(store.history_dir_of(m.env.data_dir))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
async def test_failed_apply_keeps_no_version_and_shows_no_path(
    mods: Mods, code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = mods
    before = kb_bytes(m)
    edited = edit_answer(before["objections.yaml"].decode(), "too-busy", NEW_ANSWER).encode()
    real = store._write_synced

    def refusing(path: Path, data: bytes) -> None:
        if path.parent == m.kb_dir:  # the disk is full / the directory is read-only
            raise OSError(code, os.strerror(code), str(path))
        real(path, data)

    async with m.run() as bot:
        preview = await preview_and(m, m.admin, edited)
        monkeypatch.setattr(store, "_write_synced", refusing)
        applied = await press(m, preview, "Apply", m.admin)
        text = text_of((await applied.wait_followups())[0])
        assert "nothing was changed" in text
        assert str(m.env.data_dir.parent) not in text
        assert "/" not in text.replace("/kb", "")  # no path of any kind
        assert NEW_ANSWER not in await ask(m, bot)
        history = text_of(await reply(await kb(m, "history", m.admin)))
        assert "No changes" in history
    assert kb_bytes(m) == before
    assert versions(m) == []


async def test_reload_and_check_never_show_the_servers_paths(mods: Mods) -> None:
    m = mods
    moved = m.kb_dir.with_name("elsewhere")
    async with m.run():
        m.kb_dir.rename(moved)
        try:
            reloaded = text_of(await reply(await kb(m, "reload", m.admin)))
            checked = text_of(await reply(await kb(m, "check", m.admin)))
        finally:
            moved.rename(m.kb_dir)
    for text in (reloaded, checked):
        assert "does not exist" in text, text
        assert f"{m.kb_dir.name}/" in text
        assert str(m.kb_dir.parent) not in text


async def test_hand_edit_is_saved_as_a_version_and_can_be_rolled_back(mods: Mods) -> None:
    m = mods
    path = m.kb_dir / "objections.yaml"
    original = path.read_bytes()
    async with m.run() as bot:
        path.write_text(edit_answer(original.decode(), "too-busy", NEW_ANSWER))
        reloaded = text_of(await reply(await kb(m, "reload", m.admin)))
        assert "too-busy" in reloaded, reloaded
        assert NEW_ANSWER in await ask(m, bot, BUSY)

        saved = versions(m)
        assert [v.author for v in saved] == [store.HAND_EDIT_AUTHOR]
        assert (
            store.read_version(store.history_dir_of(m.env.data_dir), saved[0].id)["objections.yaml"]
            == original
        )
        history = text_of(await reply(await kb(m, "history", m.admin)))
        assert saved[0].id in history
        assert "hand edit" in history
        assert "too-busy" in history  # the summary of what the edit changed

        rollback = await reply(await kb(m, "rollback", m.admin, {"version": saved[0].id}))
        undone = await press(m, rollback, "Apply", m.admin)
        assert "Applied" in text_of((await undone.wait_followups())[0])
        assert path.read_bytes() == original
        assert NEW_ANSWER not in await ask(m, bot, BUSY)
        # The rollback itself is one more version (by the moderator), not a second hand edit.
        assert [v.author for v in versions(m)][1:] == [store.HAND_EDIT_AUTHOR]
        assert len(versions(m)) == 2
        await kb(m, "reload", m.admin)
        assert len(versions(m)) == 2


async def ask_to_clear(m: Mods) -> tuple[InteractionHandle, JSON]:
    """Run ``/kb unanswered-clear`` as admin: the handle and the message with the buttons."""
    handle = await kb(m, "unanswered-clear", m.admin)
    await handle.wait_response()
    message = handle.original_message
    assert message is not None
    return handle, message


async def _unanswered(m: Mods, bot: object) -> int:
    storage = bot.storage  # type: ignore[attr-defined]
    return int((await storage.stats(days=7, guild_id=m.world.guild)).unanswered)


async def test_unanswered_clear_asks_the_invoker_first_and_expires(mods: Mods) -> None:
    m = mods
    async with m.run() as bot:
        for text in ("what about malpractice", "pizza toppings"):
            await bot.storage.record_unanswered(guild_id=m.world.guild, channel_id=1, text=text)

        _, asked = await ask_to_clear(m)
        assert asked["flags"] & EPHEMERAL
        assert set(buttons(asked)) == {"Delete", "Keep"}
        assert "cannot be undone" in text_of(asked)
        assert await _unanswered(m, bot) == 2  # nothing deleted before the confirmation

        other = await press(m, asked, "Delete", m.rolemod)  # a moderator, but not the invoker
        refusal = (await other.wait_response())["data"]
        assert "Only the moderator who ran the command" in refusal["content"]
        assert refusal["flags"] & EPHEMERAL
        assert await _unanswered(m, bot) == 2

        kept = await press(m, asked, "Keep", m.admin)
        assert "nothing was deleted" in (await kept.wait_response())["data"]["content"]
        assert await _unanswered(m, bot) == 2

        cog = bot.get_cog("KbAdmin")
        assert cog is not None
        cog.confirm_timeout = 0.2  # type: ignore[attr-defined]
        handle, _ = await ask_to_clear(m)
        edits = await handle.wait_edit()
        assert "expired" in edits[-1]["content"]
        assert all(c.get("disabled") for row in edits[-1]["components"] for c in row["components"])
        assert await _unanswered(m, bot) == 2

        cog.confirm_timeout = 60.0  # type: ignore[attr-defined]
        _, asked = await ask_to_clear(m)
        confirmed = await press(m, asked, "Delete", m.admin)
        assert "Cleared 2" in (await confirmed.wait_response())["data"]["content"]
        assert await _unanswered(m, bot) == 0
