"""``python -m bot`` (run), ``python -m bot invite`` and ``python -m bot sync``.

Every failure an operator can cause ends in one sentence on stderr saying what to change,
never a traceback. Exit 2: the operator must change something (settings, token, portal,
knowledge base, database) and a restart would not help; exit 1: a transient or unexpected
failure (Discord unreachable, a crash) that a supervisor may retry; 0 after a clean stop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.kb.model import KBError
from bot.settings import Secret, Settings, SettingsError, log_level_number

if TYPE_CHECKING:  # imported when needed: the no-token path stays fast and light
    from bot.service.live import LiveKnowledge

__all__ = [
    "NO_TOKEN_CONSOLE",
    "NO_TOKEN_HINT",
    "client_id_from_token",
    "invite_command",
    "invite_url",
    "required_permissions",
    "run_command",
    "sync_command",
]

log = logging.getLogger(__name__)

NO_TOKEN_HINT: Final = (
    "No DISCORD_TOKEN set: create a bot at https://discord.com/developers/applications "
    "(Bot → Reset Token), put DISCORD_TOKEN=... in .env, then run again."
)
NO_TOKEN_CONSOLE: Final = (
    "No DISCORD_TOKEN set, so this is the local console: type a message and see what the bot "
    "would answer (quit to leave). To run on Discord, create a bot at "
    "https://discord.com/developers/applications (Bot → Reset Token), put DISCORD_TOKEN=... "
    "in .env and start it again."
)
"""What a terminal user sees when ``run`` opens the console for want of a token."""
TOKEN_REJECTED: Final = (
    "Discord rejected the token: reset it in the Developer Portal → your application → "
    "Bot → Reset Token, and put the new one in DISCORD_TOKEN."
)
INTENT_MISSING: Final = (
    "Discord refused the Message Content intent: enable it in the Developer Portal → "
    "your application → Bot → Privileged Gateway Intents → Message Content Intent."
)
LOG_FORMAT: Final = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
PUBLIC_BOT_HINT: Final = (
    "Before you use this URL: Developer Portal → your application → Bot → switch off "
    '"Public Bot", so that only you can add the bot to servers. A public bot can be added by '
    "anyone to a server they own, where they have Manage Server: HOME_GUILD_IDS keeps them "
    "away from the knowledge base and settings, but they would still run your bot (and its "
    "quotas) for their members."
)
HOME_UNSET_HINT: Final = (
    "HOME_GUILD_IDS is not set: set it to your server's id so that its moderators can change "
    "the answers with /kb (until then every change from Discord is refused)."
)
_SHORT_TEXT: Final = 100
_KEPT_KEYS: Final = ("op", "t", "s")


def required_permissions() -> discord.Permissions:
    """The smallest permission set the features need, from named flags.

    Reading and replying with embeds in channels and threads; ``attach_files`` for
    ``/kb download``. Dismiss deletes the bot's own message, so no Manage Messages.
    """
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,
        attach_files=True,
    )


def client_id_from_token(token: Secret) -> int | None:
    """The application id encoded in a bot token's first segment (None if it isn't one)."""
    first = token.get_secret_value().split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None


def invite_url(client_id: int) -> str:
    """The OAuth2 URL that adds the bot with its commands and minimal permissions."""
    return discord.utils.oauth_url(
        client_id, permissions=required_permissions(), scopes=("bot", "applications.commands")
    )


def _client_id(settings: Settings) -> int | None:
    if settings.client_id is not None:
        return settings.client_id
    return client_id_from_token(settings.token) if settings.token else None


def _error(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")
    sys.stderr.flush()


def _load_settings() -> Settings | None:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        _error(f"configuration error: {exc}")
        return None


def knowledge_from_settings(settings: Settings) -> LiveKnowledge:
    """The live knowledge base of ``KNOWLEDGE_DIR`` and its matcher (the settings' model and
    thresholds), versioned in ``DATA_DIR/kb-history``.

    Loading finishes a knowledge-base change that a killed process left (store journal)
    first; hand edits accepted later are saved in the history. Raises KBError, or
    ``semantic.ModelError`` for a missing or corrupt model.
    """
    from bot.kb.store import history_dir_of
    from bot.matching.factory import configure
    from bot.service.live import LiveKnowledge, config_from_settings

    config = config_from_settings(settings)
    configure(config)  # the upload preview and /kb check build their matchers with it
    return LiveKnowledge(
        settings.knowledge_dir, config, history_dir=history_dir_of(settings.data_dir)
    )


def _load_knowledge(settings: Settings) -> LiveKnowledge | None:
    """The live knowledge base and its matcher, or None after saying what to fix (a broken
    knowledge base: every problem; a missing or corrupt model: one line naming the file)."""
    from bot.matching.semantic import ModelError

    try:
        return knowledge_from_settings(settings)
    except KBError as exc:
        _error(f"the knowledge base in {settings.knowledge_dir} (KNOWLEDGE_DIR) does not load:")
        for line in [str(p) for p in exc.problems] or [str(exc)]:
            _error(line)
        return None
    except ModelError as exc:
        _error(str(exc))
        return None


class PayloadRedactor(logging.Filter):
    """Keeps what members write out of the log. The libraries' debug records dump it
    (discord.py: gateway events and HTTP bodies; aiosqlite: every statement with its
    parameters); in those, only numbers, short one-word strings and, for a gateway payload,
    its opcode, event name, sequence and ids are kept. The bot's own records carry ids and
    outcomes only, and the libraries' INFO and above are diagnostics: both pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's arguments in place (never drops a record)."""
        if record.levelno > logging.DEBUG or record.name == "bot" or record.name.startswith("bot."):
            return True
        if not isinstance(record.msg, str):
            record.msg = _redacted(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted(v) for v in record.args)
        return True


def _redacted(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | enum.Enum):
        return value
    if (
        isinstance(value, str)
        and len(value) <= _SHORT_TEXT
        and not value.startswith(("{", "["))
        and not any(c.isspace() for c in value)
    ):
        return value
    summary = []
    if isinstance(value, Mapping):
        summary = [f"{k}={value[k]}" for k in _KEPT_KEYS if k in value]
        data = value.get("d")
        if isinstance(data, Mapping):
            summary += [
                f"{k}={v}"
                for k, v in data.items()
                if isinstance(k, str)
                and k.endswith("id")
                and isinstance(v, int | str)
                and str(v).isdigit()
            ]
    details = f" {' '.join(summary)}" if summary else ""
    return f"<redacted{details}; LOG_MESSAGE_TEXT=true shows it>"


def configure_logging(settings: Settings) -> None:
    """Time, level and logger name; discord.py at WARNING unless LOG_LEVEL=DEBUG; what
    members write is redacted unless LOG_MESSAGE_TEXT=true."""
    level = log_level_number(settings)
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)
    logging.getLogger("discord").setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    )
    if not settings.log_message_text:
        for handler in logging.getLogger().handlers:
            handler.addFilter(PayloadRedactor())


def apply_api_base(settings: Settings) -> None:
    """Send REST calls to DISCORD_API_BASE (a REST proxy) when set."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
        log.info("REST base URL: %s", settings.discord_api_base)


