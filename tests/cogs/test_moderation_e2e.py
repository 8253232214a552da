"""End to end (issue 4): moderator commands of the real WhyTwitterBot against the fake Discord.

Moderators: ``admin`` (Manage Server) and ``rolemod`` (a role in ``MODERATOR_ROLE_IDS``);
``alice`` and ``mod`` (Manage Messages only) are not moderators.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.bot import WhyTwitterBot
from bot.cogs.moderators import MODERATORS_ONLY
from bot.kb import store
from tests.cogs.helpers import BotEnv, BotWorld
from tests.fakediscord import FakeDiscord, InteractionHandle, User
from tests.service.test_proposal import SELF_DEFEATING

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]
EPHEMERAL = 64
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
BUSY = "I'm way too busy for twitter"
NEW_ANSWER = "Fifteen minutes a week is enough: follow ten colleagues you trust."
GOOD_ANSWER = "Start with five minutes on the commute: read, do not post."


@dataclass
class Mods:
    world: BotWorld
    env: BotEnv
    admin: User
    rolemod: User
    role: int
    modlog: int

    @property
    def fake(self) -> FakeDiscord:
        return self.env.fake

    @property
    def kb_dir(self) -> Path:
        return self.env.knowledge_dir

    @contextlib.asynccontextmanager
    async def run(self, **kw: Any) -> AsyncIterator[WhyTwitterBot]:
        kw.setdefault("HOME_GUILD_IDS", str(self.world.guild))
        async with self.env.run(
            MODERATOR_ROLE_IDS=str(self.role),
            MOD_LOG_CHANNEL_ID=str(self.modlog),
            CHANNEL_COOLDOWN_MINUTES="0",
            MEMBER_COOLDOWN_MINUTES="0",
            **kw,
        ) as bot:
            yield bot


@pytest.fixture
def mods(bot_env: BotEnv, bot_world: BotWorld) -> Mods:
    fake = bot_env.fake
    admin, rolemod = User.human("admin"), User.human("rolemod")
    role = fake.add_role(bot_world.guild, "KB editors")
    fake.add_member(bot_world.guild, admin, permissions=MANAGE_GUILD)
    fake.add_member(bot_world.guild, rolemod, roles=[role])
    modlog = fake.add_channel(bot_world.guild, "mod-log")
    return Mods(bot_world, bot_env, admin, rolemod, role, modlog)


# --------------------------------------------------------------------------- helpers


async def kb(
    m: Mods, sub: str, user: User, options: dict[str, Any] | None = None, **kw: Any
) -> InteractionHandle:
    return await m.fake.send_slash_command(
        "kb", options or {}, subcommand=sub, user=user, channel_id=m.world.general, **kw
    )


async def upload(m: Mods, user: User, filename: str, data: bytes) -> InteractionHandle:
    att = m.fake.add_attachment(filename, data)
    return await kb(
        m, "upload", user, {"file": att["id"]}, resolved={"attachments": {att["id"]: att}}
    )


async def reply(handle: InteractionHandle) -> JSON:
    """The visible reply: the response message, or the follow-up after a deferral."""
    response = await handle.wait_response()
    if response["type"] == 5:
        return (await handle.wait_followups())[0]
    data: JSON = response["data"]
    return data


def text_of(message: JSON) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def buttons(message: JSON) -> dict[str, JSON]:
    return {
        c["label"]: c for row in message.get("components") or [] for c in row.get("components", [])
    }


def edit_answer(text: str, entry: str, answer: str) -> str:
    """``text`` (objections.yaml) with the answer block of ``entry`` replaced."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {entry}")
    a = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("answer:"))
    end = a + 1
    indent = len(lines[a]) - len(lines[a].lstrip())
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    new = f"{' ' * indent}answer: |\n{' ' * (indent + 2)}{answer}\n"
    return "".join([*lines[:a], new, *lines[end:]])


def kb_bytes(m: Mods) -> dict[str, bytes]:
    return store.snapshot(m.kb_dir)


