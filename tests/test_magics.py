"""The IPython layer in a real InteractiveShell, talking to the emulator over loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from aliyun_video_magics.emulator import EMULATOR_API_KEY, Emulator
from aliyun_video_magics.result import VideoResult

SUBMIT = "/services/aigc/video-generation/video-synthesis"


@pytest.fixture
def shell(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("DASHSCOPE_API_KEY", EMULATOR_API_KEY)
    monkeypatch.chdir(tmp_path)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "aliyun_video_magics")
    ip.run_line_magic("config", f"VideoMagics.base_url = '{emulator.base_url}'")
    ip.run_line_magic("config", "VideoMagics.poll_min_seconds = 0.1")
    ip.run_line_magic("config", "VideoMagics.poll_max_seconds = 0.3")
    yield ip
    ip.run_line_magic("unload_ext", "aliyun_video_magics")
    InteractiveShell.clear_instance()


def test_load_registers_magics_and_unload_removes_them(shell: InteractiveShell) -> None:
    for kind, name in (("cell", "vidu"), ("cell", "kling"), ("cell", "wan"), ("line", "vidu"), ("line", "video")):
        assert name in shell.magics_manager.magics[kind]
    shell.run_line_magic("unload_ext", "aliyun_video_magics")
    assert "vidu" not in shell.magics_manager.magics["cell"]
    shell.run_line_magic("load_ext", "aliyun_video_magics")
    shell.run_line_magic("reload_ext", "aliyun_video_magics")
    assert "wan" in shell.magics_manager.magics["cell"]


def test_help_lists_the_options(shell: InteractiveShell) -> None:
    doc = shell.find_cell_magic("vidu").__doc__
    for option in ("--resolution", "--ratio", "--ref", "--dry-run", "--out", "--no-audio"):
        assert option in doc
    with capture_output() as out:
        shell.run_line_magic("kling", "--help")
    assert "--mode" in out.stdout


def test_line_form_takes_the_prompt_as_an_option(shell: InteractiveShell, emulator: Emulator) -> None:
    result = shell.run_line_magic("wan", '--dry-run --prompt "a cat, {quoted}"')
    assert result.body["input"]["prompt"] == "a cat, {quoted}"
    assert emulator.requests == []


def test_dry_run_shows_request_and_sends_nothing(shell: InteractiveShell, emulator: Emulator) -> None:
    result = shell.run_cell_magic("vidu", "--resolution 540P --ratio 16:9 --duration 5 --dry-run",
                                  "A cat running under the moonlight")
    text = repr(result)
    assert "vidu/viduq3-turbo_text2video" in text
    assert "Bearer ***" in text and EMULATOR_API_KEY not in text
    assert '"size": "960*528"' in text
    assert "curl -X POST" in text and "$DASHSCOPE_API_KEY" in text
    assert emulator.requests == []


def test_bad_input_is_one_usage_error_and_nothing_is_sent(shell: InteractiveShell, emulator: Emulator) -> None:
    with pytest.raises(UsageError, match=r"--duration 50: .* allows 1 to 16 seconds"):
        shell.run_cell_magic("vidu", "--duration 50", "x")
    with pytest.raises(UsageError, match="did you mean --ratio"):
        shell.run_cell_magic("wan", "--rato 16:9", "x")
    with pytest.raises(UsageError, match="give a Python variable name"):
        shell.run_cell_magic("wan", "-o 2clips", "x")
    assert emulator.requests == []


def test_a_cell_makes_a_video_and_stores_it(shell: InteractiveShell, emulator: Emulator, tmp_path: Path) -> None:
    result = shell.run_cell_magic("vidu", "--resolution 540P --ratio 16:9 --duration 5 -o clip",
                                  "A cat {running} under $the moonlight")
    assert isinstance(result, VideoResult)
    assert shell.user_ns["clip"] is result
    assert result.path.is_file() and result.path.stat().st_size > 1000
    assert result.path.with_suffix(".json").is_file()
    posts = [r for r in emulator.requests if r.method == "POST" and r.path.endswith(SUBMIT)]
    assert len(posts) == 1
    assert posts[0].json()["input"]["prompt"] == "A cat {running} under $the moonlight"
    html = result._repr_html_()
    assert "data:video/mp4;base64," in html and "billable seconds" in html


def test_failed_task_shows_a_short_block_and_stores_nothing(shell: InteractiveShell, emulator: Emulator) -> None:
    emulator.next_tasks(outcome="FAILED", code="DataInspectionFailed", message="inappropriate content")
    with capture_output() as out:
        result = shell.run_cell_magic("wan", "-o broken", "a prompt the service refuses")
    assert result is None and "broken" not in shell.user_ns
    shown = " ".join(str(o.data) for o in out.outputs)
    assert "DataInspectionFailed" in shown and "inappropriate content" in shown


def test_video_subcommands(shell: InteractiveShell, emulator: Emulator) -> None:
    models = repr(shell.run_line_magic("video", "models kling"))
    assert "kling/kling-v3-omni-video-generation" in models and "vidu/" not in models
    with capture_output() as out:
        shell.run_line_magic("video", "config")
    assert "VideoMagics.embed_max_mb" in out.stdout and EMULATOR_API_KEY not in out.stdout
    with pytest.raises(UsageError, match="unknown %video subcommand"):
        shell.run_line_magic("video", "frobnicate")
    shell.run_cell_magic("vidu", "--duration 4", "a red kite")
    tasks = repr(shell.run_line_magic("video", "tasks"))
    assert "SUCCEEDED" in tasks and "a red kite" in tasks
    usage = repr(shell.run_line_magic("video", "usage"))
    assert "vidu/viduq3-turbo_text2video" in usage and "4" in usage


def test_fetch_attaches_to_a_task_submitted_elsewhere(shell: InteractiveShell, emulator: Emulator) -> None:
    from aliyun_video_magics.client import DashScopeClient

    other = DashScopeClient(base_url=emulator.base_url, api_key=EMULATOR_API_KEY)
    task_id = other.submit({"model": "wan2.6-t2v", "input": {"prompt": "made elsewhere"}}).task_id
    result = shell.run_line_magic("video", f"fetch {task_id} -o fetched")
    assert isinstance(result, VideoResult) and shell.user_ns["fetched"] is result
    assert result.task_id == task_id and result.model == "wan2.6-t2v"
    assert result.path.is_file() and "/fetch/videos/" in result.path.as_posix()


def test_video_cancel_pending_then_refused_once_running(shell: InteractiveShell, emulator: Emulator) -> None:
    from aliyun_video_magics.client import DashScopeClient

    other = DashScopeClient(base_url=emulator.base_url, api_key=EMULATOR_API_KEY)
    emulator.next_tasks(pending_seconds=30)
    waiting = other.submit({"model": "wan2.6-t2v", "input": {"prompt": "still queued"}}).task_id
    with capture_output() as out:
        shell.run_line_magic("video", f"cancel {waiting}")
    assert f"task {waiting} cancelled" in out.stdout
    assert emulator.tasks[waiting].status == "CANCELED"

    emulator.next_tasks(pending_seconds=0, running_seconds=30)
    running = other.submit({"model": "wan2.6-t2v", "input": {"prompt": "already running"}}).task_id
    with capture_output() as out:
        shell.run_line_magic("video", f"cancel {running}")
    shown = " ".join(str(o.data) for o in out.outputs)
    assert "Cancel refused" in shown and "can no longer be cancelled" in shown
    assert emulator.tasks[running].status == "RUNNING"