EXIT_FIX_CONFIG = 2
"""Exit status when the operator must change something before starting again."""
EXIT_TRANSIENT = 1
"""Exit status for a failure a restart may cure (and for crashes)."""


def _explain(exc: BaseException, settings: Settings) -> str | None:
    """The one-sentence explanation of a failure the operator can act on, or None."""
    from bot.bot import CommandSyncForbidden
    from bot.storage import StorageError

    if isinstance(exc, discord.LoginFailure):
        return TOKEN_REJECTED
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return INTENT_MISSING
    if isinstance(exc, discord.ConnectionClosed):
        # The gateway ended the session for good (discord.py does not reconnect after these).
        if exc.code == 4004:  # authentication failed: the token was reset or revoked
            return TOKEN_REJECTED
        if exc.code == 4014:
            return INTENT_MISSING
        return (
            f"Discord closed the gateway connection with code {exc.code}: check "
            "SHARD_COUNT/SHARD_IDS and the intents, then start again."
        )
    if isinstance(exc, CommandSyncForbidden):
        client_id = exc.application_id or _client_id(settings)
        where = f": {invite_url(client_id)}" if client_id else " (python -m bot invite prints it)"
        return (
            "Discord refused to register the slash commands: re-invite the bot with the "
            f"applications.commands scope using its invite URL{where}"
        )
    if isinstance(exc, StorageError):
        return f"storage error: {exc}"
    if isinstance(exc, discord.HTTPException | OSError):
        return f"could not reach Discord: {exc}"
    return None


async def _serve(settings: Settings, knowledge: LiveKnowledge, token: str) -> None:
    from bot.bot import WhyTwitterBot

    bot = WhyTwitterBot(settings, knowledge)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def stop(signame: str) -> None:
        if not closing:
            log.info("%s received: shutting down", signame)
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(token)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if closing:
            await closing[0]


