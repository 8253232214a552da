"""The local console on a piped stdin: answers, suggestions, no answer, commands, exit."""

from __future__ import annotations

import io
import sys

import pytest

from bot.__main__ import main
from bot.cards import answer_card
from bot.console import NO_ANSWER, console_command, plain_text, render_card, reply_text
from bot.kb.loader import load_knowledge
from bot.matching.factory import build_matcher
from bot.matching.types import Decision, Outcome
from bot.service.replies import MAX_QUESTION


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: bytes
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    status = main(["console"])
    return status, capsys.readouterr().out


def test_answer_is_printed_as_the_card(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = load_knowledge()
    decision = build_matcher(kb).match("I'm far too busy for twitter")
    assert decision.outcome is Outcome.ANSWER
    assert decision.answer is not None
    entry = kb.get(decision.answer.id)
    assert entry is not None
    status, out = run(monkeypatch, capsys, b"I'm far too busy for twitter\n")
    assert status == 0
    assert render_card(answer_card(kb, entry)) in out
    assert kb.source.footer_text() in out


def test_chit_chat_gets_no_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    matcher = build_matcher(load_knowledge())
    chat = [
        "see you at the meeting tomorrow",
        "good morning everyone",
        "the coffee machine is broken",
    ]
    silent = [t for t in chat if matcher.match(t).outcome is Outcome.SILENT]
    assert silent, "the matcher answers every chit-chat line"
    status, out = run(monkeypatch, capsys, silent[0].encode() + b"\n")
    assert status == 0
    assert out == NO_ANSWER + "\n\n"


def test_reply_text_suggests_in_middle_band() -> None:
    kb = load_knowledge()
    matcher = build_matcher(kb)
    for text in (
        "twitter for my career maybe",
        "conference stuff",
        "patients and twitter",
        "hashtags",
    ):
        decision = matcher.match(text)
        if decision.outcome is Outcome.SUGGEST:
            reply = reply_text(kb, matcher, text)
            assert reply.startswith("Did you mean:\n1. ")
            return
    pytest.skip("no middle-band phrase found for the current matcher")


def test_quit_stops_before_later_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(monkeypatch, capsys, b":objections\n:q\ni'm too busy\n")
    assert status == 0
    assert "Objections I can answer" in out
    assert "Ten minutes" not in out
    assert "== I'm too busy" not in out


def test_eof_and_blank_lines_exit_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(monkeypatch, capsys, b"\n   \n")
    assert (status, out) == (0, "")


def test_ctrl_c_exits_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupted)
    assert console_command(kb_dir=None, intro="hello") == 0
    assert capsys.readouterr().out.startswith("hello\n")


def test_benefits_and_reload_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = load_knowledge()
    status, out = run(monkeypatch, capsys, b":benefits\n:reload\n")
    assert status == 0
    for n, benefit in enumerate(kb.benefits, start=1):
        assert f"{n}. {benefit.title}:" in out
    assert f"reloaded: {len(kb.objections)} objections, {len(kb.benefits)} benefits" in out


@pytest.mark.parametrize("word", ["quit", "exit", ":q", "Quit", "exit()"])
def test_quit_and_exit_end_the_console(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    """A newcomer types quit or exit, as in most shells; the line after it is never read."""
    status, out = run(monkeypatch, capsys, f"{word}\nI'm far too busy for twitter\n".encode())
    assert status == 0
    assert out == ""


def test_markdown_is_shown_as_plain_text() -> None:
    assert plain_text("**Ten minutes** a day, *saved* time, `#` tags") == (
        "Ten minutes a day, saved time, # tags"
    )
    assert plain_text("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"


def test_rendered_answers_have_no_raw_asterisks() -> None:
    kb = load_knowledge()
    assert any("**" in e.answer for e in kb.objections), "no bold in the bundled answers"
    for entry in kb.entries:
        text = render_card(answer_card(kb, entry))
        assert "**" not in text, entry.id
        assert "*" not in text.replace(" * ", ""), entry.id


def test_console_footer_credits_community_advice_truthfully(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = load_knowledge()
    message = "i'm worried about hipaa"
    decision = build_matcher(kb).match(message)
    assert decision.answer is not None
    assert decision.answer.id == "patient-privacy"
    status, out = run(monkeypatch, capsys, message.encode() + b"\n")
    assert status == 0
    assert "-- This community's own advice; the benefits listed are from" in out
    assert "-- Based on" not in out


def test_reply_text_matches_what_the_bot_would_read() -> None:
    """The console cuts a long line as the bot cuts a long message (``MAX_QUESTION``)."""
    kb = load_knowledge()
    seen: list[str] = []

    class Recorder:
        def match(self, text: str) -> Decision:
            seen.append(text)
            return Decision(text, Outcome.SILENT)

    long = "I'm far too busy for twitter " * 100
    assert reply_text(kb, Recorder(), long) == NO_ANSWER
    assert seen == [long[:MAX_QUESTION]]
