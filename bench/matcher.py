"""Matcher figures: accuracy on the eval sets, latency on bundled and synthetic KBs, memory.

Accuracy is reported twice per set: ``words`` (the word engine alone, as before the meaning
layer) and ``combined`` (the decision the bot makes: words and meaning). Latency, load times
and RSS are measured with the sentence encoder on one thread.
"""

from __future__ import annotations

import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.kb.loader import load_knowledge
from bot.kb.model import Benefit, KnowledgeBase, Objection, Source
from bot.matching.engine import Matcher
from bot.matching.types import Candidate, Decision, Outcome

ROOT = Path(__file__).resolve().parents[1]
SETS_DIR = ROOT / "tests" / "matching"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.yaml"
DEV_SET_ORIGIN = (
    "the team's shared dev set is not in the repository: it is read from "
    "../shared/eval/dev.yaml beside the checkout (put a copy there to run these checks)"
)
"""Why the dev set may be missing, and where it comes from (the tests' skip reason)."""


@dataclass(frozen=True)
class EvalSet:
    """A labelled message set, and how far its figures can be trusted."""

    name: str
    path: Path
    kind: str
    """"public" (the shared dev set), "tuning" (its misses were read and fixed; its labelled
    lines are bundled phrasings), "nearmiss"
    (adversarial chit-chat, measured but not tuned on),
    "aggregate" (only its totals were read, but often, while tuning), "realistic" (the way
    members really write; read while tuning, and the encoder trains on all but a dev quarter,
    those lines being bundled phrasings too),
    "blind" (only its totals were read, a few times: the honest estimate), or "spent" (blind
    at one look, then its misses were read and tuned on; never trained on)."""
    floor: float = 0.92
    """The share of right decisions the tests require of a tuning or aggregate set."""
    origin: str = ""
    """Where a set comes from: for one kept outside the repository, where to put it (said when
    it is missing); for a spent blind set, its figures at its one blind look."""


