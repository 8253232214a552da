"""The match and check commands, through bot.__main__.main and once as a subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.kb.loader import BUNDLED_DIR, load_knowledge
from bot.matching.factory import build_matcher

ROOT = Path(__file__).resolve().parent.parent


def set_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_match_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "I'm far too busy for twitter", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert set(result) == {"text", "answer", "suggestions"}
    assert result["text"] == "I'm far too busy for twitter"
    expected = build_matcher(load_knowledge()).match("I'm far too busy for twitter").to_json()
    assert result == json.loads(json.dumps(expected))
    if result["answer"] is not None:
        assert set(result["answer"]) == {"id", "kind", "score"}
        assert result["answer"]["kind"] in ("objection", "benefit")
        assert 0 <= result["answer"]["score"] <= 100
    for s in result["suggestions"]:
        assert set(s) == {"id", "kind", "score"}


def test_match_stdin_one_result_per_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["i'm too busy", "", "nice weather today", "what about hipaa?"]
    set_stdin(monkeypatch, ("\n".join(lines) + "\n").encode())
    assert main(["match", "--json"]) == 0
    results = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in results] == lines
    assert results[1] == {"text": "", "answer": None, "suggestions": []}
    matcher = build_matcher(load_knowledge())
    for r in results[:1] + results[2:]:
        assert r == json.loads(json.dumps(matcher.match(r["text"]).to_json()))


def test_match_human_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_stdin(monkeypatch, b"i'm too busy\r\n\n")
    assert main(["match"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    decision = build_matcher(load_knowledge()).match("i'm too busy")
    if decision.answer is not None:
        assert first == f"answer: {decision.answer.id} ({decision.answer.score:.1f})"
    else:
        assert first.startswith(("suggest: ", "silent"))
    assert second == "silent"


def test_match_invalid_utf8_names_the_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_stdin(monkeypatch, b"hello\nbad \xff byte\n")
    assert main(["match", "--json"]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1
    assert captured.err == "error: stdin line 2 is not valid UTF-8 (byte 5)\n"


def test_match_empty_text_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "   "]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: empty message")
    assert captured.err.count("\n") == 1


def test_match_ten_megabyte_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "too busy " * 1_200_000
    set_stdin(monkeypatch, text.encode() + b"\n")
    assert main(["match", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == text


def test_check_bundled_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.splitlines()[-1].startswith("OK: 0 errors")


def _write_kb(directory: Path, **files: bytes) -> Path:
    directory.mkdir(exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


BAD_FILES = {
    "syntax": (b"objections:\n  - id: x\n    title: [oops\n", "bad.yaml:3: YAML syntax error"),
    "types": (
        b"objections:\n  - id: x\n    title: t\n    triggers: a\n    answer: b\n",
        "bad.yaml:4: objection `x` `triggers` must be a list",
    ),
    "tag": (
        b"objections: !!python/object/apply:os.system ['echo pwned']\n",
        "bad.yaml:1: the YAML tag !!python/object/apply:os.system is not allowed",
    ),
    "alias-bomb": (
        b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
        "bad.yaml:1: anchors (&a) are not allowed",
    ),
    "binary": (b"\x7fELF\x00\x00\x01", "bad.yaml:1: binary data"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["check", "match", "console"])
def test_bad_knowledge_base_gives_located_lines_no_traceback(
    case: str,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, expected = BAD_FILES[case]
    kb = _write_kb(
        tmp_path / "kb",
        **{"source.yaml": (BUNDLED_DIR / "source.yaml").read_bytes(), "bad.yaml": data},
    )
    set_stdin(monkeypatch, b"i'm too busy\n")
    argv = [command, "--kb", str(kb)] + (["i'm too busy"] if command == "match" else [])
    assert main(argv) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert expected in text
    assert "Traceback" not in text


@pytest.mark.parametrize("command", ["check", "match", "console"])
def test_missing_kb_directory(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--kb", str(tmp_path / "nope")] + (["hi"] if command == "match" else [])
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert (
        f"{tmp_path / 'nope'}: knowledge-base directory does not exist"
        in captured.out + captured.err
    )


def test_check_reports_example_that_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = _write_kb(
        tmp_path / "kb",
        **{
            "source.yaml": (BUNDLED_DIR / "source.yaml").read_bytes(),
            "o.yaml": b"objections:\n  - id: too-busy\n    title: I'm too busy.\n"
            b"    triggers: [i'm too busy for twitter]\n    answer: Ten minutes.\n"
            b"    examples:\n      - the weather is lovely in spring\n",
        },
    )
    assert main(["check", "--kb", str(kb)]) == 1
    out = capsys.readouterr().out
    assert (
        "o.yaml:7: example 'the weather is lovely in spring' of `too-busy` does not get its answer"
        in out
    )
    assert out.splitlines()[-1].startswith("check failed: 1 error")


def test_subprocess_check_bad_dir(tmp_path: Path) -> None:
    kb = _write_kb(tmp_path / "kb", **{"bad.yaml": b"a: &a [1]\nb: *a\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--kb", str(kb)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "bad.yaml:1: anchors (&a) are not allowed" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_match_explain_shows_both_keys_and_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--explain", "I'm far too busy for twitter"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("answer: too-busy")
    for label in ("words:", "meaning:", "nearest:", "runner-up:", "-> answer too-busy"):
        assert label in out


def test_match_explain_json_adds_fields_and_keeps_the_contract(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "good morning everyone, coffee is on me today"
    assert main(["match", "--json", "--explain", text]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"text", "answer", "suggestions"} <= set(result)
    assert result["answer"] is None
    explain = result["explain"]
    assert explain["rule"]
    whole = explain["parts"][0]
    assert whole["text"] == text
    assert {"word", "meaning", "nearest", "runner_up", "margin", "negative", "rule"} <= set(whole)
    assert isinstance(whole["meaning"]["score"], float)


def test_a_broken_model_dir_stops_match_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model").mkdir()
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "model"))
    assert main(["match", "I'm too busy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(tmp_path / "model" / "model.onnx") in err[0]