async def ask(m: Mods, bot: WhyTwitterBot, text: str = BUSY) -> str:
    """Mention the bot with ``text``; the text of its reply."""
    sent = await m.fake.send_message(m.world.general, m.world.alice, f"<@{bot.user.id}> {text}")  # type: ignore[union-attr]
    answer = await m.fake.wait_for_bot_message(
        m.world.general,
        predicate=lambda r: (r.get("message_reference") or {}).get("message_id") == sent["id"],
    )
    return text_of(answer)


async def preview_and(m: Mods, user: User, data: bytes, name: str = "objections.yaml") -> JSON:
    handle = await upload(m, user, name, data)
    message = await reply(handle)
    assert "Apply" in buttons(message), text_of(message)
    return message


async def press(m: Mods, message: JSON, label: str, user: User) -> InteractionHandle:
    return await m.fake.click_button(message, buttons(message)[label]["custom_id"], user)


# --------------------------------------------------------------------------- the gate

ALL_COMMANDS: list[tuple[str, str | None, str, dict[str, Any]]] = [
    ("kb", None, "check", {}),
    ("kb", None, "reload", {}),
    ("kb", None, "download", {}),
    ("kb", None, "upload", {}),
    ("kb", None, "history", {}),
    ("kb", None, "rollback", {"version": "v20240101-000000-000000-abcd"}),
    ("kb", None, "unanswered", {}),
    ("kb", None, "unanswered-clear", {}),
    ("kb", None, "stats", {}),
    ("kb", None, "why", {"message": BUSY}),
    ("kb", None, "false-answers", {}),
    ("whytwitter", "channels", "add", {"channel": "GENERAL"}),
    ("whytwitter", "channels", "remove", {"channel": "GENERAL"}),
    ("whytwitter", "channels", "list", {}),
    ("whytwitter", None, "modlog", {}),
    ("whytwitter", None, "cooldown", {"minutes": 1}),
    ("whytwitter", None, "forget", {"user_id": "123456789012345678"}),
]


async def test_non_moderators_are_refused_everything(mods: Mods) -> None:
    m = mods
    before = kb_bytes(m)
    async with m.run() as bot:
        registered = {c["name"]: c for c in m.fake.guild_commands[m.world.guild]}
        for name in ("kb", "whytwitter"):
            assert int(registered[name]["default_member_permissions"]) == MANAGE_GUILD
            assert registered[name].get("contexts") in ([0], None)
        for user in (m.world.alice, m.world.mod):
            for name, group, sub, options in ALL_COMMANDS:
                opts = {
                    k: (str(m.world.general) if v == "GENERAL" else v) for k, v in options.items()
                }
                resolved = None
                if sub == "upload":
                    att = m.fake.add_attachment("objections.yaml", b"objections: []\n")
                    opts, resolved = {"file": att["id"]}, {"attachments": {att["id"]: att}}
                handle = await m.fake.send_slash_command(
                    name,
                    opts,
                    subcommand=sub,
                    subcommand_group=group,
                    user=user,
                    channel_id=m.world.general,
                    resolved=resolved,
                )
                response = await handle.wait_response()
                assert response["type"] == 4, (sub, response)
                assert response["data"]["content"] == MODERATORS_ONLY
                assert response["data"]["flags"] & EPHEMERAL
        auto = await m.fake.send_autocomplete(
            "kb",
            {"version": ""},
            "version",
            subcommand="rollback",
            user=m.world.alice,
            channel_id=m.world.general,
        )
        assert (await auto.wait_response())["data"]["choices"] == []
        settings = await bot.storage.guild_settings(m.world.guild)
        assert settings.cooldown_minutes is None
        assert not settings.answer_channels
    assert kb_bytes(m) == before


@pytest.mark.parametrize("who", ["admin", "rolemod"])
async def test_moderators_by_permission_and_by_role(mods: Mods, who: str) -> None:
    m = mods
    user = m.admin if who == "admin" else m.rolemod
    async with m.run():
        check = await reply(await kb(m, "check", user))
        assert check["flags"] & EPHEMERAL
        assert "OK" in text_of(check) or "check failed" in text_of(check)
        listing = await m.fake.send_slash_command(
            "whytwitter",
            subcommand="list",
            subcommand_group="channels",
            user=user,
            channel_id=m.world.general,
        )
        assert "Moderators only" not in text_of(await reply(listing))


