"""Loader: safety, schema and semantic errors with exact file:line, the bundled content."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import BUNDLED_DIR, load_knowledge, load_knowledge_from_texts
from bot.kb.model import EntrySource, KBError, Problem

SOURCE = b"""source:
  name: Net
  title: "Reasons"
  date: "2015-04-15"
"""
BENEFITS = b"""benefits:
  - id: research-updates
    title: Research
    summary: Keep up.
  - id: tweet-chats
    title: Chats
    summary: Join chats.
"""


def problems_of(files: dict[str, bytes]) -> list[Problem]:
    with pytest.raises(KBError) as info:
        load_knowledge_from_texts(files)
    return info.value.problems


def objection(body: str) -> bytes:
    return ("objections:\n" + body).encode()


GOOD_OBJECTION = """  - id: too-busy
    title: "I'm too busy."
    triggers: ["i'm too busy"]
    answer: Ten minutes a day.
    benefits: [research-updates]
"""

CASES = [
    # (objections.yaml text, expected line, message fragment)
    ("  - id: too-busy\n    title: [x\n", 3, "YAML syntax error"),
    ("  - id: Too_Busy\n    title: t\n    triggers: [a]\n    answer: b\n", 2, "not a valid id"),
    ("  - id: too-busy\n    title: t\n    triggers: [a]\n", 2, "missing `answer`"),
    ("  - id: too-busy\n    title: 42\n    triggers: [a]\n    answer: b\n", 3, "must be text"),
    (
        "  - id: too-busy\n    title: t\n    triggers: [a]\n    answer: b\n    colour: red\n",
        6,
        "unknown key `colour`",
    ),
    (
        "  - id: too-busy\n    title: t\n    triggers: [a]\n    answer: b\n    benefit: [x]\n",
        6,
        "did you mean `benefits`",
    ),
    (
        "  - id: too-busy\n    title: t\n    triggers: [a]\n    answer: b\n"
        "    benefits:\n      - research-updates\n      - reserch-updates\n",
        8,
        "unknown benefit `reserch-updates`",
    ),
    (
        "  - id: too-busy\n    title: '  '\n    triggers: [a]\n    answer: b\n",
        3,
        "must not be empty",
    ),
    (
        "  - id: too-busy\n    title: t\n    triggers:\n      - i'm busy\n      - I'm  BUSY\n"
        "    answer: b\n",
        6,
        "duplicate triggers item",
    ),
    ("  - id: too-busy\n    title: !!python/object:os.system x\n", 3, "!!python/object"),
    ("  - id: too-busy\n    title: &t hi\n    answer: *t\n", 3, "anchors (&t)"),
    ("  - id: too-busy\n    title: t\n    title: u\n", 4, "duplicate key `title`"),
    ("  - id: too-busy\n    title: !custom t\n", 3, "tag !custom"),
    ("  - id: too-busy\n\ttitle: t\n", 3, "tabs"),
    ("  - id: too-busy\n    title: t\n    triggers: []\n    answer: b\n", 4, "at least 1"),
    (GOOD_OBJECTION + "---\nobjections: []\n", 7, "one YAML document"),
    (
        "  - id: too-busy\n    title: t\n    triggers: [a]\n    answer: b\n    benefits: 3\n",
        6,
        "a list",
    ),
]


@pytest.mark.parametrize(("text", "line", "fragment"), CASES)
def test_broken_snippet_is_located(text: str, line: int, fragment: str) -> None:
    problems = problems_of(
        {"source.yaml": SOURCE, "benefits.yaml": BENEFITS, "objections.yaml": objection(text)}
    )
    located = [(p.file, p.line) for p in problems if fragment in p.message]
    assert ("objections.yaml", line) in located, [str(p) for p in problems]


def test_valid_minimal_kb_loads_with_lines() -> None:
    kb = load_knowledge_from_texts(
        {
            "source.yaml": SOURCE,
            "benefits.yaml": BENEFITS,
            "objections.yaml": objection(GOOD_OBJECTION),
        }
    )
    assert [o.id for o in kb.objections] == ["too-busy"]
    assert [b.id for b in kb.benefits] == ["research-updates", "tweet-chats"]
    too_busy = kb.objections[0]
    assert too_busy.location.file == "objections.yaml"
    assert too_busy.location.line == 2
    assert too_busy.trigger_lines == (4,)
    assert too_busy.field_lines["answer"] == 5


def test_context_and_everyday_load_and_duplicates_are_located() -> None:
    body = GOOD_OBJECTION + '    context: ["twitter", "too"]\n    everyday: ["today", "lunch"]\n'
    kb = load_knowledge_from_texts(
        {"source.yaml": SOURCE, "benefits.yaml": BENEFITS, "objections.yaml": objection(body)}
    )
    assert kb.objections[0].context == ("twitter", "too")
    assert kb.objections[0].everyday == ("today", "lunch")
    twice = GOOD_OBJECTION + '    everyday: ["today",\n               "today"]\n'
    problems = problems_of(
        {"source.yaml": SOURCE, "benefits.yaml": BENEFITS, "objections.yaml": objection(twice)}
    )
    assert [str(p) for p in problems] == [
        "objections.yaml:8: objection `too-busy`: duplicate everyday item 'today' (line 7)"
    ]


def test_duplicate_ids_across_files_name_both_places() -> None:
    other = b"benefits:\n  - id: too-busy\n    title: x\n    summary: y\n"
    problems = problems_of(
        {
            "source.yaml": SOURCE,
            "benefits.yaml": BENEFITS,
            "objections.yaml": objection(GOOD_OBJECTION),
            "zzz.yaml": other,
        }
    )
    assert [str(p) for p in problems] == [
        "zzz.yaml:2: duplicate id `too-busy` (first at objections.yaml:2)"
    ]


def test_source_missing_and_twice() -> None:
    problems = problems_of({"benefits.yaml": BENEFITS})
    assert problems[0].file == "benefits.yaml"
    assert "no file defines `source:`" in problems[0].message
    problems = problems_of({"source.yaml": SOURCE, "again.yaml": SOURCE})
    assert [str(p) for p in problems] == [
        "source.yaml:1: `source:` is defined twice (first at again.yaml:1)"
    ]


def test_all_problems_are_collected() -> None:
    bad = objection(
        "  - id: A\n    title: t\n    triggers: [a]\n    answer: b\n"
        "  - id: b\n    title: 7\n    triggers: [a]\n    answer: b\n"
    )
    problems = problems_of({"source.yaml": SOURCE, "objections.yaml": bad})
    assert {p.line for p in problems} == {2, 7}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"a: \xff\xfe\n", "not valid UTF-8"),
        (b"\x00\x01binary", "binary data"),
        (b"x: 1\n" * 250_000, "file too large"),
        (b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "anchors"),
        (b"a: " + b"[" * 100 + b"]" * 100 + b"\n", "nested too deeply"),
        (b"- just\n- a list\n", "must be a map"),
        (b"objections: 'x\x07'\n", "control characters"),
    ],
)
def test_hostile_files_get_one_located_error(data: bytes, fragment: str) -> None:
    problems = problems_of({"source.yaml": SOURCE, "bad.yaml": data})
    bad = [p for p in problems if p.file == "bad.yaml"]
    assert len(bad) == 1, problems
    assert fragment in bad[0].message
    assert bad[0].line >= 1


def test_empty_file_contributes_nothing() -> None:
    kb = load_knowledge_from_texts({"source.yaml": SOURCE, "empty.yaml": b"# nothing yet\n"})
    assert kb.entries == ()


def test_directory_problems(tmp_path: Path) -> None:
    with pytest.raises(KBError, match="does not exist"):
        load_knowledge(tmp_path / "missing")
    with pytest.raises(KBError, match=r"no knowledge-base files"):
        load_knowledge(tmp_path)
    (tmp_path / "file.yaml").write_text("x")
    with pytest.raises(KBError, match="is not a directory"):
        load_knowledge(tmp_path / "file.yaml")
    (tmp_path / "file.yaml").unlink()
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(KBError, match=r"no knowledge-base files") as info:
        load_knowledge(tmp_path)
    assert "dir.yaml:1: warning: is a folder, not a file" in str(info.value)


def test_digest_is_content_hash(tmp_path: Path) -> None:
    for p in BUNDLED_DIR.glob("*.yaml"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    a = load_knowledge(tmp_path)
    assert a.digest == load_knowledge(BUNDLED_DIR).digest
    with (tmp_path / "source.yaml").open("ab") as fh:
        fh.write(b"\n# a comment\n")
    assert load_knowledge(tmp_path).digest != a.digest


REQUIRED_OBJECTIONS = {
    "platform-exodus",
    "mental-health",
    "employer-policy",
    "too-busy",
    "whats-the-point",
    "too-short",
    "patient-privacy",
    "professional-risk",
    "misinformation-noise",
    "not-tech-savvy",
    "introvert",
    "patient-boundaries",
    "no-audience",
}
REQUIRED_BENEFITS = [
    "share-specialty-knowledge",
    "conference-sharing",
    "follow-conferences-remotely",
    "tweet-chats",
    "leadership",
    "build-practice",
    "communication-skills",
    "patient-perspectives",
    "introvert-friendly",
    "early-news-alerts",
    "conference-introductions",
    "research-updates",
    "specialty-visibility",
    "speaking-opportunities",
    "career-advancement",
]


def test_bundled_kb_has_exactly_the_required_ids_in_order() -> None:
    kb = load_knowledge()
    assert {o.id for o in kb.objections} == REQUIRED_OBJECTIONS
    assert len(kb.objections) == len(REQUIRED_OBJECTIONS)
    assert [b.id for b in kb.benefits] == REQUIRED_BENEFITS
    assert kb.source.name
    assert kb.source.date


def test_every_bundled_file_points_editors_at_the_schema() -> None:
    for path in sorted(BUNDLED_DIR.glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=./schema.json", path.name


def test_missing_title_and_summary_are_each_named_once() -> None:
    benefits = b"benefits:\n  - id: research-updates\n    topics: [learning]\n"
    problems = problems_of({"source.yaml": SOURCE, "benefits.yaml": benefits})
    assert [str(p) for p in problems] == [
        "benefits.yaml:2: benefit `research-updates` is missing `title`",
        "benefits.yaml:2: benefit `research-updates` is missing `summary`",
    ]


@pytest.mark.parametrize(
    "line8",
    [
        "    keywords\n",  # a key without its colon
        '      -"two"\n',  # a list item without its space
        '      - "two\n',  # a quote never closed (the next line's quote closes it)
    ],
)
def test_yaml_syntax_error_is_reported_on_its_own_line(line8: str) -> None:
    text = (
        "objections:\n  - id: too-busy\n    title: t\n    answer: b\n    triggers:\n"
        '      - "one"\n      - "two"\n' + line8 + '    examples: ["x"]\n'
    )
    assert text.splitlines()[7] == line8.rstrip("\n")
    problems = problems_of({"source.yaml": SOURCE, "objections.yaml": text.encode()})
    syntax = [p for p in problems if "YAML syntax error" in p.message]
    assert [(p.file, p.line) for p in syntax] == [("objections.yaml", 8)], [
        str(p) for p in problems
    ]


def test_entry_source_is_read_and_defaults_to_the_community() -> None:
    body = GOOD_OBJECTION + "    source: article\n"
    kb = load_knowledge_from_texts(
        {"source.yaml": SOURCE, "benefits.yaml": BENEFITS, "objections.yaml": objection(body)}
    )
    assert kb.objections[0].source is EntrySource.ARTICLE
    assert kb.benefits[0].source is EntrySource.COMMUNITY  # unattributed: not the article's


def test_unknown_entry_source_is_located() -> None:
    body = GOOD_OBJECTION + "    source: mayo\n"
    problems = problems_of(
        {"source.yaml": SOURCE, "benefits.yaml": BENEFITS, "objections.yaml": objection(body)}
    )
    assert [str(p) for p in problems] == [
        "objections.yaml:7: objection `too-busy` `source` must be `article` or `community`, "
        "found 'mayo'"
    ]


def test_benefit_answer_and_community_credit_load() -> None:
    source = SOURCE + b'  community: "Advice from the members of #doctors"\n'
    benefits = BENEFITS + b"    answer: Find the chat's hashtag and lurk once.\n"
    kb = load_knowledge_from_texts({"source.yaml": source, "benefits.yaml": benefits})
    assert kb.benefit("tweet-chats") is not None
    assert kb.benefits[1].answer == "Find the chat's hashtag and lurk once."
    assert kb.benefits[0].answer == ""
    assert kb.source.community_text() == "Advice from the members of #doctors"


def test_every_bundled_entry_names_its_source() -> None:
    """The article covers the benefits, too busy, what's the point / 140 characters and the
    introvert remark; everything else is the community's own advice."""
    kb = load_knowledge()
    article = {e.id for e in kb.entries if e.source is EntrySource.ARTICLE}
    assert article == {"too-busy", "whats-the-point", "too-short", "introvert"} | {
        b.id for b in kb.benefits
    }
    for entry in kb.entries:
        assert "source" in entry.field_lines, f"{entry.id} has no explicit source"


