"""Moderation: ``/kb`` (check, reload, download, upload, history, rollback, unanswered,
stats, why, false-answers) and ``/whytwitter`` (answer channels, mod-log channel, cooldown,
forget a member).

Only the home servers (``HOME_GUILD_IDS``) own the knowledge base and the bot's settings: both
groups are registered as guild commands there only (globally when ``HOME_GUILD_IDS`` is unset,
to say so), and every command, Apply / Cancel press and autocomplete from any other server or a
DM is refused at run time. Moderators are members of a home server with Manage Server or a role
in ``MODERATOR_ROLE_IDS``. Both groups are registered with
``default_permissions(manage_guild=True)`` so Discord hides them from others, and every command
checks again at run time (admins can re-grant commands in Integrations).

The cog also announces knowledge-base reloads (good and bad) in the mod-log channel, and runs
the daily retention purge of old questions, answers and votes.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import io
import logging
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands, ui
from discord.ext import commands, tasks

from bot.cards import answer_card
from bot.charts import FILENAME as CHART_FILENAME
from bot.charts import stats_chart
from bot.cogs import review
from bot.cogs.privacy import ask_to_forget
from bot.embeds import BRAND_COLOUR, escape_user_text, truncate
from bot.home import home_refusal
from bot.kb import store
from bot.kb.check import check_kb, check_knowledge
from bot.kb.diff import KBDiff, diff_kbs
from bot.kb.live import ReloadResult
from bot.kb.loader import MAX_FILE_BYTES, digest_files, load_knowledge_from_texts
from bot.kb.model import KBError, KnowledgeBase, Problem
from bot.kb.negatives import NegativeError, add_not_this_to_files
from bot.modlog import (
    MESSAGE_MAX,
    diff_lines,
    diff_summary,
    fit_lines,
    problem_text,
    reload_line,
    stat_rows,
    stats_table,
    version_choice_name,
)
from bot.storage import VersionRow
from bot.views import ConfirmTexts, ConfirmView

if TYPE_CHECKING:
    from bot.bot import WhyTwitterBot

log = logging.getLogger(__name__)

MODERATORS_ONLY: Final = (
    "Moderators only: you need **Manage Server** or a moderator role to use this command."
)
HISTORY_DIRNAME: Final = "kb-history"
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
WARNING_COLOUR: Final = discord.Colour.orange()
ERROR_COLOUR: Final = discord.Colour.red()


def history_dir(data_dir: Path) -> Path:
    """Where saved knowledge-base versions live (``DATA_DIR/kb-history``)."""
    return data_dir / HISTORY_DIRNAME


def is_moderator(
    user: discord.abc.User, permissions: discord.Permissions, role_ids: frozenset[int]
) -> bool:
    """Manage Server (in the guild or in the channel's computed permissions) or a moderator
    role; never in DMs."""
    if not isinstance(user, discord.Member):
        return False
    if permissions.manage_guild or user.guild_permissions.manage_guild:
        return True
    return any(role.id in role_ids for role in user.roles)


def author_label(user: discord.abc.User) -> str:
    """How a moderator is named in the history: ``name (id)``."""
    return f"{user.name} ({user.id})"


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class Proposal:
    """A previewed change of the knowledge-base files, ready to apply (or refused)."""

    reason: str
    files: Mapping[str, bytes]
    remove: tuple[str, ...]
    fingerprint: str
    """Fingerprint of the live directory when the preview was made (stale check)."""
    new_digest: str
    diff: KBDiff | None
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        """True when the change can be applied."""
        return not self.errors and not self.unchanged


def _limit_problems(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    for entry in kb.entries:
        key = "answer" if entry.kind == "objection" else "summary"
        line = entry.field_lines.get(key, entry.location.line) or 1
        for violation in answer_card(kb, entry, fit=False).violations():
            problems.append(
                Problem(entry.location.file, line, f"{entry.kind} `{entry.id}`: {violation}")
            )
    return problems


def evaluate(
    current: Mapping[str, bytes],
    new: Mapping[str, bytes],
    *,
    live: KnowledgeBase,
    reason: str,
    remove: tuple[str, ...] = (),
) -> Proposal:
    """Validate the knowledge base ``new`` would make (blocking; run it in a thread).

    ``current`` are the files on disk now (their digest is the stale-check fingerprint),
    ``new`` the complete set of files after the change.
    """
    fingerprint = digest_files(current)
    new_digest = digest_files(new)
    writes = {name: data for name, data in new.items() if current.get(name) != data}
    if not writes and not remove:
        return Proposal(reason, {}, (), fingerprint, new_digest, None, (), unchanged=True)
    try:
        kb = load_knowledge_from_texts(new)
    except KBError as exc:
        return Proposal(reason, writes, remove, fingerprint, new_digest, None, tuple(exc.problems))
    errors = _limit_problems(kb)
    if errors:
        return Proposal(reason, writes, remove, fingerprint, new_digest, None, tuple(errors))
    touched = set(writes)
    blocking = set(errors)
    warnings = tuple(
        Problem(p.file, p.line, p.message, severity="warning")
        for p in check_kb(kb)
        if p not in blocking and Path(p.file).name in touched
    )
    titles = {entry.id: entry.title for entry in (*live.entries, *kb.entries)}
    return Proposal(
        reason,
        writes,
        remove,
        fingerprint,
        new_digest,
        diff_kbs(live, kb),
        (),
        warnings,
        titles,
    )


def upload_proposal(directory: Path, name: str, data: bytes, *, live: KnowledgeBase) -> Proposal:
    """The change an uploaded file makes: it replaces (or adds) ``name``."""
    current = store.snapshot(directory)
    return evaluate(current, {**current, name: data}, live=live, reason=f"upload {name}")


def rollback_proposal(
    directory: Path, history: Path, version_id: str, *, live: KnowledgeBase
) -> Proposal:
    """The change restoring the files saved as ``version_id`` (UnknownVersionError if none)."""
    saved = store.read_version(history, version_id)
    current = store.snapshot(directory)
    remove = tuple(sorted(name for name in current if name not in saved))
    return evaluate(current, saved, live=live, reason=f"rollback to {version_id}", remove=remove)


def negative_proposal(
    directory: Path, entry_id: str, message: str, *, live: KnowledgeBase, hint: str = ""
) -> Proposal:
    """The change adding ``message`` to ``entry_id``'s ``not_this`` (in the file holding it,
    ``hint`` first); NegativeError when it cannot be added."""
    current = store.snapshot(directory)
    name, data = add_not_this_to_files(current, entry_id, message, hint=hint)
    return evaluate(current, {**current, name: data}, live=live, reason=f"negative for {entry_id}")


def preview_embed(proposal: Proposal, *, what: str) -> discord.Embed:
    """The preview of a change: entries added / changed / removed, warnings or errors."""
    if proposal.unchanged:
        return discord.Embed(
            title=f"{what}: nothing to change",
            description="The files are identical to the live knowledge base.",
            colour=BRAND_COLOUR,
        )
    if proposal.errors:
        count = len(proposal.errors)
        embed = discord.Embed(
            title=f"{what}: not applied — {count} problem{'s' * (count != 1)}",
            description=problem_text(proposal.errors, 3900)
            + "\n\nNothing was changed. Fix the lines above and try again.",
            colour=ERROR_COLOUR,
        )
        return embed
    lines = diff_lines(proposal.diff, proposal.titles) if proposal.diff else []
    summary = diff_summary(proposal.diff)
    description = fit_lines(lines, 3000) if lines else "No entry changes (comments or formatting)."
    embed = discord.Embed(
        title=f"{what}: preview",
        description=f"**{summary}**\n{description}",
        colour=WARNING_COLOUR if proposal.warnings else BRAND_COLOUR,
    )
    files = ", ".join(f"`{n}`" for n in (*proposal.files, *(f"−{r}" for r in proposal.remove)))
    embed.add_field(name="Files", value=truncate(files, 1024), inline=False)
    if proposal.warnings:
        embed.add_field(
            name=f"Warnings ({len(proposal.warnings)})",
            value=problem_text(proposal.warnings, 1024),
            inline=False,
        )
    embed.set_footer(
        text="Apply writes the files (the current version is kept in /kb history). "
        "These buttons expire in 10 minutes."
    )
    return embed


# --------------------------------------------------------------------------- the view


class ProposalView(ui.View):
    """Apply / Cancel for one preview: only its moderator may press them; they expire."""

    def __init__(self, cog: Moderation, proposal: Proposal, owner_id: int, *, what: str) -> None:
        super().__init__(timeout=cog.preview_timeout)
        self.cog = cog
        self.proposal = proposal
        self.owner_id = owner_id
        self.what = what
        self.message: discord.InteractionMessage | discord.WebhookMessage | None = None
        self.done = False

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        refusal = home_refusal(interaction.guild_id, self.cog.bot.settings.home_guild_ids)
        if refusal is not None:
            log.warning(
                "%s pressed a preview button in guild %s: not a home server, refused",
                interaction.user.id,
                interaction.guild_id,
            )
            await interaction.response.send_message(refusal, ephemeral=True)
            return False
        if interaction.user.id != self.owner_id:
            log.info(
                "%s pressed a preview button of %s: refused", interaction.user.id, self.owner_id
            )
            await interaction.response.send_message(
                "Only the moderator who made this preview can apply or cancel it.",
                ephemeral=True,
            )
            return False
        return True

    def _disable(self) -> None:
        for item in self.children:
            if isinstance(item, ui.Button):
                item.disabled = True

    @ui.button(label="Apply", style=discord.ButtonStyle.success)
    async def apply(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        if self.done:
            await interaction.response.send_message("This preview is finished.", ephemeral=True)
            return
        self.done = True
        self.stop()
        self._disable()
        await interaction.response.edit_message(view=self)
        text = await self.cog.apply(self.proposal, interaction.user, role_check=interaction)
        await interaction.followup.send(text, ephemeral=True)

    @ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: ui.Button[Any]) -> None:
        self.done = True
        self.stop()
        self._disable()
        await interaction.response.edit_message(
            content=f"{self.what} cancelled: nothing was changed.", view=self
        )

    async def on_timeout(self) -> None:
        if self.done or self.message is None:
            return
        self._disable()
        try:
            await self.message.edit(
                content=f"{self.what} expired: nothing was changed. Run the command again.",
                view=self,
            )
        except discord.HTTPException:
            log.debug("could not mark an expired preview", exc_info=True)


def write_failure(exc: Exception) -> str:
    """Why a write failed, for a moderator: the OS reason, never a path."""
    if isinstance(exc, OSError):
        reason = {
            errno.EROFS: "the knowledge directory is read-only",
            errno.EACCES: "the bot may not write to the knowledge directory",
            errno.EPERM: "the bot may not write to the knowledge directory",
            errno.ENOSPC: "the disk is full",
            errno.EDQUOT: "the disk quota is used up",
        }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    else:
        reason = str(exc)
    return (
        f"Writing the files failed ({reason}), so nothing was changed and no version was saved. "
        "Ask the operator to check the bot's log."
    )


# --------------------------------------------------------------------------- the cog


class Moderation(commands.Cog):
    """Moderator commands, reload announcements and retention."""

    kb = app_commands.Group(
        name="kb",
        description="Moderators: check, edit and undo the knowledge base",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    whytwitter = app_commands.Group(
        name="whytwitter",
        description="Moderators: where and how often the bot answers",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    channels = app_commands.Group(
        name="channels", description="Channels where the bot answers unprompted", parent=whytwitter
    )

    def __init__(self, bot: WhyTwitterBot) -> None:
        self.bot = bot
        self._attributions: dict[str, str] = {}
        self._last_failure: tuple[Problem, ...] | None = None
        self._apply_lock = asyncio.Lock()
        self.preview_timeout = PREVIEW_TIMEOUT
        self.confirm_timeout = CONFIRM_TIMEOUT

    # ------------------------------------------------------------------ lifecycle

    async def cog_load(self) -> None:
        # The bot runs the watcher; the cog only announces what each reload did.
        self.bot.knowledge.add_listener(self.on_reload)
        self.purge_old_rows.start()

    async def cog_unload(self) -> None:
        self.bot.knowledge.remove_listener(self.on_reload)
        self.purge_old_rows.cancel()

    @tasks.loop(hours=24)
    async def purge_old_rows(self) -> None:
        """Delete questions, answers and votes older than the retention period."""
        try:
            deleted = await self.bot.storage.purge(
                retention_days=self.bot.settings.unanswered_retention_days
            )
        except Exception:
            log.exception("the daily retention purge failed")
            return
        log.info("retention purge: %d old rows deleted", deleted)

    @purge_old_rows.before_loop
    async def _before_purge(self) -> None:
        await self.bot.wait_until_ready()

    @property
    def directory(self) -> Path:
        return self.bot.knowledge.directory

    @property
    def history(self) -> Path:
        return history_dir(self.bot.settings.data_dir)

    # ------------------------------------------------------------------ mod-log

    async def modlog_channels(self) -> set[int]:
        """Each home guild's own mod-log channel, else ``MOD_LOG_CHANNEL_ID`` (other servers
        never hear about the knowledge base)."""
        fallback = self.bot.settings.mod_log_channel_id
        fallback_guild = None
        if fallback is not None:
            channel = self.bot.get_channel(fallback)
            fallback_guild = getattr(channel, "guild", None)
        found: set[int] = set()
        fallback_overridden = False
        home = self.bot.settings.home_guild_ids
        for guild in self.bot.guilds:
            if guild.id not in home:
                continue
            try:
                own = (await self.bot.guild_settings(guild.id)).modlog_channel
            except Exception:
                log.exception("could not read the settings of guild %s", guild.id)
                continue
            if own is not None:
                found.add(own)
                if fallback_guild is not None and fallback_guild.id == guild.id:
                    fallback_overridden = True
        if fallback is not None and not fallback_overridden:
            found.add(fallback)
        return found

    async def post_modlog(self, text: str) -> None:
        """Send ``text`` to every mod-log channel; failures are logged, never raised."""
        for channel_id in sorted(await self.modlog_channels()):
            channel = self.bot.get_channel(channel_id)
            try:
                if channel is None:
                    channel = await self.bot.fetch_channel(channel_id)
                if not isinstance(channel, discord.abc.Messageable):
                    log.warning("mod-log channel %s cannot receive messages", channel_id)
                    continue
                await channel.send(text[:MESSAGE_MAX])
            except discord.HTTPException as exc:
                log.warning("could not post to the mod-log channel %s: %s", channel_id, exc)

    async def on_reload(self, result: ReloadResult) -> None:
        """Announce a reload in the mod-log: changes in one line, or the problems."""
        if result.ok:
            self._last_failure = None
            if result.version is not None:  # a hand edit, saved in the history
                await self._record_version(result.version, diff_summary(result.diff))
            by = self._attributions.pop(self.bot.knowledge.kb.digest, None)
            if result.diff is not None and result.diff.empty:
                return  # e.g. the watcher seeing a write already reloaded
            await self.post_modlog(reload_line(True, result.diff, (), by=by))
            return
        if result.problems == self._last_failure:
            return  # the same broken files seen again (watcher + forced reload)
        self._last_failure = result.problems
        await self.post_modlog(reload_line(False, None, result.problems))

    async def _record_version(self, version: store.Version, summary: str) -> None:
        try:
            await self.bot.storage.record_kb_version(
                VersionRow(version.id, version.created_at, version.author, version.reason, summary)
            )
        except Exception:
            log.exception("recording knowledge-base version %s failed", version.id)

    # ------------------------------------------------------------------ the gate

    async def gate(self, interaction: discord.Interaction[WhyTwitterBot]) -> bool:
        """True for moderators of a home server; others get an ephemeral refusal and a log
        line."""
        refusal = home_refusal(interaction.guild_id, self.bot.settings.home_guild_ids)
        if refusal is not None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.warning(
                "refused /%s for %s in guild %s: not a home server",
                command,
                interaction.user.id,
                interaction.guild_id,
            )
            await interaction.response.send_message(refusal, ephemeral=True)
            return False
        if is_moderator(
            interaction.user, interaction.permissions, self.bot.settings.moderator_role_ids
        ):
            return True
        command = interaction.command.qualified_name if interaction.command else "?"
        log.warning(
            "refused /%s for %s (%s) in guild %s: not a moderator",
            command,
            interaction.user,
            interaction.user.id,
            interaction.guild_id,
        )
        await interaction.response.send_message(MODERATORS_ONLY, ephemeral=True)
        return False

    # ------------------------------------------------------------------ /kb check, reload

    @kb.command(name="check", description="Validate the live knowledge-base files")
    async def kb_check(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await asyncio.to_thread(
            functools.partial(check_knowledge, self.directory, label=f"{self.directory.name}/")
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

    @kb.command(name="reload", description="Reload the knowledge base from its files now")
    async def kb_reload(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        log.info("/kb reload by %s", interaction.user.id)
        result = await self.bot.knowledge.reload()
        text = reload_line(result.ok, result.diff, result.problems)
        await interaction.followup.send(text[:MESSAGE_MAX], ephemeral=True)

    # ------------------------------------------------------------------ /kb download

    @kb.command(name="download", description="Download the knowledge-base files to edit them")
    async def kb_download(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
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

    # ------------------------------------------------------------------ upload / rollback

    @kb.command(name="upload", description="Upload an edited knowledge-base file (preview first)")
    @app_commands.describe(file="A .yaml file from /kb download, edited")
    async def kb_upload(
        self, interaction: discord.Interaction[WhyTwitterBot], file: discord.Attachment
    ) -> None:
        if not await self.gate(interaction):
            return
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

    @kb.command(name="rollback", description="Restore the knowledge base as it was before a change")
    @app_commands.describe(version="The change to undo (see /kb history)")
    async def kb_rollback(
        self, interaction: discord.Interaction[WhyTwitterBot], version: str
    ) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
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
        self, interaction: discord.Interaction[WhyTwitterBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if home_refusal(
            interaction.guild_id, self.bot.settings.home_guild_ids
        ) is not None or not is_moderator(
            interaction.user, interaction.permissions, self.bot.settings.moderator_role_ids
        ):
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

    async def _preview(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        proposal: Proposal,
        *,
        what: str,
    ) -> None:
        embed = preview_embed(proposal, what=what)
        if not proposal.ok:
            await interaction.followup.send(embed=embed, ephemeral=True)
            return
        view = ProposalView(self, proposal, interaction.user.id, what=what)
        view.message = await interaction.followup.send(
            embed=embed, view=view, ephemeral=True, wait=True
        )

    async def apply(
        self,
        proposal: Proposal,
        user: discord.abc.User,
        *,
        role_check: discord.Interaction[Any] | None = None,
    ) -> str:
        """Write a previewed change (refused when stale), record the version, reload."""
        if role_check is not None:
            refusal = home_refusal(role_check.guild_id, self.bot.settings.home_guild_ids)
            if refusal is not None:
                return refusal
        if role_check is not None and not is_moderator(
            role_check.user, role_check.permissions, self.bot.settings.moderator_role_ids
        ):
            return MODERATORS_ONLY
        author = author_label(user)
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
            self._attributions[proposal.new_digest] = f"{user.name} ({proposal.reason})"
            try:
                await self.bot.storage.record_kb_version(
                    VersionRow(version.id, version.created_at, author, proposal.reason, summary)
                )
            except Exception:
                log.exception("recording knowledge-base version %s failed", version.id)
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

    # ------------------------------------------------------------------ /kb why, false-answers

    @kb.command(name="why", description="Why the bot answers a message or stays silent")
    @app_commands.describe(message="The message to explain")
    async def kb_why(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        message: app_commands.Range[str, 1, review.MAX_MESSAGE],
    ) -> None:
        if not await self.gate(interaction):
            return
        await review.why(self, interaction, message)

    @kb.command(name="false-answers", description="Answers voted Not helpful or dismissed")
    @app_commands.describe(days="How many days back (default 30)")
    async def kb_false_answers(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        days: app_commands.Range[int, 1, 365] = 30,
    ) -> None:
        if not await self.gate(interaction):
            return
        await review.false_answers(self, interaction, days)

    # ------------------------------------------------------------------ /kb history

    @kb.command(name="history", description="Recent changes to the knowledge base")
    async def kb_history(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
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
        embed = discord.Embed(
            title="Knowledge-base history",
            description=fit_lines(lines, 4000),
            colour=BRAND_COLOUR,
        )
        embed.set_footer(text="Each version is the knowledge base as it was before that change.")
        await interaction.followup.send(embed=embed, ephemeral=True)

    # ------------------------------------------------------------------ unanswered, stats

    @kb.command(name="unanswered", description="Questions the bot could not answer")
    @app_commands.describe(days="How many days back (default 30)")
    async def kb_unanswered(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        days: app_commands.Range[int, 1, 365] = 30,
    ) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
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
        embed = discord.Embed(
            title=f"Unanswered questions, last {days} days (this server and DMs)",
            description=fit_lines(lines, 4000),
            colour=BRAND_COLOUR,
        )
        embed.set_footer(text="Most frequent first; similar questions grouped.")
        await interaction.followup.send(embed=embed, ephemeral=True)

    @kb.command(
        name="unanswered-clear", description="Forget this server's and DMs' unanswered questions"
    )
    async def kb_unanswered_clear(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        if not await self.gate(interaction):
            return
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
        )
        await interaction.response.send_message(
            "Delete every unanswered question recorded for this server and in DMs?"
            " This cannot be undone.",
            view=view,
            ephemeral=True,
        )
        view.message = await interaction.original_response()

    async def _clear_unanswered(self, interaction: discord.Interaction[Any]) -> str:
        """The confirmed ``/kb unanswered-clear`` (the moderator is checked again)."""
        refusal = home_refusal(interaction.guild_id, self.bot.settings.home_guild_ids)
        if refusal is not None:
            return refusal
        if not is_moderator(
            interaction.user, interaction.permissions, self.bot.settings.moderator_role_ids
        ):
            return MODERATORS_ONLY
        count = await self.bot.storage.clear_unanswered(
            guild_id=interaction.guild_id, include_dms=True
        )
        log.info("%s cleared %d unanswered questions", interaction.user.id, count)
        return f"Cleared {count} unanswered question{'s' * (count != 1)}."

    @kb.command(name="stats", description="Answers given per entry, votes and unanswered count")
    @app_commands.describe(days="How many days back (default 30)")
    async def kb_stats(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        days: app_commands.Range[int, 1, 365] = 30,
    ) -> None:
        if not await self.gate(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
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

    # ------------------------------------------------------------------ /whytwitter

    async def _settings_changed(self, guild_id: int) -> None:
        self.bot.invalidate_guild_settings(guild_id)

    @channels.command(name="add", description="Answer objections in this channel unprompted")
    async def channels_add(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        channel: discord.TextChannel | discord.Thread | discord.ForumChannel,
    ) -> None:
        if not await self.gate(interaction) or interaction.guild_id is None:
            return
        added = await self.bot.storage.add_answer_channel(interaction.guild_id, channel.id)
        await self._settings_changed(interaction.guild_id)
        log.info("%s added answer channel %s", interaction.user.id, channel.id)
        text = (
            f"I will answer objections in {channel.mention}."
            if added
            else f"{channel.mention} already is an answer channel."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @channels.command(name="remove", description="Stop answering unprompted in this channel")
    async def channels_remove(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        channel: discord.TextChannel | discord.Thread | discord.ForumChannel,
    ) -> None:
        if not await self.gate(interaction) or interaction.guild_id is None:
            return
        removed = await self.bot.storage.remove_answer_channel(interaction.guild_id, channel.id)
        await self._settings_changed(interaction.guild_id)
        log.info("%s removed answer channel %s", interaction.user.id, channel.id)
        if removed:
            text = f"I no longer answer unprompted in {channel.mention}."
        elif channel.id in self.bot.settings.answer_channel_ids:
            text = (
                f"{channel.mention} is set in the bot's configuration (`ANSWER_CHANNEL_IDS`); "
                "ask the operator to remove it there."
            )
        else:
            text = f"{channel.mention} was not an answer channel."
        await interaction.response.send_message(text, ephemeral=True)

    @channels.command(name="list", description="Where the bot answers unprompted")
    async def channels_list(self, interaction: discord.Interaction[WhyTwitterBot]) -> None:
        if not await self.gate(interaction) or interaction.guild_id is None:
            return
        own = (await self.bot.guild_settings(interaction.guild_id)).answer_channels
        guild = interaction.guild
        configured = {
            c
            for c in self.bot.settings.answer_channel_ids | self.bot.settings.forum_channel_ids
            if guild is None or guild.get_channel_or_thread(c) is not None
        }
        lines = [f"<#{c}>" for c in sorted(own)]
        lines += [f"<#{c}> (bot configuration)" for c in sorted(configured - own)]
        text = (
            "I answer unprompted in:\n" + "\n".join(lines)
            if lines
            else "No answer channels: I answer only when mentioned, in DMs and with `/ask`."
        )
        await interaction.response.send_message(fit_lines(text.split("\n"), 1900), ephemeral=True)

    @whytwitter.command(name="modlog", description="Where reloads and knowledge errors are posted")
    @app_commands.describe(channel="The mod-log channel (leave empty to use the default)")
    async def set_modlog(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        channel: discord.TextChannel | None = None,
    ) -> None:
        if not await self.gate(interaction) or interaction.guild_id is None:
            return
        await self.bot.storage.set_modlog_channel(
            interaction.guild_id, channel.id if channel else None
        )
        await self._settings_changed(interaction.guild_id)
        log.info("%s set the mod-log channel to %s", interaction.user.id, channel)
        fallback = self.bot.settings.mod_log_channel_id
        if channel is not None:
            text = f"Knowledge-base reloads and errors will be posted in {channel.mention}."
        elif fallback is not None:
            text = f"Mod-log reset to the default, <#{fallback}>."
        else:
            text = "Mod-log unset: reload errors go to the bot's log only."
        await interaction.response.send_message(text, ephemeral=True)

    @whytwitter.command(name="cooldown", description="Minutes between answers in a channel")
    @app_commands.describe(minutes="Minutes (0 = no cooldown); leave empty for the default")
    async def set_cooldown(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        minutes: app_commands.Range[float, 0, 1440] | None = None,
    ) -> None:
        if not await self.gate(interaction) or interaction.guild_id is None:
            return
        await self.bot.storage.set_cooldown(interaction.guild_id, minutes)
        await self._settings_changed(interaction.guild_id)
        log.info("%s set the cooldown to %s", interaction.user.id, minutes)
        if minutes is None:
            default = self.bot.settings.channel_cooldown_minutes
            text = f"Cooldown reset to the default ({default:g} minutes)."
        else:
            text = f"The bot now waits {minutes:g} minutes between answers in a channel."
        await interaction.response.send_message(text, ephemeral=True)

    @whytwitter.command(
        name="forget", description="Delete a member's votes and unanswered questions"
    )
    @app_commands.describe(
        member="The member whose data to delete",
        user_id="Or their user id (for someone who left the server)",
    )
    async def forget_member(
        self,
        interaction: discord.Interaction[WhyTwitterBot],
        member: discord.User | None = None,
        user_id: str | None = None,
    ) -> None:
        if not await self.gate(interaction):
            return
        target: int | None = member.id if member is not None else None
        if target is None and user_id is not None:
            try:
                target = int(user_id.strip())
            except ValueError:
                target = None
            if target is not None and not 0 < target < 2**64:
                target = None
        if target is None or (member is not None and user_id is not None):
            await interaction.response.send_message(
                "Give either a member or a user id (a number), not both.", ephemeral=True
            )
            return
        await ask_to_forget(interaction, target, own=False, label=f"<@{target}> ({target})")


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """The files in one zip archive (in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


async def setup(bot: WhyTwitterBot) -> None:
    """Extension entry point: the groups are guild commands of the home servers (global when
    ``HOME_GUILD_IDS`` is unset, so that they can say why they are off)."""
    home = [discord.Object(g) for g in sorted(bot.settings.home_guild_ids)]
    await bot.add_cog(Moderation(bot), guilds=home or discord.utils.MISSING)
