"""The fake Discord API, proven with a plain discord.py bot (not the project's bot)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import (
    GUILD_FORUM,
    FakeDiscord,
    User,
    client_exit,
    default_intents,
    runner_of,
    running_client,
)

pytestmark = pytest.mark.e2e


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Yes", custom_id="vote:yes")
    async def yes(
        self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]
    ) -> None:
        await interaction.response.edit_message(content=f"voted yes by {interaction.user.name}")


class NameModal(discord.ui.Modal, title="Your name"):
    name: discord.ui.TextInput[NameModal] = discord.ui.TextInput(label="Name", custom_id="name")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"hello {self.name.value}", ephemeral=True)


class PlainBot(commands.AutoShardedBot):
    """A small, ordinary discord.py bot."""

    def __init__(self, **options: object) -> None:
        super().__init__(command_prefix="!", intents=default_intents(), **options)  # type: ignore[arg-type]
        self.seen: list[discord.Message] = []
        self.resumed = 0
        self.refusals: list[int] = []
        self.threads: list[discord.Thread] = []

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.threads.append(thread)

    async def setup_hook(self) -> None:
        self.add_view(VoteView())

        @self.tree.command(name="ping", description="Ping the bot")
        async def ping(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(f"pong {text}")

        @app_commands.allowed_installs(guilds=True, users=False)
        @self.tree.command(name="vote", description="Start a vote")
        async def vote(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("vote now", view=VoteView())

        @self.tree.command(name="slow", description="Deferred answer")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send("done after thinking")

        @self.tree.command(name="fruit", description="Pick a fruit")
        async def fruit(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(name)

        @fruit.autocomplete("name")
        async def fruit_auto(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            fruits = ["apple", "apricot", "banana"]
            return [app_commands.Choice(name=f, value=f) for f in fruits if f.startswith(current)]

        @self.tree.command(name="name", description="Modal")
        async def name(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(NameModal())

        @app_commands.allowed_installs(guilds=True, users=True)
        @self.tree.command(name="many", description="Many follow-ups")
        async def many(interaction: discord.Interaction, count: int) -> None:
            await interaction.response.defer()
            for n in range(count):
                try:
                    await interaction.followup.send(f"follow-up {n}")
                except discord.HTTPException as exc:
                    self.refusals.append(exc.status)

        @self.tree.context_menu(name="Quote")
        async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"> {message.content}")

        await self.tree.sync()

    async def on_resumed(self) -> None:
        self.resumed += 1

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.seen.append(message)
        if message.content.startswith("hello"):
            await message.reply("hi!", mention_author=False)
        elif message.content == "upload":
            await message.channel.send("here", file=discord.File(io.BytesIO(b"abc"), "a.txt"))
        elif message.content == "size" and message.attachments:
            data = await message.attachments[0].read()
            await message.channel.send(f"{len(data)} bytes: {data.decode()}")


@dataclass
class World:
    guild: int
    channel: int
    alice: User


@pytest.fixture
def world(fake_discord: FakeDiscord) -> World:
    guild = fake_discord.add_guild("Docs")
    channel = fake_discord.add_channel(guild, "general")
    alice = User.human("alice")
    fake_discord.add_member(guild, alice)
    return World(guild, channel, alice)


async def test_login_ready_and_guild_cache(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        assert bot.user is not None
        assert bot.user.id == fake_discord.bot_user.id
        guild = bot.get_guild(world.guild)
        assert guild is not None
        assert guild.name == "Docs"
        assert guild.get_channel(world.channel).name == "general"  # type: ignore[union-attr]
        # without the members intent discord.py caches only itself, as with real Discord
        assert guild.member_count == 3
        assert guild.me is not None
        assert bot.application_id == fake_discord.application_id
    identify = fake_discord.identify_payloads[0]
    assert identify["intents"] == default_intents().value
    assert identify["shard"] == [0, 1]
    assert fake_discord.gateway_queries[0] == {
        "v": "10",
        "encoding": "json",
        "compress": "zlib-stream",
    }
    assert fake_discord.requests_matching("GET", r"^/gateway/bot$")
    assert fake_discord.requests_matching("GET", r"^/users/@me$")


async def test_plain_client_without_sharding(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(discord.Client(intents=default_intents()), fake_discord) as client:
        assert client.get_channel(world.channel) is not None
    assert "shard" not in fake_discord.identify_payloads[0]
    assert not fake_discord.requests_matching("GET", r"^/gateway/bot$")


async def test_wrong_token_is_login_failure(fake_discord: FakeDiscord) -> None:
    with pytest.raises(discord.LoginFailure):
        async with running_client(PlainBot(), fake_discord, token="wrong"):
            pass


async def test_message_reaches_on_message_and_reply_is_recorded(
    fake_discord: FakeDiscord, world: World
) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        sent = await fake_discord.send_message(world.channel, world.alice, "hello there")
        reply = await fake_discord.wait_for_bot_message(world.channel)
        assert reply["content"] == "hi!"
        assert reply["message_reference"]["message_id"] == sent["id"]
        req = fake_discord.requests_matching("POST", r"/channels/\d+/messages$")[0]
        assert req.json["allowed_mentions"]["replied_user"] is False
        assert req.headers["Authorization"] == "Bot test-token"
        assert reply["mentions"] == []  # nobody pinged
        assert [m.id for m in bot.seen] == [int(sent["id"])]


async def test_dm_and_attachments(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        dm = fake_discord.dm_channel(world.alice)
        att = fake_discord.add_attachment("note.txt", b"hello")
        await fake_discord.send_message(dm, world.alice, "size", attachments=[att])
        reply = await fake_discord.wait_for_bot_message(dm)
        assert reply["content"] == "5 bytes: hello"
        assert isinstance(bot.seen[0].channel, discord.DMChannel)
        await fake_discord.send_message(world.channel, world.alice, "upload")
        await fake_discord.wait_for_bot_message(world.channel)
        upload = fake_discord.requests_matching("POST", r"/channels/\d+/messages$")[-1]
        assert upload.json["content"] == "here"
        assert [(f.filename, f.data) for f in upload.files] == [("a.txt", b"abc")]


async def test_slash_command_sync_and_response(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord):
        sync = fake_discord.requests_matching("PUT", r"^/applications/\d+/commands$")
        assert len(sync) == 1
        assert {c["name"] for c in sync[0].json} >= {"ping", "vote", "fruit", "Quote"}
        handle = await fake_discord.send_slash_command(
            "ping", {"text": "x"}, user=world.alice, channel_id=world.channel
        )
        response = await handle.wait_response()
        assert response["type"] == 4
        assert response["data"]["content"] == "pong x"
        assert handle.original_message is not None
        assert fake_discord.requests_matching("POST", r"/interactions/\d+/[^/]+/callback")[
            0
        ].query == {"with_response": "1"}


async def test_deferred_then_followup(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord):
        handle = await fake_discord.send_slash_command(
            "slow", user=world.alice, channel_id=world.channel
        )
        assert (await handle.wait_response())["type"] == 5
        followups = await handle.wait_followups()
        assert followups[0]["content"] == "done after thinking"
        assert followups[0]["flags"] & 64  # the deferred response was ephemeral


async def test_forum_post_is_thread_create_then_starter_message(
    fake_discord: FakeDiscord, world: World
) -> None:
    forum_id = fake_discord.add_channel(world.guild, "questions", type=GUILD_FORUM)
    async with running_client(PlainBot(), fake_discord) as bot:
        forum = bot.get_channel(forum_id)
        assert isinstance(forum, discord.ForumChannel)
        thread_id, starter = await fake_discord.create_forum_post(
            forum_id, world.alice, "Title here", "first words"
        )
        await fake_discord.wait_until(lambda: len(bot.seen) == 1, 5)
        [thread] = bot.threads
        assert (thread.id, thread.parent_id, thread.name) == (thread_id, forum_id, "Title here")
        assert thread.type is discord.ChannelType.public_thread
        [message] = bot.seen
        assert message.id == thread_id == int(starter["id"])
        assert message.channel == thread
        assert message.content == "first words"
        # a later reply in the post is an ordinary message in the thread
        await fake_discord.send_message(thread_id, world.alice, "hello again")
        await fake_discord.wait_for_bot_message(thread_id)
        assert bot.seen[1].id != thread_id
        fetched = await bot.fetch_channel(thread_id)
        assert isinstance(fetched, discord.Thread)
        assert fetched.parent_id == forum_id


async def test_thread_events_need_the_guilds_intent(
    fake_discord: FakeDiscord, world: World
) -> None:
    forum_id = fake_discord.add_channel(world.guild, "questions", type=GUILD_FORUM)
    intents = default_intents()
    intents.guilds = False
    async with running_client(discord.Client(intents=intents), fake_discord, wait_ready=False):
        await fake_discord.wait_until(lambda: bool(fake_discord.identify_payloads), 5)
        await fake_discord.create_forum_post(forum_id, world.alice, "t", "x")
    assert fake_discord._sessions
    frames = [f for s in fake_discord._sessions.values() for _, f in s.buffer]
    assert "THREAD_CREATE" not in {f["t"] for f in frames}
    assert "MESSAGE_CREATE" in {f["t"] for f in frames}


async def test_user_install_in_a_server_without_the_bot(
    fake_discord: FakeDiscord, world: World
) -> None:
    elsewhere = fake_discord.add_guild("Elsewhere", with_bot=False)
    channel_id = fake_discord.add_channel(elsewhere, "lounge")
    fake_discord.install_types = [0, 1]  # User Install enabled in the portal
    async with running_client(PlainBot(), fake_discord) as bot:
        assert bot.get_guild(elsewhere) is None
        with pytest.raises(ValueError, match="not installed"):
            await fake_discord.send_slash_command(
                "ping", {"text": "x"}, user=world.alice, channel_id=channel_id
            )
        # no integration_types: the app's install types (ping); vote opts out
        with pytest.raises(ValueError, match="not offered to user installs"):
            await fake_discord.send_slash_command(
                "vote", user=world.alice, channel_id=channel_id, user_install=True
            )
        handle = await fake_discord.send_slash_command(
            "ping", {"text": "x"}, user=world.alice, channel_id=channel_id, user_install=True
        )
        assert (await handle.wait_response())["data"]["content"] == "pong x"
        assert handle.payload["authorizing_integration_owners"] == {"1": str(world.alice.id)}
        assert handle.payload["context"] == 0
        assert handle.payload["guild_id"] == str(elsewhere)
        with pytest.raises(discord.Forbidden) as info:
            await bot.http.send_message(
                channel_id, params=discord.http.handle_message_parameters("x")
            )
        assert info.value.code == 50001
        # at most 5 follow-ups where the bot is not a member
        many = await fake_discord.send_slash_command(
            "many", {"count": 7}, user=world.alice, channel_id=channel_id, user_install=True
        )
        await many.wait_followups(5)
        await fake_discord.wait_until(lambda: len(bot.refusals) == 2, 5)
        assert many.refused_followups == 2
        assert bot.refusals == [400, 400]
        # the same command where the bot is has no such limit
        home = await fake_discord.send_slash_command(
            "many", {"count": 6}, user=world.alice, channel_id=world.channel
        )
        await home.wait_followups(6)


async def test_user_install_in_a_dm_with_the_app(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord):
        dm = fake_discord.dm_channel(world.alice)
        with pytest.raises(ValueError, match="User Install is not enabled"):
            await fake_discord.send_slash_command(
                "ping", {"text": "y"}, user=world.alice, channel_id=dm, user_install=True
            )
    fake_discord.install_types = [0, 1]
    async with running_client(PlainBot(), fake_discord):
        dm = fake_discord.dm_channel(world.alice)
        handle = await fake_discord.send_slash_command(
            "ping", {"text": "y"}, user=world.alice, channel_id=dm, user_install=True
        )
        assert (await handle.wait_response())["data"]["content"] == "pong y"
        assert handle.payload["context"] == 1
        assert handle.payload["authorizing_integration_owners"] == {"1": str(world.alice.id)}
        assert "guild_id" not in handle.payload


async def test_button_round_trip(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord):
        handle = await fake_discord.send_slash_command(
            "vote", user=world.alice, channel_id=world.channel
        )
        await handle.wait_response()
        message = handle.original_message
        assert message is not None
        assert message["components"][0]["components"][0]["custom_id"] == "vote:yes"
        click = await fake_discord.click_button(message, "vote:yes", world.alice)
        response = await click.wait_response()
        assert response["type"] == 7
        assert response["data"]["content"] == "voted yes by alice"
        assert fake_discord.messages[int(message["id"])]["content"] == "voted yes by alice"


async def test_autocomplete_modal_and_context_menu(fake_discord: FakeDiscord, world: World) -> None:
    alice, channel = world.alice, world.channel
    async with running_client(PlainBot(), fake_discord):
        auto = await fake_discord.send_autocomplete(
            "fruit", {"name": "ap"}, "name", user=alice, channel_id=channel
        )
        response = await auto.wait_response()
        assert response["type"] == 8
        assert [c["value"] for c in response["data"]["choices"]] == ["apple", "apricot"]

        modal = await fake_discord.send_slash_command("name", user=alice, channel_id=channel)
        assert (await modal.wait_response())["type"] == 9
        submit = await fake_discord.submit_modal(
            "" + (await modal.wait_response())["data"]["custom_id"],
            {"name": "Ada"},
            user=alice,
            channel_id=channel,
        )
        answer = await submit.wait_response()
        assert answer["data"]["content"] == "hello Ada"
        assert answer["data"]["flags"] == 64

        target = await fake_discord.send_message(channel, alice, "twitter is a waste")
        menu = await fake_discord.send_message_command("Quote", target, user=alice)
        assert (await menu.wait_response())["data"]["content"] == "> twitter is a waste"


async def test_close_4000_resumes_and_replays_once(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        await fake_discord.send_message(world.channel, world.alice, "before")
        await fake_discord.wait_until(lambda: len(bot.seen) == 1)
        await fake_discord.close_gateway(4000)
        during = await fake_discord.send_message(world.channel, world.alice, "during")
        await fake_discord.wait_until(lambda: fake_discord.resumes == 1)
        await fake_discord.wait_until(lambda: len(bot.seen) >= 2)
        await fake_discord.send_message(world.channel, world.alice, "after")
        await fake_discord.wait_until(lambda: len(bot.seen) >= 3)
        assert [m.content for m in bot.seen] == ["before", "during", "after"]
        assert bot.seen[1].id == int(during["id"])
        assert len(fake_discord.identify_payloads) == 1
        assert fake_discord.connections == 2
        await fake_discord.wait_until(lambda: bot.resumed == 1)


async def test_abrupt_drop_1006_resumes(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        await fake_discord.drop_gateway()
        await fake_discord.send_message(world.channel, world.alice, "hello again")
        await fake_discord.wait_for_bot_message(world.channel)
        assert fake_discord.resumes == 1
        assert len(fake_discord.identify_payloads) == 1
        assert len(bot.seen) == 1


async def test_invalid_session_not_resumable_reidentifies(
    fake_discord: FakeDiscord, world: World
) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        await fake_discord.invalidate_session(resumable=False)
        await fake_discord.wait_until(lambda: len(fake_discord.identify_payloads) == 2)
        await fake_discord.send_message(world.channel, world.alice, "hello")
        await fake_discord.wait_for_bot_message(world.channel)
        assert fake_discord.resumes == 0
        assert bot.get_guild(world.guild) is not None


async def test_heartbeat_acks_stop_client_reconnects(
    fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.heartbeat_interval_ms = 100
    async with running_client(PlainBot(heartbeat_timeout=0.5), fake_discord):
        fake_discord.stop_heartbeat_acks()
        await fake_discord.wait_until(lambda: fake_discord.resumes >= 1, timeout=10)
        fake_discord.resume_heartbeat_acks()
        await fake_discord.send_message(world.channel, world.alice, "hello")
        await fake_discord.wait_for_bot_message(world.channel)


async def test_close_4004_stops_without_reconnect_loop(fake_discord: FakeDiscord) -> None:
    fake_discord.add_guild()
    async with running_client(PlainBot(), fake_discord) as bot:
        await fake_discord.close_gateway(4004)
        exc = await client_exit(bot)
    assert isinstance(exc, discord.ConnectionClosed)
    assert exc.code == 4004
    assert fake_discord.connections == 1


async def test_close_4004_plain_client(fake_discord: FakeDiscord) -> None:
    client = discord.Client(intents=default_intents())
    async with running_client(client, fake_discord):
        await fake_discord.close_gateway(4004)
        exc = await client_exit(client)
    assert isinstance(exc, discord.ConnectionClosed)
    assert exc.code == 4004
    assert fake_discord.connections == 1


async def test_disallowed_intents_4014(fake_discord: FakeDiscord) -> None:
    fake_discord.allowed_privileged_intents = 0  # Message Content not enabled in the portal
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running_client(PlainBot(), fake_discord):
            pass
    assert fake_discord.connections == 1


@pytest.mark.parametrize("global_", [False, True])
async def test_429_then_delivered(fake_discord: FakeDiscord, world: World, global_: bool) -> None:
    rule = fake_discord.fail_next(
        "POST", r"/channels/\d+/messages$", 429, retry_after=0.1, global_=global_
    )
    async with running_client(PlainBot(), fake_discord):
        await fake_discord.send_message(world.channel, world.alice, "hello")
        reply = await fake_discord.wait_for_bot_message(world.channel)
        assert reply["content"] == "hi!"
    statuses = [
        r.status for r in fake_discord.requests_matching("POST", r"/channels/\d+/messages$")
    ]
    assert statuses == [429, 200]
    assert rule.hits == 1


async def test_403_is_forbidden_with_code(fake_discord: FakeDiscord, world: World) -> None:
    fake_discord.fail_next("POST", r"/channels/\d+/messages$", 403, times=None)
    async with running_client(PlainBot(), fake_discord) as bot:
        channel = bot.get_channel(world.channel)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as info:
            await channel.send("x")
        assert info.value.code == 50013


async def test_unimplemented_endpoint_is_reported(fake_discord: FakeDiscord, world: World) -> None:
    async with running_client(PlainBot(), fake_discord) as bot:
        guild = bot.get_guild(world.guild)
        assert guild is not None
        with pytest.raises(discord.NotFound):
            await guild.fetch_emojis()
    assert [(r.method, r.path) for r in fake_discord.unhandled] == [
        ("GET", f"/guilds/{world.guild}/emojis")
    ]
    fake_discord.expect_unhandled = True  # this test provokes it on purpose


async def test_rate_limit_headers_are_honoured(fake_discord: FakeDiscord, world: World) -> None:
    fake_discord.enable_rate_limits(limit=2, per=0.3)
    async with running_client(PlainBot(), fake_discord):
        for i in range(5):
            await fake_discord.send_message(world.channel, world.alice, f"hello {i}")
        await fake_discord.wait_until(
            lambda: len(fake_discord.messages_in(world.channel, by_bot=True)) == 5
        )
    ok = fake_discord.requests_matching("POST", r"/channels/\d+/messages$")
    assert [r.status for r in ok] == [200] * 5
    assert fake_discord.rate_limit_violations == []


async def test_callback_after_the_3s_window_is_refused(
    fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.interaction_deadline = 0.0  # every callback is "late"
    async with running_client(PlainBot(), fake_discord, fail_on_handler_errors=False):
        handle = await fake_discord.send_slash_command(
            "ping", {"text": "x"}, user=world.alice, channel_id=world.channel
        )
        await fake_discord.wait_until(lambda: handle.late_callbacks)
        assert handle.callbacks == []


async def test_handler_errors_fail_the_run(fake_discord: FakeDiscord, world: World) -> None:
    class Broken(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            raise RuntimeError("boom in on_message")

    async def run() -> None:
        async with running_client(Broken(intents=default_intents()), fake_discord) as client:
            await fake_discord.send_message(world.channel, world.alice, "anything")
            await fake_discord.wait_until(lambda: runner_of(client).handler_errors)

    with pytest.raises(AssertionError, match="boom in on_message"):
        await run()