# --------------------------------------------------------------------------- hot reload


async def test_hand_edit_is_served_and_broken_edit_reported(mods: Mods) -> None:
    m = mods
    path = m.kb_dir / "objections.yaml"
    original = path.read_text()
    async with m.run(watch=True) as bot:
        assert NEW_ANSWER not in await ask(m, bot)
        path.write_text(edit_answer(original, "too-busy", NEW_ANSWER))
        announced = await m.fake.wait_for_bot_message(
            m.modlog, predicate=lambda r: "reloaded" in r["content"], timeout=15
        )
        assert "`too-busy`" in announced["content"]
        assert NEW_ANSWER in await ask(m, bot)

        broken = edit_answer(original, "too-busy", NEW_ANSWER).replace(
            "benefits: [research-updates,", "benefits: [no-such-benefit, research-updates,", 1
        )
        path.write_text(broken)
        error = await m.fake.wait_for_bot_message(
            m.modlog, predicate=lambda r: "not** reloaded" in r["content"], timeout=15
        )
        line = next(i for i, text in enumerate(broken.splitlines(), 1) if "no-such-benefit" in text)
        assert f"objections.yaml:{line}:" in error["content"]
        assert "no-such-benefit" in error["content"]
        assert NEW_ANSWER in await ask(m, bot)


# --------------------------------------------------------------------------- upload flow


async def test_upload_apply_history_and_rollback(mods: Mods) -> None:
    m = mods
    original = (m.kb_dir / "objections.yaml").read_bytes()
    edited = edit_answer(original.decode(), "too-busy", NEW_ANSWER).encode()
    async with m.run() as bot:
        preview = await preview_and(m, m.admin, edited)
        assert preview["flags"] & EPHEMERAL
        assert "`too-busy`" in text_of(preview)
        assert "1 changed" in text_of(preview)
        assert (m.kb_dir / "objections.yaml").read_bytes() == original  # nothing yet

        applied = await press(m, preview, "Apply", m.admin)
        assert "Applied" in text_of((await applied.wait_followups())[0])
        assert (m.kb_dir / "objections.yaml").read_bytes() == edited
        assert NEW_ANSWER in await ask(m, bot)
        announce = await m.fake.wait_for_bot_message(
            m.modlog, predicate=lambda r: "reloaded by admin" in r["content"]
        )
        assert "`too-busy`" in announce["content"]

        history = text_of(await reply(await kb(m, "history", m.admin)))
        versions = store.list_versions(store.history_dir_of(m.env.data_dir))
        assert len(versions) == 1
        assert versions[0].id in history
        assert "upload objections.yaml" in history
        rows = await bot.storage.kb_versions()
        assert rows[0].id == versions[0].id
        assert "too-busy" in rows[0].summary

        auto = await m.fake.send_autocomplete(
            "kb",
            {"version": ""},
            "version",
            subcommand="rollback",
            user=m.admin,
            channel_id=m.world.general,
        )
        choices = (await auto.wait_response())["data"]["choices"]
        assert [c["value"] for c in choices] == [versions[0].id]

        handle = await kb(m, "rollback", m.rolemod, {"version": versions[0].id})
        rollback = await reply(handle)
        assert "`too-busy`" in text_of(rollback)
        undone = await press(m, rollback, "Apply", m.rolemod)
        assert "Applied" in text_of((await undone.wait_followups())[0])
        assert (m.kb_dir / "objections.yaml").read_bytes() == original
        assert NEW_ANSWER not in await ask(m, bot)
        assert len(store.list_versions(store.history_dir_of(m.env.data_dir))) == 2


def _bomb() -> bytes:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    return ("\n".join(lines) + "\n").encode()


