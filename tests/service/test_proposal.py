"""Proposals (bot/service/proposal.py): a change is validated by the one check, so the
preview refuses what ``/kb check`` fails, with the same lines."""

from __future__ import annotations

import errno
import io
import zipfile
from pathlib import Path

from bot.kb import store
from bot.kb.loader import BUNDLED_DIR, load_knowledge
from bot.service.check import check_knowledge
from bot.service.proposal import evaluate, upload_proposal, write_failure, zip_files
from tests.cogs.helpers import copy_knowledge

SELF_DEFEATING = (
    b"objections:\n"
    b"  - id: wifi-blocked\n"
    b'    title: "The hospital wifi blocks Twitter."\n'
    b'    triggers: ["the hospital wifi blocks twitter", "twitter is blocked at the hospital"]\n'
    b"    answer: |\n"
    b"      Use your phone's data for the ten minutes a day you read.\n"
    b"    benefits: [research-updates]\n"
    b'    examples: ["my pager keeps beeping during the night shift"]\n'
)
"""A new entry whose example does not get its answer: an error of the check."""


def test_zip_files_round_trip() -> None:
    files = {f"f{i}.yaml": f"n: {i}\n".encode() for i in range(12)}
    with zipfile.ZipFile(io.BytesIO(zip_files(files))) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == files


def test_evaluate_identical_upload_has_nothing_to_apply(tmp_path: Path) -> None:
    live = load_knowledge(BUNDLED_DIR)
    current = store.snapshot(BUNDLED_DIR)
    proposal = evaluate(current, dict(current), live=live, reason="upload x")
    assert proposal.unchanged
    assert not proposal.ok


def test_upload_proposal_of_a_new_file_adds_entries(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    for name, data in store.snapshot(BUNDLED_DIR).items():
        (kb_dir / name).write_bytes(data)
    live = load_knowledge(kb_dir)
    extra = (
        b"objections:\n"
        b"  - id: too-old\n"
        b'    title: "I am too old for Twitter."\n'
        b'    triggers: ["too old for twitter"]\n'
        b"    answer: |\n"
        b"      Plenty of senior physicians lead the conversation.\n"
        b"    benefits: [research-updates]\n"
    )
    proposal = upload_proposal(kb_dir, "extra.yaml", extra, live=live)
    assert proposal.ok, proposal.errors
    assert proposal.diff is not None
    assert proposal.diff.added == ("too-old",)
    assert proposal.fingerprint == store.fingerprint(kb_dir)
    assert set(proposal.files) == {"extra.yaml"}


def test_an_upload_the_check_fails_is_refused_with_the_checks_lines(tmp_path: Path) -> None:
    kb_dir = copy_knowledge(tmp_path / "knowledge")
    live = load_knowledge(kb_dir)
    proposal = upload_proposal(kb_dir, "wifi.yaml", SELF_DEFEATING, live=live)

    (kb_dir / "wifi.yaml").write_bytes(SELF_DEFEATING)  # what Apply would have written
    report = check_knowledge(kb_dir, label=f"{kb_dir.name}/")
    assert not report.ok
    assert any("does not get its answer" in p.message for p in report.errors), report.format()
    assert not proposal.ok
    assert [str(p) for p in proposal.errors] == [str(p) for p in report.errors]
    assert not proposal.warnings


def test_write_failure_names_the_reason_never_the_path() -> None:
    text = write_failure(OSError(errno.EROFS, "Read-only file system", "/srv/secret/kb"))
    assert "read-only" in text
    assert "/srv" not in text
    assert "nothing was changed" in text
