"""A moderator's three new entries, written from knowledge/README.md alone (a dozen triggers,
12 to 16, and 3 examples each; no synonyms, context or everyday lists), pass `check` beside the
bundled ones.

How well they then answer unseen messages is measured by `make bench` (bench/blind.py), not
asserted here: that set is blind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.kb.loader import BUNDLED_DIR, load_knowledge
from bot.kb.model import Objection
from bot.service.check import check_knowledge

# Twenty trials, each by a moderator who saw only knowledge/README.md and a topic list.


@pytest.mark.parametrize(
    "trial",
    [
        "moderator_trial",
        pytest.param(
            "moderator_trial2",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer with the"
                " learned gate and the phrasings (1 without them, 3 with the hand rules, 5 at its"
                " one look); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial3",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer with the"
                " learned gate, which is fitted on this trial (4 with the hand rules, 7 at its"
                " one look); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial4",
            marks=pytest.mark.xfail(
                reason="1 of the moderator's 9 examples does not get its own answer with the"
                " learned gate and the phrasings (0 without them, 4 with the hand rules); issue"
                " 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial5",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer since the"
                " classifier's ordinary-talk veto on new entries (1 at its one look, 2026-11-30,"
                " with the learned gate; 5 with the hand rules); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial6",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-11-30, with the learned gate; 4 with the hand rules); issue 12's"
                " goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial7",
            marks=pytest.mark.xfail(
                reason="3 of the moderator's 9 examples do not get their own answer since the"
                " classifier's ordinary-talk veto on new entries (2 with the phrasings, 1 at its"
                " one look, 2026-11-30, without them); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        # Trials 8 and 10 pass (8 at its one look and with the phrasings; 10 at its one look,
        # with them).
        "moderator_trial8",
        pytest.param(
            "moderator_trial9",
            marks=pytest.mark.xfail(
                reason="3 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-11-30, and with the phrasings); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        "moderator_trial10",
        pytest.param(
            "moderator_trial11",
            marks=pytest.mark.xfail(
                reason="5 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-11-30); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial12",
            marks=pytest.mark.xfail(
                reason="5 of the moderator's 9 examples do not get their own answer (6 at its one"
                " look, 2026-11-30); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial13",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-11-30); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial14",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-11-30); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial15",
            marks=pytest.mark.xfail(
                reason="4 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-12-01); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial16",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-12-01); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial17",
            marks=pytest.mark.xfail(
                reason="3 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-12-01); issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial18",
            marks=pytest.mark.xfail(
                reason="2 of the moderator's 9 examples do not get their own answer (at its one"
                " look, 2026-12-01; none after the moderator's check loop, entries-checked.yaml);"
                " issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial19",
            marks=pytest.mark.xfail(
                reason="1 of the moderator's 9 examples does not get its own answer (at its one"
                " look, 2026-12-01; none after the moderator's check loop, entries-checked.yaml);"
                " issue 12's goal is unmet",
                strict=True,
            ),
        ),
        pytest.param(
            "moderator_trial20",
            marks=pytest.mark.xfail(
                reason="1 of the moderator's 9 examples does not get its own answer (at its one"
                " look, 2026-12-01); issue 12's goal is unmet",
                strict=True,
            ),
        ),
    ],
)
def test_the_moderators_entries_pass_check(tmp_path: Path, trial: str) -> None:
    folder = Path(__file__).parent / trial
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_DIR, kb_dir, ignore=shutil.ignore_patterns("README.md"))
    shutil.copy(folder / "entries.yaml", kb_dir / "moderator-topics.yaml")
    entries = yaml.safe_load((folder / "entries.yaml").read_text(encoding="utf-8"))["objections"]
    assert len(entries) == 3
    assert all(12 <= len(e["triggers"]) <= 16 and len(e["examples"]) == 3 for e in entries)
    report = check_knowledge(kb_dir)
    assert report.ok, report.format()
    assert {e["id"] for e in entries} <= {o.id for o in report_objections(kb_dir)}


def report_objections(kb_dir: Path) -> tuple[Objection, ...]:
    return load_knowledge(kb_dir).objections


CHECKED_TRIALS = sorted(
    p.parent.name for p in Path(__file__).parent.glob("moderator_trial*/entries-checked.yaml")
)


@pytest.mark.parametrize("trial", CHECKED_TRIALS)
def test_a_moderators_check_loop_kept_the_examples(trial: str) -> None:
    """``entries-checked.yaml`` (bench.blind.after_check_loop): the moderator acted on `check`
    with triggers and not_this only; the examples it proves are the ones first written."""
    folder = Path(__file__).parent / trial
    first, checked = (
        yaml.safe_load((folder / name).read_text(encoding="utf-8"))["objections"]
        for name in ("entries.yaml", "entries-checked.yaml")
    )
    assert [e["id"] for e in checked] == [e["id"] for e in first]
    for before, after in zip(first, checked, strict=True):
        assert after["examples"] == before["examples"]
        assert (after["title"], after["answer"]) == (before["title"], before["answer"])
        assert len(after["triggers"]) <= 20


def test_the_check_loop_trials_are_found() -> None:
    """A moved file must not silently drop the test above."""
    assert len(CHECKED_TRIALS) >= 6, CHECKED_TRIALS
