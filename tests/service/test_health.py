"""The heartbeat file and ``python -m bot health``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.service.health import Health, check_health, read_health, write_health


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "data" / "health.json"
    write_health(path, Health(connected=True, updated=100.0, shards=2, latency_ms=42.0))
    assert read_health(path) == Health(connected=True, updated=100.0, shards=2, latency_ms=42.0)
    assert [p.name for p in path.parent.iterdir()] == ["health.json"]  # no temp file left


@pytest.mark.parametrize("content", ["", "{", "[]", '{"updated": 1}', '{"connected": true}'])
def test_unreadable_file_is_no_heartbeat(tmp_path: Path, content: str) -> None:
    path = tmp_path / "health.json"
    path.write_text(content)
    assert read_health(path) is None
    healthy, why = check_health(path, now=0.0)
    assert not healthy
    assert "no heartbeat" in why


def test_fresh_connected_is_healthy(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_health(path, Health(connected=True, updated=1000.0, shards=1, latency_ms=12.0))
    healthy, why = check_health(path, now=1010.0, max_age=60)
    assert healthy, why
    assert "connected" in why


def test_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_health(path, Health(connected=True, updated=1000.0))
    healthy, why = check_health(path, now=1061.0, max_age=60)
    assert not healthy
    assert "61 s ago" in why


def test_disconnected_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_health(path, Health(connected=False, updated=1000.0))
    healthy, why = check_health(path, now=1001.0)
    assert not healthy
    assert "gateway" in why


def test_cli_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    assert main(["health"]) == 1
    assert "no heartbeat" in capsys.readouterr().err
    import time

    write_health(tmp_path / "data" / "health.json", Health(connected=True, updated=time.time()))
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("ok: connected")
