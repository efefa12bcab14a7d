"""Shared fixtures: every test runs with no real key, no user journal and no real service."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from aliyun_video_magics.emulator import EMULATOR_API_KEY, Emulator
from aliyun_video_magics.run import Settings


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read the developer's key, journal or config, nor reach the real service.

    The stand-in home lives outside ``tmp_path`` so tests that inspect ``tmp_path`` see only their own files.
    """
    for name in ("DASHSCOPE_API_KEY", "DASHSCOPE_API_KEY_FILE_PATH", "DASHSCOPE_HTTP_BASE_URL",
                 "DASHSCOPE_BASE_URL", "OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ALIYUN_VIDEO_MAGICS_JOURNAL", str(home / "journal.sqlite3"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_seconds=0.3, running_seconds=0.5) as emu:
        yield emu


@pytest.fixture
def settings(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointed at the emulator, with fast polling and files under tmp_path."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", EMULATOR_API_KEY)
    return Settings(base_url=emulator.base_url, output_dir=str(tmp_path / "output"),
                    journal_path=str(tmp_path / "journal.sqlite3"), poll_min_seconds=0.1, poll_max_seconds=0.3)


@pytest.fixture
def sample_png() -> str:
    return str(Path(__file__).resolve().parent.parent / "aliyun_video_magics" / "emulator" / "clips" / "sample.png")
