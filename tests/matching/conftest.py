"""A tiny handmade knowledge base for matcher unit tests."""

from __future__ import annotations

import pytest

from bot.kb.model import Benefit, KnowledgeBase, Objection, Source
from bot.matching.engine import Matcher


def tiny_kb() -> KnowledgeBase:
    """Three objections and one benefit with distinct vocabularies."""
    return KnowledgeBase(
        objections=(
            Objection(
                id="too-busy",
                title="I'm too busy.",
                answer="Ten minutes a day is enough.",
                triggers=("i'm too busy", "i don't have time for twitter", "my schedule is full"),
                benefits=("research-updates",),
            ),
            Objection(
                id="patient-privacy",
                title="Privacy.",
                answer="Never post identifiable information.",
                triggers=("hipaa", "patient privacy", "i could breach confidentiality"),
            ),
            Objection(
                id="too-short",
                title="Too short.",
                answer="A tweet is a headline.",
                triggers=("140 characters", "tweets are too short for nuance"),
            ),
        ),
        benefits=(
            Benefit(
                id="research-updates",
                title="Research",
                summary="Keep up with research.",
                topics=("learning",),
                triggers=("keep up with research", "follow new studies"),
            ),
        ),
        source=Source(name="Test", title="Test", date="2015-04-15"),
        synonyms={
            "twitter": ("x", "tweet", "tweeting"),
            "busy": ("swamped", "slammed", "no time"),
            "privacy": ("hipaa", "phi", "confidentiality"),
            "research": ("studies", "papers"),
        },
    )


@pytest.fixture
def kb() -> KnowledgeBase:
    return tiny_kb()


@pytest.fixture
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)