def _run_async(settings: Settings, main: Coroutine[Any, Any, None]) -> int:
    """Run ``main``; operator-fixable failures become one line on stderr and exit 1."""
    try:
        asyncio.run(main)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        message = _explain(exc, settings)
        if message is None:
            raise
        _error(message)
        transient = isinstance(exc, discord.HTTPException | OSError)  # Discord unreachable
        return EXIT_TRANSIENT if transient else EXIT_FIX_CONFIG
    return 0


def _connect(
    settings: Settings,
    token: Secret,
    main: Callable[[Settings, LiveKnowledge, str], Coroutine[Any, Any, None]],
) -> int:
    """Load the encoder and the knowledge base, set up logging and the REST base, run ``main``."""
    from bot.matching.semantic import check_model

    problem = check_model(settings.model_dir)  # a missing or corrupt model: one line, exit 2
    if problem is not None:
        _error(problem)
        return EXIT_FIX_CONFIG
    knowledge = _load_knowledge(settings)
    if knowledge is None:
        return EXIT_FIX_CONFIG
    configure_logging(settings)
    apply_api_base(settings)
    return _run_async(settings, main(settings, knowledge, token.get_secret_value()))


def run_command() -> int:
    """Start the bot (or the console when there is no token and a terminal)."""
    settings = _load_settings()
    if settings is None:
        return EXIT_FIX_CONFIG
    if settings.token is None:
        if sys.stdin.isatty():
            from bot.console import console_command
            from bot.service.live import config_from_settings

            return console_command(
                kb_dir=settings.knowledge_dir,
                intro=NO_TOKEN_CONSOLE,
                config=config_from_settings(settings),
            )
        _error(NO_TOKEN_HINT)
        return EXIT_FIX_CONFIG
    return _connect(settings, settings.token, _serve)


async def _sync(settings: Settings, knowledge: LiveKnowledge, token: str) -> None:
    from bot.bot import WhyTwitterBot

    bot = WhyTwitterBot(settings, knowledge, force_sync=True, watch=False)
    async with bot:
        await bot.login(token)  # runs setup_hook, which syncs (forced)
    target = f"to guild {settings.dev_guild_id}" if settings.dev_guild_id else "globally"
    homes = ", ".join(str(g) for g in sorted(settings.home_guild_ids))
    mods = f"to home server(s) {homes}" if homes else "with them (HOME_GUILD_IDS is unset)"
    sys.stdout.write(f"Slash commands synced {target}; /kb and /whytwitter {mods}.\n")


def sync_command() -> int:
    """Register the slash commands with Discord now, then exit."""
    settings = _load_settings()
    if settings is None:
        return EXIT_FIX_CONFIG
    if settings.token is None:
        _error(NO_TOKEN_HINT)
        return EXIT_FIX_CONFIG
    return _connect(settings, settings.token, _sync)


async def _fetch_application_id(token: str) -> int:
    """The application id Discord reports for ``token`` (REST only, no gateway)."""
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await client.login(token)
        info = await client.application_info()
    return info.id


def invite_command() -> int:
    """Print the invite URL. The client id is DISCORD_CLIENT_ID, else the one encoded in
    DISCORD_TOKEN, else the one Discord reports for the token."""
    settings = _load_settings()
    if settings is None:
        return EXIT_FIX_CONFIG
    client_id = _client_id(settings)
    if client_id is None and settings.token is not None:
        apply_api_base(settings)
        try:
            client_id = asyncio.run(_fetch_application_id(settings.token.get_secret_value()))
        except discord.LoginFailure:
            _error(TOKEN_REJECTED)
            return EXIT_FIX_CONFIG
        except (discord.HTTPException, OSError) as exc:
            _error(f"could not reach Discord to read the application id of DISCORD_TOKEN: {exc}")
            return EXIT_TRANSIENT
    if client_id is None:
        _error(
            "Set DISCORD_CLIENT_ID (Developer Portal → your application → General Information "
            "→ Application ID) or DISCORD_TOKEN to build the invite URL."
        )
        return EXIT_FIX_CONFIG
    sys.stdout.write(invite_url(client_id) + "\n")
    # The URL alone on stdout (scripts); the advice on stderr.
    _error(PUBLIC_BOT_HINT)
    if not settings.home_guild_ids:
        _error(HOME_UNSET_HINT)
    return 0