def test_not_this_and_ordinary_load_with_their_lines() -> None:
    body = (
        GOOD_OBJECTION
        + "    not_this:\n"
        + '      - "busy day in clinic"\n'
        + '      - "too busy to chat today"\n'
    )
    kb = load_knowledge_from_texts(
        {
            "source.yaml": SOURCE,
            "benefits.yaml": BENEFITS,
            "objections.yaml": objection(body),
            "ordinary.yaml": b'ordinary:\n  - "see you all at journal club"\n  - "great case!"\n',
        }
    )
    entry = kb.get("too-busy")
    assert entry is not None
    assert entry.not_this == ("busy day in clinic", "too busy to chat today")
    assert entry.not_this_lines == (8, 9)
    assert kb.ordinary == ("see you all at journal club", "great case!")
    assert [(w.file, w.line) for w in kb.ordinary_locations] == [
        ("ordinary.yaml", 2),
        ("ordinary.yaml", 3),
    ]


@pytest.mark.parametrize(
    ("files", "where", "fragment"),
    [
        (
            {"objections.yaml": objection(GOOD_OBJECTION + '    not_this: ["a", "b", "A"]\n')},
            ("objections.yaml", 7),
            "duplicate not_this item 'A'",
        ),
        (
            {"objections.yaml": objection(GOOD_OBJECTION + '    not_this: ["i\'m too busy"]\n')},
            ("objections.yaml", 7),
            "both in not_this and as a trigger",
        ),
        (
            {"objections.yaml": objection(GOOD_OBJECTION + "    not_this: busy day\n")},
            ("objections.yaml", 7),
            "`not_this` must be a list",
        ),
        (
            {
                "ordinary.yaml": b'ordinary:\n  - "hi all"\n',
                "more.yaml": b'ordinary: ["Hi  all"]\n',
            },
            ("ordinary.yaml", 2),
            "duplicate ordinary line 'hi all' (first at more.yaml:1)",
        ),
        (
            {"ordinary.yaml": b"ordinary:\n  - 42\n"},
            ("ordinary.yaml", 2),
            "must be text",
        ),
    ],
)
def test_bad_negatives_are_located(
    files: dict[str, bytes], where: tuple[str, int], fragment: str
) -> None:
    base = {"source.yaml": SOURCE, "benefits.yaml": BENEFITS}
    found = problems_of({**base, **files})
    assert any((p.file, p.line) == where and fragment in p.message for p in found), found


