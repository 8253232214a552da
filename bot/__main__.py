"""Entry point: ``python -m bot [command]`` (also installed as ``whytwitter``).

With no command the bot starts: on Discord when DISCORD_TOKEN is set, otherwise the
local console (interactive terminals only).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="whytwitter",
        description="Answers physicians' objections to using Twitter.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="start the bot (the default; console when no token is set)")

    match = sub.add_parser("match", help="show the decision for a message")
    match.add_argument("text", nargs="?", help="the message; omitted: one message per stdin line")
    match.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    match.add_argument(
        "--explain",
        action="store_true",
        help="show the word and meaning scores, the nearest text, the runner-up and the rule",
    )
    match.add_argument("--kb", type=Path, help="knowledge-base directory (default: bundled)")

    check = sub.add_parser("check", help="validate the knowledge base")
    check.add_argument("--kb", type=Path, help="knowledge-base directory (default: bundled)")

    console = sub.add_parser("console", help="try the answers locally, without Discord")
    console.add_argument("--kb", type=Path, help="knowledge-base directory (default: bundled)")

    sub.add_parser("invite", help="print the OAuth2 URL that adds the bot to a server")
    sub.add_parser("sync", help="register the slash commands with Discord now")

    health = sub.add_parser("health", help="exit 0 when the running bot is connected to Discord")
    health.add_argument(
        "--max-age", type=float, default=None, help="seconds a heartbeat stays fresh (default 60)"
    )

    stats = sub.add_parser("stats", help="write the statistics chart (PNG) from the database")
    stats.add_argument("--out", type=Path, required=True, help="the PNG file to write")
    stats.add_argument(
        "--days", type=_days, default=30, help="how many days back, 1 to 365 (default 30)"
    )
    stats.add_argument("--guild", type=int, help="only this server's data (default: all)")
    return parser


def _days(text: str) -> int:
    """A whole number of days from 1 to 365 (argparse type)."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= days <= 365:
        raise argparse.ArgumentTypeError(f"days must be from 1 to 365, not {days}")
    return days


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        if command in ("match", "check", "console") and not _configure_matcher():
            return 2
        if command == "match":
            from bot.cli import match_command

            return match_command(args.text, as_json=args.json, kb_dir=args.kb, explain=args.explain)
        if command == "check":
            from bot.cli import check_command

            return check_command(kb_dir=args.kb)
        if command == "console":
            from bot.console import console_command

            return console_command(kb_dir=args.kb)
        if command == "health":
            from bot.cli import health_command

            return health_command(max_age=args.max_age)
        if command == "stats":
            from bot.cli import stats_command

            return stats_command(out=args.out, days=args.days, guild_id=args.guild)
        from bot.runner import invite_command, run_command, sync_command

        if command == "invite":
            return invite_command()
        if command == "sync":
            return sync_command()
        return run_command()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.matching.semantic import ModelError

        if not isinstance(exc, ModelError):
            raise
        sys.stderr.write(f"{exc}\n")  # missing/corrupt model file: one line naming it, exit 2
        return 2


def _configure_matcher() -> bool:
    """Give ``match``, ``check`` and the console the live bot's matcher settings (thresholds,
    model, cache); False after one line naming an invalid variable."""
    from bot.matching.factory import configure
    from bot.service.live import config_from_settings
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return False
    configure(config_from_settings(settings))
    return True


if __name__ == "__main__":
    sys.exit(main())