EVAL_SETS: tuple[EvalSet, ...] = (
    EvalSet("dev", DEV_SET, "public", origin=DEV_SET_ORIGIN),
    EvalSet("heldout", SETS_DIR / "heldout.yaml", "tuning"),
    EvalSet("heldout2", SETS_DIR / "heldout2.yaml", "tuning"),
    EvalSet("heldout3", SETS_DIR / "heldout3.yaml", "aggregate"),
    EvalSet("heldout4", SETS_DIR / "heldout4.yaml", "tuning"),
    # Blind until 2026-11-29 (89.3 % right at the last of ~12 looks at its totals); its misses
    # were read and tuned on since.
    EvalSet("heldout5", SETS_DIR / "heldout5.yaml", "tuning"),
    EvalSet("heldout6", SETS_DIR / "heldout6.yaml", "tuning"),
    EvalSet("heldout7", SETS_DIR / "heldout7.yaml", "tuning"),
    # Indirect phrasings (anecdotes, metaphors, sarcasm): harder than the dev set's kind, so
    # its floor guards against regressions rather than certifying the bar (84.3 % when added
    # to the tests; 66.8 % at first look).
    EvalSet("heldout8", SETS_DIR / "heldout8.yaml", "tuning", floor=0.82),
    # Blind until 2026-11-29 (88.5 % right at first and last look); tuned on since.
    EvalSet("heldout9", SETS_DIR / "heldout9.yaml", "tuning"),
    EvalSet("heldout10_blind", SETS_DIR / "heldout10.yaml", "blind"),
    # Blind at its one look at the totals (89.3 % right, 0.8 % wrong, 98.3 % silent); a tuning
    # script then printed six of its lines by mistake, so only its totals count, and not as blind.
    # Not tuned on, so its floor guards against regressions rather than certifying the bar.
    EvalSet("heldout11", SETS_DIR / "heldout11.yaml", "aggregate", floor=0.90),
    EvalSet("heldout12_blind", SETS_DIR / "heldout12.yaml", "blind"),
    # Written for the final measurement of 2026-11-29 and looked at once, after all tuning:
    # 94.1 % and 92.2 % right, 0.8 % and 0 % wrong, 98.3 % and 100 % silent.
    EvalSet("heldout15_blind", SETS_DIR / "heldout15.yaml", "blind"),
    EvalSet("heldout16_blind", SETS_DIR / "heldout16.yaml", "blind"),
    EvalSet("heldout13", SETS_DIR / "heldout13.yaml", "tuning"),
    EvalSet("heldout14", SETS_DIR / "heldout14.yaml", "tuning"),
    EvalSet("heldout17", SETS_DIR / "heldout17.yaml", "tuning"),
    EvalSet("heldout18", SETS_DIR / "heldout18.yaml", "tuning"),
    EvalSet("heldout19", SETS_DIR / "heldout19.yaml", "tuning"),
    # Today's objections (platform exodus, the feed's toll on mental health, employer
    # approval) and look-alike talk, written before those entries existed: 40.4 % right, 9.6 %
    # wrong, 97.5 % silent at first look; 74.0 %, 1.9 %, 100 % after tuning on it. Its floor
    # guards regressions; the honest estimate needs a blind set written by someone else.
    # The encoder trains on it since 2026-11-30 (less a dev quarter): 84.6 % right then,
    # 81.7 % with the off-topic rule.
    EvalSet("heldout20", SETS_DIR / "heldout20.yaml", "tuning", floor=0.81),
    EvalSet("probes", SETS_DIR / "probes.yaml", "tuning"),
    EvalSet("chatter_team", SETS_DIR / "chatter_team.yaml", "tuning"),
    EvalSet("chatter", SETS_DIR / "chatter.yaml", "tuning"),
    EvalSet("chatter2", SETS_DIR / "chatter2.yaml", "tuning"),
    # Adversarial chit-chat in objection words, some of it as close to an objection as the dev
    # set's own ("my days are so full this month"): 90.0 % silent at first look, not tuned on.
    EvalSet("chatter3_nearmiss", SETS_DIR / "chatter3.yaml", "nearmiss"),
    # Realistic-style tuning sets (long posts, replies, stories; a week of ordinary talk), read
    # while tuning the meaning layer. The realistic one is far harder than the tidy sets: its
    # floor guards regressions (71.3 % right, 2.3 % wrong when added). Half of the ordinary
    # lines were copied into knowledge/ordinary.yaml, so its silence is optimistic.
    # Since 2026-11-30 the encoder also trains on it (less a dev quarter): 81.7 % right then,
    # 79.0 % with the off-topic rule.
    EvalSet("realistic_tuning", SETS_DIR / "realistic_tuning.yaml", "realistic", floor=0.78),
    EvalSet("ordinary_tuning", SETS_DIR / "ordinary_tuning.yaml", "tuning"),
    # Blind sets of 2026-11-30, written by people who never saw the knowledge base or the
    # matcher, in the styles of issue 12 (realistic conversation, tidy, a week of ordinary
    # talk) and 14 (today's objections and look-alike talk); looked at once, after all tuning.
    # The tidy one stays blind; the other three are spent: since used to train the encoder
    # (tools/build_model.py) and tune the thresholds, less a dev quarter by hash
    # (bench.semantic.is_dev_line) kept out of training to report honestly.
    EvalSet(
        "heldout21_realistic",
        SETS_DIR / "heldout21_realistic.yaml",
        "realistic",
        floor=0.90,
        origin="blind at one look 2026-11-30: 74.7 % right, 7 wrong (2.7 %), 98.3 % silent; "
        "since used to train and tune",
    ),
    EvalSet("heldout22_tidy_blind", SETS_DIR / "heldout22_tidy.yaml", "blind"),
    EvalSet(
        "chatter_week23",
        SETS_DIR / "chatter_week23.yaml",
        "realistic",
        origin="blind at one look 2026-11-30: 98.5 % silent (6 of 400 answered); "
        "since used to train and tune",
    ),
    EvalSet(
        "heldout24_today",
        SETS_DIR / "heldout24_today.yaml",
        "realistic",
        floor=0.90,
        origin="blind at one look 2026-11-30: 72.9 % right, 7 wrong (4.1 %), 96.9 % silent; "
        "since used to train and tune",
    ),
    # Second round of 2026-11-30, written by people who never saw the knowledge base or the
    # code, in the same styles; blind at one look, then their misses were read to design the
    # off-topic rule (bot.matching.hybrid.OFF_TOPIC_EXTRA); since the third encoder they are
    # trained on too, less a dev quarter (bench.semantic.is_dev_line).
    EvalSet(
        "heldout25_realistic",
        SETS_DIR / "heldout25_realistic.yaml",
        "realistic",
        floor=0.90,
        origin="blind at one look 2026-11-30: 72.2 % right, 11 wrong (4.7 %), 96.8 % silent",
    ),
    EvalSet(
        "chatter_week26",
        SETS_DIR / "chatter_week26.yaml",
        "realistic",
        origin="blind at one look 2026-11-30: 96.75 % silent (13 of 400 answered)",
    ),
    EvalSet(
        "heldout27_today",
        SETS_DIR / "heldout27_today.yaml",
        "realistic",
        floor=0.90,
        origin="blind at one look 2026-11-30: 67.4 % right, 5 wrong (2.9 %), 98.4 % silent",
    ),
    # Third round of 2026-11-30, written the same way after all of the above; looked at once,
    # after all tuning; since then read and trained on like the others, less a dev quarter.
    EvalSet(
        "heldout28_realistic",
        SETS_DIR / "heldout28_realistic.yaml",
        "realistic",
        floor=0.90,
        origin="blind at one look 2026-11-30: 78.3 % right, 4 wrong (2.2 %), 98.0 % silent; "
        "since used to train and tune",
    ),
    EvalSet(
        "chatter_week29",
        SETS_DIR / "chatter_week29.yaml",
        "realistic",
        origin="blind at one look 2026-11-30: 97.7 % silent (8 of 350 answered); "
        "since used to train and tune",
    ),
    EvalSet(
        "heldout30_today",
        SETS_DIR / "heldout30_today.yaml",
        "realistic",
        floor=0.90,
        origin="blind at one look 2026-11-30: 65.1 % right, 8 wrong (5.5 %), 100 % silent; "
        "since used to train and tune",
    ),
    # Fourth round (2026-11-30, afternoon) and fifth (evening), written the same way; each
    # looked at once, after all tuning (the fourth with the hand rules, the fifth with the
    # learned gate); since then the gate is fitted on the fourth and the fifth's misses were
    # read. Never trained on by the encoder.
    EvalSet(
        "heldout31_realistic",
        SETS_DIR / "heldout31_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 73.6 % right, 9 wrong (4.1 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week32",
        SETS_DIR / "chatter_week32.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 98.7 % silent (5 of 382 answered)",
    ),
    EvalSet(
        "heldout33_today",
        SETS_DIR / "heldout33_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 72.9 % right, 5 wrong (3.0 %), 100 % silent",
    ),
    EvalSet(
        "heldout34_realistic",
        SETS_DIR / "heldout34_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 71.8 % right, 2 wrong (0.9 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week35",
        SETS_DIR / "chatter_week35.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 98.4 % silent (6 of 381 answered)",
    ),
    EvalSet(
        "heldout36_today",
        SETS_DIR / "heldout36_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 83.2 % right, 1 wrong (0.6 %), 100 % silent",
    ),
    # Sixth round (2026-11-30, evening) and seventh (night), written the same way after the
    # learned gate; each looked at once, then their misses were read.
    EvalSet(
        "heldout37_realistic",
        SETS_DIR / "heldout37_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 71.4 % right, 4 wrong (1.8 %), 98.2 % silent",
    ),
    EvalSet(
        "chatter_week38",
        SETS_DIR / "chatter_week38.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 97.9 % silent (8 of 388 answered)",
    ),
    EvalSet(
        "heldout39_today",
        SETS_DIR / "heldout39_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 83.8 % right, 1 wrong (0.6 %), 100 % silent",
    ),
    EvalSet(
        "heldout40_realistic",
        SETS_DIR / "heldout40_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 71.4 % right, 4 wrong (1.8 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week41",
        SETS_DIR / "chatter_week41.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.5 % silent (2 of 399 answered)",
    ),
    EvalSet(
        "heldout42_today",
        SETS_DIR / "heldout42_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 76.6 % right, 2 wrong (1.2 %), 100 % silent",
    ),
    # Eighth and ninth rounds (2026-11-30, night), written the same way while the seventh was
    # read; each looked at once with the matcher of rounds 7-9, and once more with the
    # phrasings. Tenth round, written while the phrasings were built; looked at once after the
    # gate's refit, then once more. Since read; three quarters of their labelled lines are
    # bundled phrasings (bench.semantic.PHRASED_SETS), the dev quarter stays out.
    EvalSet(
        "heldout43_realistic",
        SETS_DIR / "heldout43_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 70.5 % right, 2 wrong (0.9 %)",
    ),
    EvalSet(
        "chatter_week44",
        SETS_DIR / "chatter_week44.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.2 % silent (3 of 392 answered)",
    ),
    EvalSet(
        "heldout45_today",
        SETS_DIR / "heldout45_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 83.2 % right, 1 wrong (0.6 %)",
    ),
    EvalSet(
        "heldout46_realistic",
        SETS_DIR / "heldout46_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 66.8 % right, 3 wrong (1.4 %)",
    ),
    EvalSet(
        "chatter_week47",
        SETS_DIR / "chatter_week47.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.7 % silent (1 of 391 answered)",
    ),
    EvalSet(
        "heldout48_today",
        SETS_DIR / "heldout48_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 79.6 % right, 1 wrong (0.6 %)",
    ),
    EvalSet(
        "heldout49_realistic",
        SETS_DIR / "heldout49_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 72.3 % right, 3 wrong (1.4 %), 98.2 % silent",
    ),
    EvalSet(
        "chatter_week50",
        SETS_DIR / "chatter_week50.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.2 % silent (3 of 393 answered)",
    ),
    EvalSet(
        "heldout51_today",
        SETS_DIR / "heldout51_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 73.1 % right",
    ),
    # Eleventh to thirteenth rounds (2026-11-30, night), written the same way while the members'
    # classifier was built; each looked at once with it (the eleventh before it read parts of
    # long posts, the twelfth before the five-word minimum), the twelfth's changed answers read.
    # Three quarters of their lines train the classifier since (bench.semantic.READ_SETS).
    EvalSet(
        "heldout52_realistic",
        SETS_DIR / "heldout52_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 70.0 % right, 4 wrong (1.8 %), 96.4 % silent",
    ),
    EvalSet(
        "chatter_week53",
        SETS_DIR / "chatter_week53.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.7 % silent (1 of 390 answered)",
    ),
    EvalSet(
        "heldout54_today",
        SETS_DIR / "heldout54_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 85.0 % right, 3 wrong (1.8 %), 100 % silent",
    ),
    EvalSet(
        "heldout55_realistic",
        SETS_DIR / "heldout55_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 67.3 % right, 3 wrong (1.4 %), 98.2 % silent",
    ),
    EvalSet(
        "chatter_week56",
        SETS_DIR / "chatter_week56.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 98.5 % silent (6 of 399 answered)",
    ),
    EvalSet(
        "heldout57_today",
        SETS_DIR / "heldout57_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 83.8 % right, 5 wrong (3.0 %), 98.2 % silent",
    ),
    # Thirteenth round, written the same way; looked at once with the classifier of rounds
    # 11-12, then its changed answers were read (two answers to a week's off-topic advice led
    # to the off-topic rule, bot.matching.hybrid.CLASSIFIER_OFF_TOPIC_GATE).
    EvalSet(
        "heldout58_realistic",
        SETS_DIR / "heldout58_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 71.8 % right, 3 wrong (1.4 %), 98.2 % silent",
    ),
    EvalSet(
        "chatter_week59",
        SETS_DIR / "chatter_week59.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.2 % silent (3 of 389 answered)",
    ),
    EvalSet(
        "heldout60_today",
        SETS_DIR / "heldout60_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 80.8 % right, 5 wrong (3.0 %), 100 % silent",
    ),
    # Fourteenth round, written the same way; looked at once with the classifier as shipped
    # in stop 21, then its misses were read (the classifier's threshold was swept on it and
    # kept); three quarters of it train the classifier since.
    EvalSet(
        "heldout61_realistic",
        SETS_DIR / "heldout61_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 70.5 % right, 4 wrong (1.8 %), 98.2 % silent",
    ),
    EvalSet(
        "chatter_week62",
        SETS_DIR / "chatter_week62.yaml",
        "spent",
        origin="blind at one look 2026-11-30: 99.2 % silent (3 of 391 answered)",
    ),
    EvalSet(
        "heldout63_today",
        SETS_DIR / "heldout63_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-11-30: 81.4 % right, 3 wrong (1.8 %), 100 % silent",
    ),
    # Fifteenth round (an emergency medicine server's realistic talk, a rural family medicine
    # week, neurology and psychiatry on today's topics), looked at once with the matcher of
    # stop 21; its moderator trial's wrong answers were read (they led to the classifier's
    # ordinary-talk veto on new entries), and three quarters of it train the classifier since.
    EvalSet(
        "heldout64_realistic",
        SETS_DIR / "heldout64_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 78.6 % right, 3 wrong (1.4 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week65",
        SETS_DIR / "chatter_week65.yaml",
        "spent",
        origin="blind at one look 2026-12-01: 100 % silent (0 of 394 answered)",
    ),
    EvalSet(
        "heldout66_today",
        SETS_DIR / "heldout66_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 81.4 % right, 3 wrong (1.8 %), 96.5 % silent",
    ),
    # Sixteenth round (a surgery and anaesthesia server's realistic talk, a hospital medicine
    # and nursing week, cardiology and internal medicine on today's topics), looked at once by
    # mistake before the changes it was meant to measure were finished (see the README), then
    # used to choose among them; three quarters of it train the classifier since. Its
    # moderator trial (bench.blind.TRIALS) was not looked at with it.
    EvalSet(
        "heldout67_realistic",
        SETS_DIR / "heldout67_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 68.2 % right, 5 wrong (2.3 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week68",
        SETS_DIR / "chatter_week68.yaml",
        "spent",
        origin="blind at one look 2026-12-01: 99.75 % silent (1 of 401 answered)",
    ),
    EvalSet(
        "heldout69_today",
        SETS_DIR / "heldout69_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 76.6 % right, 5 wrong (3.0 %), 98.2 % silent",
    ),
    # Seventeenth round (an adult oncology and palliative care server's realistic talk, a
    # residents' and students' week, emergency, anaesthesia and intensive care nursing on
    # today's topics), looked at once with the matcher of stop 22; three quarters of it train
    # the members' classifier since.
    EvalSet(
        "heldout70_realistic",
        SETS_DIR / "heldout70_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 75.9 % right, 3 wrong (1.4 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week71",
        SETS_DIR / "chatter_week71.yaml",
        "spent",
        origin="blind at one look 2026-12-01: 99.25 % silent (3 of 402 answered)",
    ),
    EvalSet(
        "heldout72_today",
        SETS_DIR / "heldout72_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 82.0 % right, 5 wrong (3.0 %), 96.5 % silent",
    ),
    # Eighteenth round (emergency medicine, psychiatry, pathology, nursing, pharmacy and rural
    # family practice in realistic talk; a regional hospitalists', anaesthetists', midwives'
    # and physiotherapists' week; obstetrics, oncology, ICU nursing and dermatology on today's
    # topics), looked at once with the matcher of stop 23; three quarters of it train the
    # members' classifier since.
    EvalSet(
        "heldout73_realistic",
        SETS_DIR / "heldout73_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 83.6 % right, 1 wrong (0.5 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week74",
        SETS_DIR / "chatter_week74.yaml",
        "spent",
        origin="blind at one look 2026-12-01: 100 % silent (0 of 390 answered)",
    ),
    EvalSet(
        "heldout75_today",
        SETS_DIR / "heldout75_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 90.4 % right, 3 wrong (1.8 %), 100 % silent",
    ),
    # Nineteenth round (paediatrics, surgery, radiology, anaesthesia, public health, physician
    # assistants and international graduates in realistic talk; a children's hospital's staff
    # week; geriatrics, neurology, primary care, emergency nurses, UK and Australian students
    # and hospital pharmacists on today's topics), looked at once with the matcher of stop 24;
    # three quarters of it train the members' classifier since.
    EvalSet(
        "heldout76_realistic",
        SETS_DIR / "heldout76_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 73.6 % right, 3 wrong (1.4 %), 100 % silent",
    ),
    EvalSet(
        "chatter_week77",
        SETS_DIR / "chatter_week77.yaml",
        "spent",
        origin="blind at one look 2026-12-01: 100 % silent (0 of 390 answered)",
    ),
    EvalSet(
        "heldout78_today",
        SETS_DIR / "heldout78_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 89.2 % right, 5 wrong (3.0 %), 98.2 % silent",
    ),
    # Twentieth round (psychiatry, cardiology, obstetrics, dermatology, rural family doctors,
    # ICU nurses, students and hospital pharmacists in realistic talk; a rural health system's
    # week; oncology, infectious diseases, obstetrics and midwives, psychiatry residents,
    # Canadian and Irish students, hospitalists and community pharmacists on today's topics),
    # looked at once with the matcher of stop 25; three quarters of it train the members'
    # classifier since.
    EvalSet(
        "heldout79_realistic",
        SETS_DIR / "heldout79_realistic.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 75.0 % right, 2 wrong (0.9 %), 98.0 % silent",
    ),
    EvalSet(
        "chatter_week80",
        SETS_DIR / "chatter_week80.yaml",
        "spent",
        origin="blind at one look 2026-12-01: 98.7 % silent (5 of 392 answered)",
    ),
    EvalSet(
        "heldout81_today",
        SETS_DIR / "heldout81_today.yaml",
        "spent",
        floor=0.90,
        origin="blind at one look 2026-12-01: 94.0 % right, 2 wrong (1.2 %), 100 % silent",
    ),
    # Twenty-first round (2026-12-01), written the same way after all of the above
    # (nephrology, orthopaedics, palliative care, endocrinology, urgent care, school nurses,
    # physiotherapists and physician-scientists in realistic talk; an internal medicine
    # residency's week; cardiology fellows, paediatric nurses, New Zealand GPs, rheumatology,
    # clinician administrators, trauma surgeons and physician assistants on today's topics):
    # the honest estimate; only its totals are looked at.
    EvalSet("heldout82_realistic_blind", SETS_DIR / "heldout82_realistic.yaml", "blind"),
    EvalSet("chatter_week83_blind", SETS_DIR / "chatter_week83.yaml", "blind"),
    EvalSet("heldout84_today_blind", SETS_DIR / "heldout84_today.yaml", "blind"),
)
"""Every eval set the bench reports and the tests check (a missing file is skipped)."""


