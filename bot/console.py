"""The local console: try messages against the knowledge base without Discord.

Reads lines with ``input()``; works interactively and on a piped stdin (until EOF).
Commands: ``quit``, ``exit`` or ``:q`` quit, ``:reload`` re-reads the files, ``:benefits``,
``:objections``, ``:help``. Discord markdown (``**bold**``, ``*italics*``, ```code```) is
shown as plain text.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cards import Card, answer_card, benefit_pages, objections_card, suggestions_text
from bot.cli import build_or_report, load_or_report
from bot.kb.model import KnowledgeBase
from bot.service.replies import Matcher, Reply, ask

if TYPE_CHECKING:
    from bot.matching.factory import MatcherConfig

PROMPT = "you> "
HELP = (
    "Type a message as a member would. Commands: quit (or exit, :q), :reload re-read the "
    "files, :benefits, :objections, :help"
)
QUIT_COMMANDS = frozenset({"quit", "exit", ":q", ":quit", ":exit", "q"})
"""What ends the console (case and a trailing "()" or "!" ignored)."""
_MARKUP = re.compile(
    r"\*\*(?=\S)(.+?)(?<=\S)\*\*"  # **bold**
    r"|__(?=\S)(.+?)(?<=\S)__"  # __underline__
    r"|(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"  # *italics*
    r"|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"  # _italics_ (not snake_case)
    r"|`([^`\n]+)`",  # `code`
    re.DOTALL,
)


def plain_text(markdown: str) -> str:
    """Discord markdown as a terminal shows plain text: the words, without the markers."""
    previous = None
    text = markdown
    while previous != text:  # nested markers (***both***) take more than one pass
        previous = text
        text = _MARKUP.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    return text


NO_ANSWER = (
    "No answer. (In a channel the bot stays silent; asked directly it says it has no answer "
    "yet and points to /benefits.)"
)


def render_card(card: Card) -> str:
    """A card as plain text, as the embed would read (markdown markers removed)."""
    lines = [f"== {plain_text(card.title)} =="]
    if card.description:
        lines.append(plain_text(card.description))
    for f in card.fields:
        value = plain_text(f.value)
        lines += ["", f"{plain_text(f.name)}:", *(f"  {v}" for v in value.splitlines())]
    if card.footer:
        lines += ["", f"-- {card.footer}"]
    return "\n".join(lines)


def reply_text(kb: KnowledgeBase, matcher: Matcher, text: str) -> str:
    """What the bot would say to ``text`` asked directly (answer, suggestions or none)."""
    return render_reply(kb, ask(kb, matcher, text))


def render_reply(kb: KnowledgeBase, reply: Reply) -> str:
    """A reply as plain text: the answer's card, the "did you mean" list, or no answer."""
    if reply.entry is not None:
        return render_card(answer_card(kb, reply.entry))
    if reply.suggestions:
        return suggestions_text(reply.suggestions)
    return NO_ANSWER


def console_command(
    *, kb_dir: Path | None, intro: str | None = None, config: MatcherConfig | None = None
) -> int:
    """Run the prompt until ``quit``/``exit``/``:q``, EOF or Ctrl-C (exit 0); 1 if the KB
    does not load, 2 if the model is missing or corrupt."""
    kb = load_or_report(kb_dir)
    if kb is None:
        return 1
    matcher = build_or_report(kb, config)
    if matcher is None:
        return 2
    interactive = sys.stdin.isatty()
    out = sys.stdout
    if intro:
        out.write(intro + "\n")
    if interactive:
        out.write(f"{len(kb.objections)} objections, {len(kb.benefits)} benefits loaded. {HELP}\n")
    out.flush()
    while True:
        try:
            line = input(PROMPT if interactive else "")
        except (EOFError, KeyboardInterrupt):
            if interactive:
                out.write("\n")
            return 0
        except UnicodeDecodeError:
            out.write("(that line is not valid UTF-8 text; skipped)\n")
            continue
        text = line.strip()
        if not text:
            continue
        if text.casefold().rstrip("()!") in QUIT_COMMANDS:
            return 0
        if text == ":help":
            reply = HELP
        elif text == ":reload":
            fresh = load_or_report(kb_dir, out)
            rebuilt = build_or_report(fresh, config) if fresh is not None else None
            if fresh is None or rebuilt is None:
                reply = "kept the previous answers"
            else:
                kb, matcher = fresh, rebuilt
                reply = f"reloaded: {len(kb.objections)} objections, {len(kb.benefits)} benefits"
        elif text == ":benefits":
            reply = "\n\n".join(render_card(c) for c in benefit_pages(kb))
        elif text == ":objections":
            reply = render_card(objections_card(kb))
        else:
            reply = reply_text(kb, matcher, text)
        out.write(reply + "\n\n")
        out.flush()