def _invalid(original: str) -> dict[str, tuple[str, bytes, str]]:
    return {
        "syntax": (
            "objections.yaml",
            original.replace(
                "  - id: too-busy\n", "  - id: too-busy\n   title: [oops\n", 1
            ).encode(),
            "objections.yaml:",
        ),
        "wrong-type": (
            "objections.yaml",
            original.replace("  - id: too-busy\n", "  - id: too-busy\n    benefits: 7\n", 1)
            .replace("    benefits: [", "    benefitz: [", 1)
            .encode(),
            "objections.yaml:",
        ),
        "unknown-benefit": (
            "objections.yaml",
            original.replace("benefits: [research-updates,", "benefits: [nope-nope,", 1).encode(),
            "nope-nope",
        ),
        "too-long": (
            "objections.yaml",
            edit_answer(original, "too-busy", "word " * 1200).encode(),
            "objections.yaml:",
        ),
        "python-object": (
            "objections.yaml",
            b"objections: !!python/object:os.system ['echo hi']\n",
            "objections.yaml:1",
        ),
        "alias-bomb": ("bomb.yaml", _bomb(), "bomb.yaml:"),
        "huge": ("objections.yaml", b"# x\n" * (5 * 1024 * 1024 // 4), "at most"),
        "path": ("../evil.yaml", b"objections: []\n", "without folders"),
        "not-yaml": ("notes.txt", b"hello", ".yaml"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "syntax",
        "wrong-type",
        "unknown-benefit",
        "too-long",
        "python-object",
        "alias-bomb",
        "huge",
        "path",
        "not-yaml",
    ],
)
async def test_invalid_uploads_change_nothing(mods: Mods, case: str) -> None:
    m = mods
    before = kb_bytes(m)
    name, data, expected = _invalid((m.kb_dir / "objections.yaml").read_text())[case]
    async with m.run():
        message = await reply(await upload(m, m.admin, name, data))
        text = text_of(message)
        assert expected in text, text
        assert "Apply" not in buttons(message)
        assert message["flags"] & EPHEMERAL
    assert kb_bytes(m) == before
    assert not (m.kb_dir.parent / "evil.yaml").exists()
    assert store.list_versions(store.history_dir_of(m.env.data_dir)) == []


async def test_second_apply_after_concurrent_previews_is_refused(mods: Mods) -> None:
    m = mods
    original = (m.kb_dir / "objections.yaml").read_text()
    first = edit_answer(original, "too-busy", NEW_ANSWER).encode()
    second = edit_answer(original, "too-busy", GOOD_ANSWER).encode()
    async with m.run():
        p1 = await preview_and(m, m.admin, first)
        p2 = await preview_and(m, m.rolemod, second)
        ok = await press(m, p1, "Apply", m.admin)
        assert "Applied" in text_of((await ok.wait_followups())[0])
        stale = await press(m, p2, "Apply", m.rolemod)
        assert "changed since your preview" in text_of((await stale.wait_followups())[0])
    assert (m.kb_dir / "objections.yaml").read_bytes() == first


async def test_cancel_and_strangers_change_nothing(mods: Mods) -> None:
    m = mods
    before = kb_bytes(m)
    edited = edit_answer(before["objections.yaml"].decode(), "too-busy", NEW_ANSWER).encode()
    async with m.run():
        preview = await preview_and(m, m.admin, edited)
        stranger = await press(m, preview, "Apply", m.rolemod)
        refusal = await stranger.wait_response()
        assert "Only the moderator who made this preview" in refusal["data"]["content"]
        assert refusal["data"]["flags"] & EPHEMERAL
        cancel = await press(m, preview, "Cancel", m.admin)
        response = await cancel.wait_response()
        assert response["type"] == 7
        assert "cancelled" in response["data"]["content"]
        assert all(c.get("disabled") for c in buttons(response["data"]).values())
    assert kb_bytes(m) == before


async def test_preview_expires(mods: Mods) -> None:
    m = mods
    before = kb_bytes(m)
    edited = edit_answer(before["objections.yaml"].decode(), "too-busy", NEW_ANSWER).encode()
    async with m.run() as bot:
        cog = bot.get_cog("KbAdmin")
        assert cog is not None
        cog.preview_timeout = 0.2  # type: ignore[attr-defined]
        handle = await upload(m, m.admin, "objections.yaml", edited)
        await reply(handle)
        edits = await handle.wait_edit()
        assert "expired" in edits[-1]["content"]
        assert all(c.get("disabled") for row in edits[-1]["components"] for c in row["components"])
    assert kb_bytes(m) == before


async def test_download_sends_the_files(mods: Mods) -> None:
    m = mods
    async with m.run():
        message = await reply(await kb(m, "download", m.admin))
        names = sorted(a["filename"] for a in message["attachments"])
        assert names == sorted(kb_bytes(m))
        for att in message["attachments"]:
            data = m.fake.attachments[int(att["id"])][1]
            assert data == (m.kb_dir / att["filename"]).read_bytes()


async def test_check_and_reload(mods: Mods) -> None:
    m = mods
    path = m.kb_dir / "objections.yaml"
    async with m.run() as bot:
        assert "✅" in text_of(await reply(await kb(m, "check", m.admin)))
        path.write_text(edit_answer(path.read_text(), "too-busy", NEW_ANSWER))
        text = text_of(await reply(await kb(m, "reload", m.admin)))
        assert "reloaded" in text
        assert "`too-busy`" in text
        assert NEW_ANSWER in await ask(m, bot)
        path.write_text(path.read_text() + "\nobjections: [\n")
        text = text_of(await reply(await kb(m, "reload", m.admin)))
        assert "not** reloaded" in text
        assert "objections.yaml:" in text
        assert "❌" in text_of(await reply(await kb(m, "check", m.admin)))
        await m.fake.wait_for_bot_message(
            m.modlog, predicate=lambda r: "objections.yaml:" in r["content"]
        )


# --------------------------------------------------------------------------- data


async def test_unanswered_and_stats_show_recorded_data(mods: Mods) -> None:
    m = mods
    guild = m.world.guild
    async with m.run() as bot:
        for text in ("what about my malpractice insurance", "malpractice insurance worries"):
            await bot.storage.record_unanswered(guild_id=guild, channel_id=1, text=text)
        await bot.storage.record_unanswered(guild_id=guild, channel_id=1, text="pizza toppings")
        await bot.storage.record_answer(
            guild_id=guild, channel_id=1, entry_id="too-busy", via="channel", message_id=77
        )
        await bot.storage.record_vote(message_id=77, entry_id="too-busy", user_id=5, helpful=True)
        unanswered = text_of(await reply(await kb(m, "unanswered", m.admin, {"days": 7})))
        assert unanswered.index("malpractice") < unanswered.index("pizza")
        assert "2×" in unanswered
        stats = text_of(await reply(await kb(m, "stats", m.admin)))
        assert "too-busy" in stats
        assert "█" in stats
        assert "+1/−0" in stats
        asking = await kb(m, "unanswered-clear", m.admin)
        await asking.wait_response()
        assert asking.original_message is not None
        confirmed = await press(m, asking.original_message, "Delete", m.admin)
        assert "Cleared 3" in (await confirmed.wait_response())["data"]["content"]


async def test_retention_purge_runs_at_start(mods: Mods) -> None:
    m = mods
    old = datetime.now(UTC) - timedelta(days=200)
    async with m.env.storage() as storage:
        await storage.record_unanswered(guild_id=m.world.guild, channel_id=1, text="old q", at=old)
        await storage.record_unanswered(guild_id=m.world.guild, channel_id=1, text="new q")
    async with m.run() as bot:
        for _ in range(500):  # the first purge runs once the bot is ready
            if (await bot.storage.stats(days=365)).unanswered == 1:
                break
            await asyncio.sleep(0.01)
        assert (await bot.storage.stats(days=365)).unanswered == 1


async def test_settings_persist_across_restart(mods: Mods) -> None:
    m = mods
    extra = m.fake.add_channel(m.world.guild, "ask-doctors")

    async def settings_cmd(sub: str, options: dict[str, Any], group: str | None = None) -> str:
        handle = await m.fake.send_slash_command(
            "whytwitter",
            options,
            subcommand=sub,
            subcommand_group=group,
            user=m.admin,
            channel_id=m.world.general,
        )
        return text_of(await reply(handle))

    async with m.run():
        assert "answer objections" in await settings_cmd("add", {"channel": str(extra)}, "channels")
        assert "<#" in await settings_cmd("modlog", {"channel": str(m.world.general)})
        assert "5 minutes" in await settings_cmd("cooldown", {"minutes": 5})
    async with m.run() as bot:
        stored = await bot.storage.guild_settings(m.world.guild)
        assert stored.answer_channels == {extra}
        assert stored.modlog_channel == m.world.general
        assert stored.cooldown_minutes == 5
        assert f"<#{extra}>" in await settings_cmd("list", {}, "channels")
        assert await bot.is_answer_channel(m.world.guild, extra)
        assert "no longer" in await settings_cmd("remove", {"channel": str(extra)}, "channels")
        assert not await bot.is_answer_channel(m.world.guild, extra)


async def test_download_zips_many_files(mods: Mods) -> None:
    m = mods
    for i in range(10):
        (m.kb_dir / f"extra-{i}.yaml").write_bytes(b"# nothing here yet\n")
    async with m.run():
        message = await reply(await kb(m, "download", m.admin))
        assert [a["filename"] for a in message["attachments"]] == ["knowledge.zip"]
        blob = m.fake.attachments[int(message["attachments"][0]["id"])][1]
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            assert {n: archive.read(n) for n in archive.namelist()} == kb_bytes(m)


async def test_long_check_report_is_attached(mods: Mods) -> None:
    m = mods
    entries = "".join(
        f"  - id: broken-{i}\n"
        f'    title: "Broken {i}"\n'
        f"    answer: |\n      Text {i}.\n"
        f"    benefits: [no-such-benefit-{i}]\n"
        for i in range(60)
    )
    async with m.run():
        (m.kb_dir / "broken.yaml").write_text("objections:\n" + entries)
        message = await reply(await kb(m, "check", m.admin))
        assert "❌" in message["content"]
        assert len(message["content"]) <= 2000
        [attachment] = message["attachments"]
        assert attachment["filename"] == "kb-check.txt"
        report = m.fake.attachments[int(attachment["id"])][1].decode()
        assert "broken.yaml:" in report
        assert "no-such-benefit-59" in report
        assert report.strip().splitlines()[-1].startswith("check failed")


async def test_upload_of_a_new_file_adds_entries(mods: Mods) -> None:
    m = mods
    extra = (
        b"objections:\n"
        b"  - id: too-old\n"
        b'    title: "I am too old for Twitter."\n'
        b'    triggers: ["i am too old for twitter", "too old for social media"]\n'
        b"    answer: |\n"
        b"      Plenty of senior physicians lead the conversation there.\n"
        b"    benefits: [research-updates]\n"
    )
    async with m.run() as bot:
        preview = await preview_and(m, m.rolemod, extra, name="more-objections.yaml")
        assert "1 added" in text_of(preview)
        done = await press(m, preview, "Apply", m.rolemod)
        assert "Applied" in text_of((await done.wait_followups())[0])
        assert bot.knowledge.kb.get("too-old") is not None
    assert (m.kb_dir / "more-objections.yaml").read_bytes() == extra


async def test_upload_the_check_fails_is_refused_with_the_line_kb_check_prints(
    mods: Mods,
) -> None:
    """One validation step: the preview refuses an upload whose knowledge base fails the check,
    naming the same line ``/kb check`` prints once the file is there."""
    m = mods
    before = kb_bytes(m)
    async with m.run():
        preview = await reply(await upload(m, m.admin, "wifi.yaml", SELF_DEFEATING))
        assert "Apply" not in buttons(preview)
        assert "not applied" in text_of(preview)
        (line,) = [
            line.removeprefix("• ")
            for line in text_of(preview).splitlines()
            if "does not get its answer" in line
        ]
        assert line.startswith("wifi.yaml:8: example ")
        assert kb_bytes(m) == before

        (m.kb_dir / "wifi.yaml").write_bytes(SELF_DEFEATING)  # the same file, by hand
        check = text_of(await reply(await kb(m, "check", m.admin)))
        assert "❌" in check
        assert line in check.splitlines()