@dataclass
class EvalResult:
    """Decisions of a matcher on one labelled set."""

    total: int = 0
    right: int = 0
    wrong_answers: int = 0
    chit_chat: int = 0
    chit_chat_silent: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def right_rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def wrong_rate(self) -> float:
        return self.wrong_answers / self.total if self.total else 0.0

    @property
    def silence_rate(self) -> float:
        return self.chit_chat_silent / self.chit_chat if self.chit_chat else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.total,
            "right": round(self.right_rate, 4),
            "wrong_answers": round(self.wrong_rate, 4),
            "chit_chat_silence": round(self.silence_rate, 4),
        }


def load_labelled(path: Path) -> list[tuple[str, str]]:
    """(message, expected id or "none") pairs from a dev.yaml-shaped file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs: list[tuple[str, str]] = []
    for group in ("objections", "benefits"):
        for entry_id, lines in (data.get(group) or {}).items():
            pairs.extend((str(line), str(entry_id)) for line in lines or ())
    pairs.extend((str(line), "none") for line in data.get("none") or ())
    return pairs


class MatcherLike(Protocol):
    """The word engine or the combined matcher."""

    def match(self, text: str) -> Decision: ...

    def rank(self, text: str, limit: int = 5) -> list[Candidate]: ...


def evaluate(matcher: MatcherLike, pairs: list[tuple[str, str]]) -> EvalResult:
    """Right = the expected entry is answered, or silence (no answer) on chit-chat."""
    result = EvalResult()
    for text, expected in pairs:
        decision = matcher.match(text)
        got = decision.answer.id if decision.outcome is Outcome.ANSWER and decision.answer else None
        result.total += 1
        if expected == "none":
            result.chit_chat += 1
            if got is None:
                result.chit_chat_silent += 1
                result.right += 1
            else:
                result.wrong_answers += 1
                result.failures.append(f"none -> {got}: {text}")
        elif got == expected:
            result.right += 1
        else:
            if got is not None:
                result.wrong_answers += 1
            best = matcher.rank(text, 2)
            shown = ", ".join(f"{c.id}={c.score:.0f}" for c in best)
            result.failures.append(f"{expected} -> {got or decision.outcome}: {text}  [{shown}]")
    return result


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50, p99


def _latency_ms(matcher: MatcherLike, texts: list[str], repetitions: int) -> tuple[float, float]:
    """p50/p99 of one ``match`` call, in milliseconds."""
    samples: list[float] = []
    clock = time.perf_counter
    for _ in range(repetitions):
        for text in texts:
            start = clock()
            matcher.match(text)
            samples.append((clock() - start) * 1000.0)
    return _percentiles(samples)


_SYLLABLES = [c + v for c in "bcdfklmnprstvz" for v in "aeiou"]


def synthetic_kb(entries: int, seed: int = 1234) -> KnowledgeBase:
    """A deterministic KB of ``entries`` plausible random entries (~8 triggers each)."""
    rng = random.Random(seed)
    words = sorted(
        {"".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
    )
    glue = ["i", "am", "too", "the", "my", "is", "not", "for", "twitter", "with", "can", "what"]
    objections: list[Objection] = []
    benefits: list[Benefit] = []
    for n in range(entries):
        topic = rng.sample(words, 6)
        triggers = tuple(
            " ".join(
                rng.choice(glue) if rng.random() < 0.4 else rng.choice(topic)
                for _ in range(rng.randint(3, 7))
            )
            for _ in range(8)
        )
        if n % 3:
            objections.append(Objection(f"o{n}", "title", "answer", triggers=triggers))
        else:
            benefits.append(Benefit(f"b{n}", "title", "summary", ("career",), triggers=triggers))
    source = Source(name="synthetic", title="synthetic", date="2015-04-15")
    return KnowledgeBase(tuple(objections), tuple(benefits), source, {"twitter": ("x", "tweet")})


def _extra_sets() -> list[EvalSet]:
    """Labelled sets named by ``BENCH_EXTRA_SETS`` (glob patterns, ``:``-separated), reported
    like the others with kind "extra" (e.g. the lead's tuning sets outside the repository)."""
    import glob
    import os

    patterns = [p for p in os.environ.get("BENCH_EXTRA_SETS", "").split(":") if p]
    paths = sorted({Path(found) for p in patterns for found in glob.glob(p)})
    return [EvalSet(path.stem, path, "extra") for path in paths]


BAD_INPUTS = {
    "empty": "",
    "ten_mb": "I'm too busy " * 800_000,
    "binary": bytes(range(256)).decode("latin-1") * 40_000,
    "longest_post": (
        "Honestly I have no time for Twitter between clinic and call, and the inbox never ends. "
        * 60
    ),
}
"""Bad input for the matcher, built before timing: an empty message, 10 MB of text, 10 MB of
every byte value, and a post of many sentences (the longest any message is read: the matcher
reads the first ``MAX_INPUT_CHARS`` characters, so 10 MB should cost what this does)."""


def _once_ms(matcher: MatcherLike, text: str, repetitions: int = 3) -> float:
    """Best of a few timings of one decision (ms); building the text is not timed."""
    best = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        matcher.match(text)
        best = min(best, time.perf_counter() - start)
    return round(best * 1000.0, 2)


def _rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1)


