"""``/kb``: check, reload, download, upload, rollback and history of the knowledge base;
``why`` and ``false-answers`` (:mod:`bot.cogs.review`); unanswered questions and statistics.
Home servers' moderators only (:mod:`bot.cogs.moderators`).

The changes (upload, rollback, *Add as a negative*) are :class:`bot.service.proposal.Proposal`
objects: previewed (:func:`bot.embeds.proposal_embed`), then written by the moderator's
*Apply* (:class:`bot.views.ProposalView`) unless the files changed in between.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import discord
from discord import app_commands

from bot.charts import FILENAME as CHART_FILENAME
from bot.charts import stats_chart
from bot.cogs import review
from bot.cogs.moderators import THINKS, ModeratorCog, moderator_group, refusal
from bot.embeds import BRAND_COLOUR, escape_user_text, list_embed, proposal_embed
from bot.kb import store
from bot.kb.loader import MAX_FILE_BYTES
from bot.kb.negatives import NegativeError
from bot.service.check import check_knowledge
from bot.service.modlog import (
    MESSAGE_MAX,
    diff_summary,
    problem_text,
    reload_line,
    stat_rows,
    stats_table,
    version_choice_name,
)
from bot.service.proposal import (
    Proposal,
    author_label,
    negative_proposal,
    record_version,
    rollback_proposal,
    upload_proposal,
    write_failure,
    zip_files,
)
from bot.views import ConfirmTexts, ConfirmView, ProposalView

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)

PREVIEW_TIMEOUT: Final = 600.0
"""Seconds the Apply / Cancel buttons of a preview stay usable."""
CONFIRM_TIMEOUT: Final = 60.0
"""Seconds the Delete / Keep buttons of ``/kb unanswered-clear`` stay usable."""
MAX_PLAIN_FILES: Final = 10
"""``/kb download`` sends a zip when there are more files than this."""
MAX_CHOICES: Final = 25
REPORT_INLINE_MAX: Final = 1500
"""A ``/kb check`` report longer than this is attached as a text file."""
STALE: Final = (
    "The knowledge base changed since your preview (another moderator or a hand edit), so "
    "nothing was written. Run the command again to preview against the current version."
)
FEED: Final = "ModlogFeed"
"""The mod-log feed cog (``bot/cogs/modlog_feed.py``), which names who applied a change."""
Interaction = discord.Interaction["WhyTwitterBot"]
Days = app_commands.Range[int, 1, 365]
"""How many days back a review or statistics command reads (default 30)."""
DAYS_HELP: Final = "How many days back (default 30)"


@runtime_checkable
class Attributes(Protocol):
    """What ``apply`` needs from the mod-log feed (an extension: not imported here)."""

    def attribute(self, digest: str, who: str) -> None: ...


class KbAdmin(ModeratorCog):
    """``/kb``: the knowledge base's files, history, review and statistics."""

    kb = moderator_group("kb", "Moderators: check, edit and undo the knowledge base")

    def __init__(self, bot: WhyTwitterBot) -> None:
        super().__init__(bot)
        self._apply_lock = asyncio.Lock()
        self.preview_timeout = PREVIEW_TIMEOUT
        self.confirm_timeout = CONFIRM_TIMEOUT

    @property
    def directory(self) -> Path:
        return self.bot.knowledge.directory

    @property
    def history(self) -> Path:
        return store.history_dir_of(self.bot.settings.data_dir)

    # ------------------------------------------------------------------ check, reload, download

    @kb.command(name="check", description="Validate the live knowledge-base files", extras=THINKS)
    async def kb_check(self, interaction: Interaction) -> None:
        label = f"{self.directory.name}/"
        report = await asyncio.to_thread(
            functools.partial(check_knowledge, self.directory, label=label)
        )
        full = report.format()
        head = ("✅ " if report.ok else "❌ ") + report.summary()
        if len(full) <= REPORT_INLINE_MAX:
            body = "\n".join(str(p) for p in (*report.errors, *report.warnings))
            text = head + (f"\n```\n{body}\n```" if body else "")
            await interaction.followup.send(text, ephemeral=True)
            return
        shown = problem_text(report.problems, REPORT_INLINE_MAX)
        await interaction.followup.send(
            f"{head}\n{shown}\nThe full report is attached.",
            file=discord.File(io.BytesIO(full.encode()), "kb-check.txt"),
            ephemeral=True,
        )

    @kb.command(
        name="reload", description="Reload the knowledge base from its files now", extras=THINKS
    )
    async def kb_reload(self, interaction: Interaction) -> None:
        log.info("/kb reload by %s", interaction.user.id)
        result = await self.bot.knowledge.reload()
        text = reload_line(result.ok, result.diff, result.problems)
        await interaction.followup.send(text[:MESSAGE_MAX], ephemeral=True)

    @kb.command(
        name="download",
        description="Download the knowledge-base files to edit them",
        extras=THINKS,
    )
    async def kb_download(self, interaction: Interaction) -> None:
        files = await asyncio.to_thread(store.snapshot, self.directory)
        if not files:
            await interaction.followup.send(
                "The knowledge directory has no YAML files.", ephemeral=True
            )
            return
        limit = getattr(interaction, "filesize_limit", 8 * 1024 * 1024)
        total = sum(len(d) for d in files.values())
        hint = "Edit a file, then send it back with `/kb upload`."
        if len(files) <= MAX_PLAIN_FILES and total <= limit:
            attachments = [discord.File(io.BytesIO(d), n) for n, d in files.items()]
            await interaction.followup.send(hint, files=attachments, ephemeral=True)
            return
        blob = await asyncio.to_thread(zip_files, files)
        if len(blob) > limit:
            await interaction.followup.send(
                f"The knowledge base is too large to send here ({len(blob):,} bytes zipped).",
                ephemeral=True,
            )
            return
        await interaction.followup.send(
            hint + " (Upload the YAML files one at a time, not the zip.)",
            file=discord.File(io.BytesIO(blob), "knowledge.zip"),
            ephemeral=True,
        )

    # ------------------------------------------------------------------ upload, rollback

    @kb.command(name="upload", description="Upload an edited knowledge-base file (preview first)")
    @app_commands.describe(file="A .yaml file from /kb download, edited")
    async def kb_upload(self, interaction: Interaction, file: discord.Attachment) -> None:
        try:
            name = store.safe_filename(file.filename)
        except ValueError as exc:
            await interaction.response.send_message(f"Not uploaded: {exc}.", ephemeral=True)
            return
        if file.size > MAX_FILE_BYTES:
            await interaction.response.send_message(
                f"Not uploaded: `{name}` is {file.size:,} bytes; a knowledge-base file may be "
                f"at most {MAX_FILE_BYTES:,} bytes (1 MB).",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            log.warning("could not download the upload %s: %s", file.url, exc)
            await interaction.followup.send(
                "I could not download that file from Discord; please try again.", ephemeral=True
            )
            return
        if len(data) > MAX_FILE_BYTES:
            await interaction.followup.send(
                f"Not uploaded: `{name}` is larger than {MAX_FILE_BYTES:,} bytes.", ephemeral=True
            )
            return
        log.info("/kb upload %s (%d bytes) by %s", name, len(data), interaction.user.id)
        proposal = await asyncio.to_thread(
            upload_proposal, self.directory, name, data, live=self.bot.knowledge.kb
        )
        await self._preview(interaction, proposal, what=f"Upload of `{name}`")

    @kb.command(
        name="rollback",
        description="Restore the knowledge base as it was before a change",
        extras=THINKS,
    )
    @app_commands.describe(version="The change to undo (see /kb history)")
    async def kb_rollback(self, interaction: Interaction, version: str) -> None:
        try:
            proposal = await asyncio.to_thread(
                rollback_proposal,
                self.directory,
                self.history,
                version.strip(),
                live=self.bot.knowledge.kb,
            )
        except (store.UnknownVersionError, OSError, ValueError) as exc:
            log.warning("rollback to %r refused: %s", version, exc)
            why = "its files cannot be read" if isinstance(exc, OSError) else str(exc)
            await interaction.followup.send(
                f"There is no saved version `{escape_user_text(version, 80)}` ({why}). "
                "Pick one from the list or see `/kb history`.",
                ephemeral=True,
            )
            return
        await self._preview(interaction, proposal, what=f"Rollback to `{version.strip()}`")

    @kb_rollback.autocomplete("version")
    async def _version_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if refusal(interaction) is not None:
            return []
        versions = await asyncio.to_thread(store.list_versions, self.history)
        rows = {r.id: r for r in await self.bot.storage.kb_versions(limit=100)}
        now = datetime.now(UTC)
        query = current.strip().lower()
        choices = []
        for v in versions:
            row = rows.get(v.id)
            name = version_choice_name(
                v.created_at, v.author, v.reason, row.summary if row else "", now=now
            )
            if query and query not in v.id.lower() and query not in name.lower():
                continue
            choices.append(app_commands.Choice(name=name, value=v.id))
            if len(choices) >= MAX_CHOICES:
                break
        return choices

    async def propose_negative(
        self, interaction: discord.Interaction[Any], entry_id: str, message: str
    ) -> None:
        """Preview ``message`` added to ``entry_id``'s ``not_this`` (after a deferral)."""
        entry = self.bot.knowledge.kb.get(entry_id)
        hint = Path(entry.location.file).name if entry is not None else ""
        try:
            proposal = await asyncio.to_thread(
                negative_proposal,
                self.directory,
                entry_id,
                message,
                live=self.bot.knowledge.kb,
                hint=hint,
            )
        except NegativeError as exc:
            await interaction.followup.send(f"Not added: {exc}.", ephemeral=True)
            return
        log.info("negative for %s previewed by %s", entry_id, interaction.user.id)
        what = f"Add “{escape_user_text(message, 60)}” to `{entry_id}` not_this"
        await self._preview(interaction, proposal, what=what)

    async def _preview(
        self, interaction: discord.Interaction[Any], proposal: Proposal, *, what: str
    ) -> None:
        """Show the preview of ``proposal``, with Apply / Cancel when it can be applied."""
        embed = proposal_embed(proposal, what=what)
        if not proposal.ok:
            await interaction.followup.send(embed=embed, ephemeral=True)
            return

        async def apply(pressed: discord.Interaction[Any]) -> str:
            return await self.apply(proposal, pressed)

        view = ProposalView(
            interaction.user.id, apply, what=what, timeout=self.preview_timeout, guard=refusal
        )
        view.message = await interaction.followup.send(
            embed=embed, view=view, ephemeral=True, wait=True
        )

    async def apply(self, proposal: Proposal, interaction: discord.Interaction[Any]) -> str:
        """Write a previewed change (refused when stale), record the version, reload."""
        user = interaction.user
        author = author_label(user.name, user.id)
        summary = diff_summary(proposal.diff)
        async with self._apply_lock:
            try:
                version = await asyncio.to_thread(
                    store.write_files,
                    self.directory,
                    proposal.files,
                    history_dir=self.history,
                    author=author,
                    reason=proposal.reason,
                    expected_fingerprint=proposal.fingerprint,
                    remove=proposal.remove,
                )
            except store.StaleError:
                log.info("stale apply of %r by %s refused", proposal.reason, user.id)
                return STALE
            except (OSError, ValueError) as exc:
                log.exception("writing the knowledge base failed")
                return write_failure(exc)
            feed = self.bot.get_cog(FEED)
            if isinstance(feed, Attributes):
                feed.attribute(proposal.new_digest, f"{user.name} ({proposal.reason})")
            await record_version(self.bot.storage, version, summary)
            result = await self.bot.knowledge.reload()
        if not result.ok:
            return (
                "The files were written but the reload failed (the previous knowledge base "
                f"stays live):\n{problem_text(result.problems, 1500)}"
            )
        return (
            f"Applied: {summary}. It is live now. To undo it, use `/kb rollback` with "
            f"version `{version.id}`."
        )

    # ------------------------------------------------------------------ review, history

    @kb.command(name="why", description="Why the bot answers a message or stays silent")
    @app_commands.describe(message="The message to explain")
    async def kb_why(
        self, interaction: Interaction, message: app_commands.Range[str, 1, review.MAX_MESSAGE]
    ) -> None:
        await review.why(self, interaction, message)

    @kb.command(
        name="false-answers",
        description="Answers voted Not helpful or dismissed",
        extras=THINKS,
    )
    @app_commands.describe(days=DAYS_HELP)
    async def kb_false_answers(self, interaction: Interaction, days: Days = 30) -> None:
        await review.false_answers(self, interaction, days)

    @kb.command(name="history", description="Recent changes to the knowledge base", extras=THINKS)
    async def kb_history(self, interaction: Interaction) -> None:
        versions = await asyncio.to_thread(store.list_versions, self.history)
        rows = {r.id: r for r in await self.bot.storage.kb_versions(limit=100)}
        if not versions:
            await interaction.followup.send("No changes have been saved yet.", ephemeral=True)
            return
        lines = []
        for v in versions[:15]:
            row = rows.get(v.id)
            stamp = int(v.created_at.timestamp())
            who = escape_user_text(v.author, 60)
            what = f" — {row.summary}" if row and row.summary else ""
            lines.append(f"<t:{stamp}:R> **{who}**: {escape_user_text(v.reason, 80)}{what}")
            lines.append(f"  ↳ undo with `/kb rollback version:{v.id}`")
        embed = list_embed(
            "Knowledge-base history",
            lines,
            footer="Each version is the knowledge base as it was before that change.",
        )
        await interaction.followup.send(embed=embed, ephemeral=True)

    # ------------------------------------------------------------------ unanswered, stats

    @kb.command(name="unanswered", description="Questions the bot could not answer", extras=THINKS)
    @app_commands.describe(days=DAYS_HELP)
    async def kb_unanswered(self, interaction: Interaction, days: Days = 30) -> None:
        groups = await self.bot.storage.unanswered(
            days=days, guild_id=interaction.guild_id, include_dms=True
        )
        if not groups:
            await interaction.followup.send(
                f"No unanswered questions in the last {days} days.", ephemeral=True
            )
            return
        lines = []
        for g in groups:
            lines.append(f"**{g.count}×** {escape_user_text(g.text, 150)}")
            others = [e for e in g.examples if e != g.text][:2]
            for example in others:
                lines.append(f"  ↳ {escape_user_text(example, 100)}")
        embed = list_embed(
            f"Unanswered questions, last {days} days (this server and DMs)",
            lines,
            footer="Most frequent first; similar questions grouped.",
        )
        await interaction.followup.send(embed=embed, ephemeral=True)

    @kb.command(
        name="unanswered-clear", description="Forget this server's and DMs' unanswered questions"
    )
    async def kb_unanswered_clear(self, interaction: Interaction) -> None:
        what = "Clearing the unanswered questions"
        view = ConfirmView(
            interaction.user.id,
            self._clear_unanswered,
            texts=ConfirmTexts(
                not_owner="Only the moderator who ran the command can confirm it.",
                finished="This is finished.",
                cancelled=f"{what}: cancelled, nothing was deleted.",
                expired=f"{what}: expired, nothing was deleted. Run the command again.",
            ),
            timeout=self.confirm_timeout,
            guard=refusal,
        )
        await interaction.response.send_message(
            "Delete every unanswered question recorded for this server and in DMs?"
            " This cannot be undone.",
            view=view,
            ephemeral=True,
        )
        view.message = await interaction.original_response()

    async def _clear_unanswered(self, interaction: discord.Interaction[Any]) -> str:
        """The confirmed ``/kb unanswered-clear``."""
        count = await self.bot.storage.clear_unanswered(
            guild_id=interaction.guild_id, include_dms=True
        )
        log.info("%s cleared %d unanswered questions", interaction.user.id, count)
        return f"Cleared {count} unanswered question{'s' * (count != 1)}."

    @kb.command(
        name="stats",
        description="Answers given per entry, votes and unanswered count",
        extras=THINKS,
    )
    @app_commands.describe(days=DAYS_HELP)
    async def kb_stats(self, interaction: Interaction, days: Days = 30) -> None:
        stats = await self.bot.storage.stats(
            days=days, guild_id=interaction.guild_id, include_dms=True
        )
        rows = stat_rows(stats.answers, stats.helpful, stats.not_helpful)
        embed = discord.Embed(
            title=f"Answers in the last {days} days (this server and DMs)",
            description=stats_table(rows),
            colour=BRAND_COLOUR,
        )
        embed.add_field(name="Answers", value=str(sum(stats.answers.values())))
        embed.add_field(
            name="Helpful / not",
            value=f"{sum(stats.helpful.values())} / {sum(stats.not_helpful.values())}",
        )
        embed.add_field(name="Unanswered", value=str(stats.unanswered))
        embed.set_footer(text="Bars: answers per entry; +helpful/−not helpful votes.")
        chart = await self.stats_chart_file(days=days, guild_id=interaction.guild_id)
        await interaction.followup.send(embed=embed, ephemeral=True, files=chart)

    async def stats_chart_file(self, *, days: int, guild_id: int | None) -> list[discord.File]:
        """The weekly chart as a PNG attachment (drawn in a thread); none if drawing fails."""
        try:
            weekly = await self.bot.storage.weekly_stats(
                days=days, guild_id=guild_id, include_dms=True
            )
            png = await asyncio.to_thread(stats_chart, weekly)
        except Exception:
            log.exception("drawing the statistics chart failed; sending the table only")
            return []
        alt = f"Chart of the last {days} days: answers per entry, votes and unanswered per week"
        return [discord.File(io.BytesIO(png), filename=CHART_FILENAME, description=alt)]


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point: a guild command of the home servers (global when
    ``HOME_GUILD_IDS`` is unset, so that it can say why it is off)."""
    home = [discord.Object(g) for g in sorted(bot.settings.home_guild_ids)]
    await bot.add_cog(KbAdmin(bot), guilds=home or discord.utils.MISSING)
