"""Mutated copies of the bundled YAML: a valid KB or located problems, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cards import answer_card, benefit_pages, objections_card
from bot.kb.loader import BUNDLED_DIR, load_knowledge_from_texts
from bot.kb.model import KBError, KnowledgeBase, Problem

BUNDLED = {p.name: p.read_bytes() for p in sorted(BUNDLED_DIR.glob("*.yaml"))}
NAMES = sorted(BUNDLED)
INJECTIONS = [
    "!!python/object:os.system x",
    "!!python/object/apply:os.system ['echo pwned']",
    "&a [x, x]",
    "*a",
    "!!binary aGVsbG8=",
    "!custom x",
    "{a: 1}",
    "[1, 2]",
    "42",
    "yes",
    "null",
    "~",
    "''",
    "'unterminated",
    '"\\x00"',
    "<<: {a: 1}",
    "2015-04-15",
    "\t",
    "x" * 5000,
    "@everyone",
    "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, bytes]:
    name = draw(st.sampled_from(NAMES))
    lines = BUNDLED[name].decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(["delete", "duplicate", "indent", "dedent", "swap", "inject", "raw"])
        )
        line = lines[i]
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 3)) + line
        elif op == "dedent":
            lines[i] = line[draw(st.integers(1, 4)) :]
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], line
        elif op == "inject":
            key, sep, _value = line.partition(":")
            token = draw(st.sampled_from(INJECTIONS))
            lines[i] = f"{key}: {token}" if sep else f"{line} {token}"
        else:
            lines[i] = draw(st.text(max_size=30))
        if not lines:
            lines = [""]
    files = dict(BUNDLED)
    files[name] = "\n".join(lines).encode("utf-8", "surrogatepass")
    return files


def _fits(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        assert not answer_card(kb, entry).violations()
    for card in (*benefit_pages(kb), objections_card(kb)):
        assert not card.violations()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_bundled_yaml_is_valid_or_located(files: dict[str, bytes]) -> None:
    kb: KnowledgeBase | None = None
    problems: list[Problem] = []
    try:
        kb = load_knowledge_from_texts(files)
    except KBError as exc:
        problems = exc.problems
    if kb is not None:
        _fits(kb)
        return
    assert problems
    for problem in problems:
        assert problem.file in files
        assert problem.line >= 1
        assert problem.message
        assert "\n" not in problem.message
