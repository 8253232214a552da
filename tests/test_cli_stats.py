"""``python -m bot stats --out FILE.png``: the chart from the database in DATA_DIR."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.storage import Storage
from tests.test_charts import png_size

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "whytwitter.sqlite3"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    data = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data))
    return data


def fill(database: Path) -> None:
    """Two servers' answers, votes and unanswered questions over the last five weeks."""

    async def go() -> None:
        storage = await Storage.open(database)
        now = datetime.now(UTC)
        try:
            for n in range(10):
                at = now - timedelta(days=3 * n, hours=2)
                guild = 1 if n % 2 else 2
                entry = ("too-busy", "privacy", "no-value")[n % 3]
                await storage.record_answer(
                    guild_id=guild, channel_id=5, entry_id=entry, via="channel", message_id=n, at=at
                )
                await storage.record_vote(
                    message_id=n, entry_id=entry, user_id=7, helpful=n % 3 != 0, at=at
                )
                await storage.record_unanswered(guild_id=guild, channel_id=5, text=f"q{n}", at=at)
        finally:
            await storage.close()

    asyncio.run(go())


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    return err


def test_writes_the_chart(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(data_dir / DB_NAME)
    out = tmp_path / "stats.png"
    assert main(["stats", "--out", str(out)]) == 0
    width, height = png_size(out.read_bytes())
    assert width > height
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == (
        f"wrote {out}: 10 answers, 6 helpful / 4 not helpful votes, 10 unanswered questions "
        "in the last 30 days\n"
    )

    one_server = tmp_path / "one.png"
    assert main(["stats", "--out", str(one_server), "--days", "7", "--guild", "1"]) == 0
    png_size(one_server.read_bytes())
    # days 0..6 back: n = 0, 1, 2 of which n = 1 is server 1's (helpful)
    assert capsys.readouterr().out == (
        f"wrote {one_server}: 1 answer, 1 helpful / 0 not helpful votes, 1 unanswered question "
        "in the last 7 days\n"
    )


def test_missing_database_is_one_line_and_creates_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "stats.png"
    assert main(["stats", "--out", str(out)]) == 1
    err = one_error_line(capsys.readouterr().err)
    assert f"no database at {data_dir / DB_NAME}" in err
    assert "DATA_DIR" in err
    assert not out.exists()
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("missing-dir/stats.png", "does not exist"),
        ("a-file.txt/stats.png", "does not exist"),
        (".", "is a directory"),
    ],
)
def test_unwritable_output_is_one_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, why: str
) -> None:
    fill(data_dir / DB_NAME)
    (tmp_path / "a-file.txt").write_text("not a directory")
    assert main(["stats", "--out", str(tmp_path / where)]) == 1
    assert why in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "missing-dir").exists()


def test_write_error_is_one_line(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill(data_dir / DB_NAME)

    def refuse(self: Path, data: bytes) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_bytes", refuse)
    assert main(["stats", "--out", str(tmp_path / "stats.png")]) == 1
    assert one_error_line(capsys.readouterr().err) == (
        f"error: cannot write {tmp_path / 'stats.png'}: Permission denied\n"
    )


def test_corrupt_database_is_one_line(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir.mkdir()
    (data_dir / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    assert main(["stats", "--out", str(tmp_path / "stats.png")]) == 1
    assert "corrupt" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "stats.png").exists()


@pytest.mark.parametrize("days", ["0", "366", "ten"])
def test_bad_days_is_a_usage_error(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["stats", "--out", str(tmp_path / "s.png"), "--days", days])
    assert exited.value.code == 2
    assert "--days" in capsys.readouterr().err


def test_module_entry_point(data_dir: Path, tmp_path: Path) -> None:
    fill(data_dir / DB_NAME)
    out = tmp_path / "cli.png"
    env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--out", str(out), "--days", "14"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}: ")
    png_size(out.read_bytes())