def test_phrasings_load_by_entry_and_add_no_entry() -> None:
    kb = load_knowledge_from_texts(
        {
            "source.yaml": SOURCE,
            "benefits.yaml": BENEFITS,
            "objections.yaml": objection(GOOD_OBJECTION),
            "phrasings.yaml": b'phrasings:\n  too-busy:\n    - "@Sam with what time??"\n'
            b"  research-updates:\n    - did it ever get you a paper early?\n",
            "more.yaml": b"phrasings:\n  too-busy:\n    - no bandwidth, maybe in 2031\n",
        }
    )
    assert kb.phrasings == {
        "too-busy": ("no bandwidth, maybe in 2031", "@Sam with what time??"),
        "research-updates": ("did it ever get you a paper early?",),
    }
    assert [e.id for e in kb.entries] == ["too-busy", "research-updates", "tweet-chats"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            b"phrasings:\n  too-bussy:\n    - no time\n",
            2,
            "phrasings for unknown entry `too-bussy` (did you mean `too-busy`?)",
        ),
        (
            b"phrasings:\n  too-busy:\n    - no time\n    - No  time\n",
            4,
            "duplicate phrasing for `too-busy`: 'No  time'",
        ),
        (b"phrasings:\n  too-busy:\n    - 42\n", 3, "must be text"),
        (b"phrasings:\n  Too_Busy:\n    - no time\n", 2, "Too_Busy"),
        (b"phrasings:\n  - no time\n", 2, "must be"),
    ],
)
def test_bad_phrasings_are_located(text: bytes, line: int, fragment: str) -> None:
    found = problems_of(
        {
            "source.yaml": SOURCE,
            "benefits.yaml": BENEFITS,
            "objections.yaml": objection(GOOD_OBJECTION),
            "phrasings.yaml": text,
        }
    )
    assert any(
        (p.file, p.line) == ("phrasings.yaml", line) and fragment in p.message for p in found
    ), found


def test_the_bundled_phrasings_are_what_the_tool_writes() -> None:
    from tools.phrasings import PHRASINGS_FILE, render

    assert PHRASINGS_FILE.read_text(encoding="utf-8") == render()
    kb = load_knowledge()
    assert set(kb.phrasings) <= {e.id for e in kb.entries}
    assert sum(map(len, kb.phrasings.values())) > 3000