def _meaning(results: dict[str, Any], kb: KnowledgeBase) -> Any:
    """The combined matcher, and its load figures: model, KB cold and from the disk cache."""
    from bot.matching.factory import MatcherConfig as Config
    from bot.matching.factory import build_matcher, load_embedder
    from bot.matching.hybrid import HybridMatcher
    from bot.matching.semantic import DEFAULT_MODEL_DIR, EmbeddingCache, Encoder

    start = time.perf_counter()
    encoder = Encoder.load(DEFAULT_MODEL_DIR, threads=1)
    results["model_load_ms"] = round((time.perf_counter() - start) * 1000.0, 1)
    results["model"] = encoder.model_id
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "embeddings.cache"
        start = time.perf_counter()
        HybridMatcher(kb, embedder=EmbeddingCache(encoder, path), queries=encoder)
        results["kb_embed_cold_ms"] = round((time.perf_counter() - start) * 1000.0, 1)
        start = time.perf_counter()
        HybridMatcher(kb, embedder=EmbeddingCache(encoder, path), queries=encoder)
        results["kb_embed_from_cache_ms"] = round((time.perf_counter() - start) * 1000.0, 1)
    del encoder
    load_embedder(Config())  # the process's shared encoder (one thread)
    combined = build_matcher(kb, Config())
    results["rss_with_model_mb"] = _rss_mb()
    return combined


def run() -> dict[str, Any]:
    """All matcher figures, as a flat JSON-able mapping."""
    results: dict[str, Any] = {}
    start = time.perf_counter()
    kb = load_knowledge()
    results["kb_load_ms"] = round((time.perf_counter() - start) * 1000.0, 2)
    start = time.perf_counter()
    matcher = Matcher(kb)
    results["matcher_build_ms"] = round((time.perf_counter() - start) * 1000.0, 2)
    combined = _meaning(results, kb)
    from bot.service.check import check_kb

    check_kb(kb)  # once to warm the embedding cache of the entries' texts, as a running bot has it
    start = time.perf_counter()
    check_kb(kb)  # what `check`, `/kb check` and an upload's preview run
    results["check_ms"] = round((time.perf_counter() - start) * 1000.0, 1)

    texts: list[str] = []
    for spec in (*EVAL_SETS, *_extra_sets()):
        if spec.path.exists():
            pairs = load_labelled(spec.path)
            texts.extend(t for t, _ in pairs)
            results[spec.name] = {
                "kind": spec.kind,
                "words": evaluate(matcher, pairs).to_json(),
                "combined": evaluate(combined, pairs).to_json(),
            }
    p50, p99 = _latency_ms(matcher, texts, repetitions=20)
    results["words_p50_ms"], results["words_p99_ms"] = round(p50, 4), round(p99, 4)
    p50, p99 = _latency_ms(combined, texts, repetitions=2)
    results["combined_p50_ms"], results["combined_p99_ms"] = round(p50, 3), round(p99, 3)

    probe = texts or ["I'm too busy"]
    for size in (1_000, 10_000):
        big = synthetic_kb(size)
        start = time.perf_counter()
        big_matcher = Matcher(big)
        results[f"synthetic_{size}_build_ms"] = round((time.perf_counter() - start) * 1000.0, 1)
        queries = probe + [t for e in big.entries[:200] for t in e.triggers[:1]]
        p50, p99 = _latency_ms(big_matcher, queries, repetitions=3)
        results[f"synthetic_{size}_p50_ms"] = round(p50, 4)
        results[f"synthetic_{size}_p99_ms"] = round(p99, 4)

    for name, which in (("words", matcher), ("combined", combined)):
        for kind, text in BAD_INPUTS.items():
            results[f"{name}_{kind}_message_ms"] = _once_ms(which, text)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results["peak_rss_mb"] = round(
        rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1
    )
    return results
