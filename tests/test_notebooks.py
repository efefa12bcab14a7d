"""Notebooks in real kernels against the emulator, judged by their *saved* outputs.

Issue 4: the quickstart runs end to end (a playable embedded MP4, the metadata table and
an evidence file per generation, final states rather than frozen bars, the key nowhere
on disk); a failed task, an interrupt while PENDING (cancel) and while RUNNING (goes on),
a truncated download and an expired URL each behave as promised.
Issue 5: a re-run is served from the journal, a restart mid-task re-attaches, a task is
fetched from another kernel, two kernels share one journal, a lost submit answer is
recovered through the task list, and the spending guard refuses before any request.

The emulator runs in this process; each kernel gets its URL and a distinctive fake key
through the environment, its cwd is ``tmp_path`` and its journal lives there too.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import NotebookNode

from aliyun_video_magics.emulator import CLIPS_DIR, Emulator, Fault
from aliyun_video_magics.emulator.media import clip_name

from notebook_helpers import (
    FAST_POLL,
    QUICKSTART,
    SETUP,
    SUBMIT_PATH,
    KernelSession,
    embedded_videos,
    execute_notebook,
    files_containing,
    htmls,
    is_generation,
    kernel_env,
    mp4_info,
    path_with_venv,
    plain,
    save_and_reload,
    texts,
    wait_for,
)

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(180)]

SECRET_KEY = "sk-test-SECRET-1234567890abcdef"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TASK_PATH = re.compile(r"^/api/v1/tasks/([^/]+)/?$")
EVIDENCE_KEYS = ("request", "model", "task_id", "status_timeline", "final_response", "usage", "video")
TEXT_CELL = "%%vidu --resolution 540P --ratio 16:9 --duration 4\n{prompt}"


# ---------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session", autouse=True)
def _venv_kernels() -> Iterator[None]:
    """Kernels start from this venv: its ``bin`` first on PATH for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", path_with_venv())
        yield


@pytest.fixture
def emulators() -> Iterator[Callable[..., Emulator]]:
    """Start emulators (fast tasks, the fake key) in this process; all stopped at the end."""
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        settings: dict[str, Any] = {"pending_seconds": 0.5, "running_seconds": 1.0, "api_key": SECRET_KEY}
        settings.update(options)
        emulator = Emulator(**settings).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emu(emulators: Callable[..., Emulator]) -> Emulator:
    return emulators()


@pytest.fixture
def kernels(tmp_path: Path) -> Iterator[Callable[..., KernelSession]]:
    """Start kernels pointed at an emulator, set up (extension loaded, fast polling); all stopped at the end."""
    started: list[KernelSession] = []

    def start(emulator: Emulator, name: str = "a", cwd: Path | None = None, journal: Path | None = None,
              setup: bool = True) -> KernelSession:
        cwd = cwd or tmp_path
        cwd.mkdir(parents=True, exist_ok=True)
        env = kernel_env(base_url=emulator.base_url, api_key=emulator.api_key,
                         journal=journal or tmp_path / "journal.sqlite3", home=tmp_path / "home")
        session = KernelSession(cwd, env, log_path=tmp_path / f"kernel-{name}.log")
        started.append(session)
        session.start()
        if setup:
            assert_ran(session.run(SETUP))
        return session

    yield start
    for session in started:
        session.stop()


# ---------------------------------------------------------------------------------------
# Assertions on saved outputs


def assert_ran(cell: NotebookNode) -> None:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, ANSI.sub("", "\n".join(errors[0].get("traceback", [])))
    assert cell.metadata.get("reply_status", "ok") == "ok", texts(cell)


def assert_no_traceback(cell: NotebookNode) -> None:
    assert not [o for o in cell.outputs if o.output_type == "error"], texts(cell)
    assert "Traceback" not in texts(cell)


def assert_final_state(cell: NotebookNode) -> None:
    """A finished cell as saved shows its end state: no progress bar anywhere in it."""
    for html in htmls(cell):
        assert "<progress" not in html, f"frozen progress bar in a finished cell: {plain(html)[:300]}"


def submits(emu: Emulator) -> int:
    return emu.count("POST", SUBMIT_PATH) + emu.count("POST", "/services/aigc/image2video/video-synthesis")


def polls(emu: Emulator, task_id: str) -> list[float]:
    """When the kernel asked for this task's status."""
    return [r.time for r in emu.requests if r.method == "GET" and (m := TASK_PATH.match(r.path)) and m[1] == task_id]


def only_task(emu: Emulator) -> str:
    tasks = list(emu.tasks)
    assert len(tasks) == 1, tasks
    return tasks[0]


def result_of(cell: NotebookNode) -> dict[str, Any]:
    """The provenance the result output carries (``aliyun_video_magics`` metadata)."""
    found = [o.metadata["aliyun_video_magics"] for o in cell.outputs
             if o.output_type in ("execute_result", "display_data") and "aliyun_video_magics" in o.get("metadata", {})]
    assert len(found) == 1, texts(cell)
    return dict(found[0])


def assert_video_output(cell: NotebookNode, emu: Emulator, cwd: Path, final_state: bool = True) -> str:
    """One playable embedded MP4 plus the metadata table, matching the saved file; returns the task id.

    ``final_state``: the progress display was replaced by its end state, SUCCEEDED, with no bar.
    """
    assert_ran(cell)
    assert_no_traceback(cell)
    if final_state:
        assert_final_state(cell)
        progress = [h for h in htmls(cell) if "aliyun-video-progress" in h]
        assert len(progress) == 1 and "SUCCEEDED" in plain(progress[0]), [plain(h)[:200] for h in progress]
    videos = embedded_videos(cell)
    assert len(videos) == 1, f"expected one embedded video: {plain(texts(cell))[:500]}"
    streams, frames, _seconds = mp4_info(videos[0])
    assert streams == 1 and frames > 0
    meta = result_of(cell)
    task_id = meta["task_id"]
    assert task_id in emu.tasks
    shown = plain(" ".join(htmls(cell)))
    for label in ("model", "task id", "billable seconds", meta["model"], task_id, "SUCCEEDED"):
        assert label in shown, f"{label!r} missing from {shown[:600]}"
    assert "<table class='aliyun-video-meta'>" in "".join(htmls(cell))
    file = cwd / meta["file"]
    assert file.is_file() and hashlib.sha256(videos[0]).hexdigest() == meta["sha256"]
    assert hashlib.sha256(file.read_bytes()).hexdigest() == meta["sha256"]
    return str(task_id)


def assert_evidence(mp4: Path, emu: Emulator, submitted_here: bool = True) -> dict[str, Any]:
    """The JSON beside an MP4 holds request, model, ids, timeline, final answer, usage and the file's sha256.

    A task fetched by id that this journal never submitted has no request or model to record.
    """
    evidence_path = mp4.with_suffix(".json")
    assert evidence_path.is_file(), f"no evidence beside {mp4.name}"
    evidence: dict[str, Any] = json.loads(evidence_path.read_text(encoding="utf-8"))
    missing = [k for k in EVIDENCE_KEYS if k not in evidence]
    assert not missing, f"{evidence_path.name} lacks {missing}"
    assert evidence["task_id"] in emu.tasks
    if submitted_here:
        assert evidence["model"] == emu.tasks[evidence["task_id"]].model
        assert evidence["request"]["model"] == evidence["model"]
        assert evidence["request"] == emu.tasks[evidence["task_id"]].payload
        assert evidence["endpoint"].startswith(emu.base_url)
    assert evidence["final_response"]["output"]["task_status"] == "SUCCEEDED"
    timeline = [step["status"] for step in evidence["status_timeline"]]
    assert timeline and timeline[-1] == "SUCCEEDED" and set(timeline) <= {"PENDING", "RUNNING", "SUCCEEDED"}
    assert evidence["usage"] == evidence["final_response"]["usage"]
    assert evidence["video"]["sha256"] == hashlib.sha256(mp4.read_bytes()).hexdigest()
    assert evidence["video"]["size_bytes"] == mp4.stat().st_size
    return evidence


def journal_rows(path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return list(db.execute("SELECT * FROM tasks ORDER BY id"))


def one_line(cell: NotebookNode) -> str:
    """The cell's whole output as a reader sees it; asserts it is a single line."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    shown = ANSI.sub("", "\n".join(parts)).strip()
    assert "\n" not in shown, f"more than one line:\n{shown[:1500]}"
    return shown


# ---------------------------------------------------------------------------------------
# Issue 4: the quickstart notebook


def test_quickstart_is_committed_clean_and_covers_every_mode() -> None:
    nb = nbformat.read(QUICKSTART, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit the quickstart without outputs"
    assert code[0].source.splitlines() == ["%load_ext aliyun_video_magics", "%video emulator"]
    sources = "\n".join(c.source for c in code)
    for needle in ("%%vidu --resolution 540P --ratio 16:9 --duration 5\nA cat running under the moonlight",
                   "--image sample.png --image sample.png", "%%vidu --ref sample.png --ref sample.png",
                   "%%kling --mode std", "\n---\n", "%%kling --ref sample.png",
                   "--image sample.png --driving-audio sample.wav", "--dry-run", "-o clip", "clip.path",
                   "%video tasks", "%video usage"):
        assert needle in sources, needle
    raising = [c for c in code if "raises-exception" in c.metadata.get("tags", [])]
    assert len(raising) == 1 and raising[0].source.startswith("%%vidu --duration 30")
    assert all(c.cell_type == "markdown" for c, nxt in zip(nb.cells, nb.cells[1:])
               if nxt.cell_type == "code" and nxt.source.startswith(("%%", "%video tasks")))


def test_quickstart_runs_and_saves_playable_videos_with_evidence(tmp_path: Path, emu: Emulator) -> None:
    shutil.copy(QUICKSTART, tmp_path / "quickstart.ipynb")
    nb = nbformat.read(tmp_path / "quickstart.ipynb", as_version=4)
    for cell in nb.cells:  # the test's emulator replaces the notebook's own; polling is tightened
        if cell.cell_type == "code" and "%video emulator" in cell.source:
            kept = [line for line in cell.source.splitlines() if not line.startswith("%video emulator")]
            cell.source = "\n".join(kept + ([FAST_POLL] if "%load_ext" in cell.source else []))
    env = kernel_env(base_url=emu.base_url, api_key=SECRET_KEY, journal=tmp_path / "journal.sqlite3",
                     home=tmp_path / "home")
    with (tmp_path / "kernel.log").open("wb") as log:
        execute_notebook(nb, cwd=tmp_path, env=env, timeout=120, log=log)
    saved = save_and_reload(nb, tmp_path / "quickstart.executed.ipynb")

    for cell in saved.cells:
        assert_final_state(cell)
    generations = [c for c in saved.cells if is_generation(c)]
    assert len(generations) == 10
    task_ids = [assert_video_output(cell, emu, tmp_path) for cell in generations]
    assert len(set(task_ids)) == len(task_ids) == submits(emu) == len(emu.tasks)

    mp4s = sorted((tmp_path / "output").glob("*/videos/*.mp4"))
    assert len(mp4s) == len(generations)
    assert {assert_evidence(p, emu)["task_id"] for p in mp4s} == set(task_ids)
    assert not list(tmp_path.rglob("*.part")), "a temporary download was left behind"

    by_start = {c.source.split("\n", 1)[0]: c for c in saved.cells if c.cell_type == "code"}
    invalid = by_start["%%vidu --duration 30"]
    assert one_line(invalid).startswith("UsageError: --duration 30: ")
    dry = by_start["%%vidu --image sample.png --duration 4 --dry-run"]
    assert "nothing sent" in texts(dry) and "oss://&lt;upload of sample.png&gt;" in texts(dry)
    clip_path = by_start["clip.path, clip.task_id, clip.billable_seconds"]
    shown = clip_path.outputs[0]["data"]["text/plain"]
    assert ".mp4" in shown and task_ids[-1] in shown
    listing = texts(by_start["%video tasks"])
    assert all(task_id in listing for task_id in task_ids)
    assert "total" in texts(by_start["%video usage"])
    assert not (tmp_path / "sample.png").exists() and not (tmp_path / "sample.wav").exists()

    # The kernel used the key (the emulator accepts no other) but no file holds it: not the
    # saved notebook, the evidence, the journal (and its WAL), the kernel log, nor anything else.
    assert (tmp_path / "kernel.log").is_file() and list(tmp_path.glob("journal.sqlite3*"))
    assert files_containing(SECRET_KEY.encode(), [tmp_path]) == []


# ---------------------------------------------------------------------------------------
# Issue 4: failures, interrupts, downloads


def test_failed_task_shows_one_short_block_and_stores_nothing(tmp_path: Path, emu: Emulator,
                                                             kernels: Callable[..., KernelSession]) -> None:
    message = "The input text may contain inappropriate content."
    emu.next_tasks(outcome="FAILED", code="DataInspectionFailed", message=message)
    session = kernels(emu)
    session.run("%%vidu --resolution 540P --ratio 16:9 --duration 4 -o x\nA cat in a forbidden place")
    session.run("'x' in dir()")
    saved = session.save(tmp_path / "failed.ipynb").cells
    cell, check = saved[-2], saved[-1]
    task_id = only_task(emu)

    assert_ran(cell)
    assert_no_traceback(cell)
    assert_final_state(cell)
    blocks = [h for h in htmls(cell) if "aliyun-video-failure" in h]
    assert len(blocks) == 1, texts(cell)
    block = plain(blocks[0])
    assert "DataInspectionFailed" in block and message in block and task_id in block
    assert len(block) < 600
    assert not embedded_videos(cell)
    assert check.outputs[0]["data"]["text/plain"] == "False"
    assert not list((tmp_path / "output").glob("*/videos/*.mp4"))
    [row] = journal_rows(tmp_path / "journal.sqlite3")
    assert (row["task_id"], row["status"], row["error_code"]) == (task_id, "FAILED", "DataInspectionFailed")
    assert files_containing(SECRET_KEY.encode(), [tmp_path]) == []


def test_interrupt_while_pending_cancels_the_task(tmp_path: Path, emu: Emulator,
                                                  kernels: Callable[..., KernelSession]) -> None:
    emu.next_tasks(pending_seconds=30)
    session = kernels(emu)
    started = time.monotonic()
    session.run_interrupted(TEXT_CELL.format(prompt="A kite that never flies"),
                            when=lambda: bool(emu.tasks) and len(polls(emu, only_task(emu))) >= 2)
    session.run("1 + 1")
    saved = session.save(tmp_path / "cancel.ipynb").cells
    cell = saved[-2]
    task_id = only_task(emu)

    assert time.monotonic() - started < 20
    assert_ran(cell)
    assert_no_traceback(cell)
    assert_final_state(cell)
    shown = plain(texts(cell))
    assert "cancelled" in shown and "will not be billed" in shown and task_id in shown
    assert emu.count("POST", f"/tasks/{task_id}/cancel") == 1
    assert emu.tasks[task_id].status == "CANCELED"
    assert journal_rows(tmp_path / "journal.sqlite3")[0]["status"] == "CANCELED"
    assert saved[-1].outputs[0]["data"]["text/plain"] == "2", "the kernel is not usable after the interrupt"


def test_interrupt_while_running_says_it_goes_on_and_how_to_fetch(tmp_path: Path, emu: Emulator,
                                                                  kernels: Callable[..., KernelSession]) -> None:
    emu.next_tasks(pending_seconds=0.2, running_seconds=30)
    session = kernels(emu)

    def seen_running() -> bool:  # the kernel has been told RUNNING at least twice
        if not emu.tasks:
            return False
        task = emu.tasks[only_task(emu)]
        return sum(t > task.created + task.pending_seconds + 0.05 for t in polls(emu, task.task_id)) >= 2

    session.run_interrupted(TEXT_CELL.format(prompt="A very long sunset"), when=seen_running)
    cell = session.save(tmp_path / "running.ipynb").cells[-1]
    task_id = only_task(emu)

    assert_ran(cell)
    assert_no_traceback(cell)
    assert_final_state(cell)
    shown = plain(texts(cell))
    assert "goes on" in shown and "billed" in shown and f"%video fetch {task_id}" in shown
    assert emu.tasks[task_id].status == "RUNNING", "the task should go on"


def test_truncated_download_still_yields_the_complete_video(tmp_path: Path, emu: Emulator,
                                                            kernels: Callable[..., KernelSession]) -> None:
    emu.script("result", Fault.truncate(0.5))
    session = kernels(emu)
    session.run(TEXT_CELL.format(prompt="A download cut in half"))
    cell = session.save(tmp_path / "truncated.ipynb").cells[-1]

    assert_video_output(cell, emu, tmp_path)
    [mp4] = (tmp_path / "output").glob("vidu/videos/*.mp4")
    expected = (CLIPS_DIR / clip_name("16:9")).read_bytes()
    assert hashlib.sha256(mp4.read_bytes()).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert assert_evidence(mp4, emu)["video"]["size_bytes"] == len(expected)
    fetches = [r for r in emu.requests if r.path.startswith("/results/")]
    assert len(fetches) >= 2, "the cut transfer was not fetched again"
    assert not list(tmp_path.rglob("*.part"))


@pytest.fixture(scope="module")
def expired_fetches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A video is made, its file deleted, its URL left to expire; then ``%video fetch`` twice.

    The first fetch finds the expiry in the journal; the second (the journal now says
    EXPIRED) asks the service again, whose result URL answers 403.
    """
    tmp_path = tmp_path_factory.mktemp("expired")
    ttl = 3.0
    with Emulator(pending_seconds=0.5, running_seconds=1.0, url_ttl_seconds=ttl, api_key=SECRET_KEY) as emu:
        env = kernel_env(base_url=emu.base_url, api_key=SECRET_KEY, journal=tmp_path / "journal.sqlite3",
                         home=tmp_path / "home")
        with KernelSession(tmp_path, env) as session:
            assert_ran(session.run(SETUP))
            task_id = assert_video_output(session.run(TEXT_CELL.format(prompt="A video that will expire")),
                                          emu, tmp_path)
            [mp4] = (tmp_path / "output").glob("vidu/videos/*.mp4")
            mp4.unlink()
            task = emu.tasks[task_id]
            ended = task.created + task.pending_seconds + task.running_seconds
            wait_for(lambda: time.time() > ended + ttl + 1.2, timeout=10, what="the result URL to expire")
            downloads = len([r for r in emu.requests if r.path.startswith("/results/")])
            started = time.monotonic()
            session.run(f"%video fetch {task_id}")
            status_after_first = journal_rows(tmp_path / "journal.sqlite3")[0]["status"]
            downloads_after_first = len([r for r in emu.requests if r.path.startswith("/results/")])
            session.run(f"%video fetch {task_id}")
            seconds = time.monotonic() - started
            saved = session.save(tmp_path / "expired.ipynb").cells
        yield {"cells": saved[-2:], "task_id": task_id, "seconds": seconds, "mp4": mp4,
               "status_after_first": status_after_first,
               "downloads": (downloads_after_first - downloads,
                             len([r for r in emu.requests if r.path.startswith("/results/")]) - downloads)}


def test_expired_url_is_reported_as_expired_not_retried(expired_fetches: dict[str, Any]) -> None:
    task_id = expired_fetches["task_id"]
    for cell in expired_fetches["cells"]:
        assert_ran(cell)
        assert_no_traceback(cell)
        shown = plain(texts(cell)).lower()
        assert "expired" in shown and "can no longer be downloaded" in shown and task_id in shown, shown[:500]
        assert not embedded_videos(cell)
    assert expired_fetches["seconds"] < 20
    assert expired_fetches["downloads"] == (0, 1), "an expired URL was fetched again (or again and again)"
    assert expired_fetches["status_after_first"] == "EXPIRED"
    assert not expired_fetches["mp4"].exists()


def test_expired_download_leaves_no_frozen_progress_bar(expired_fetches: dict[str, Any]) -> None:
    assert_final_state(expired_fetches["cells"][-1])


# ---------------------------------------------------------------------------------------
# Issue 5: pay once, lose nothing


@pytest.fixture(scope="module")
def cached_rerun(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[NotebookNode], int, int]]:
    """One kernel runs the same cell twice: (saved cells, submit POSTs, requests made by the re-run)."""
    tmp_path = tmp_path_factory.mktemp("rerun")
    with Emulator(pending_seconds=0.5, running_seconds=1.0, api_key=SECRET_KEY) as emu:
        env = kernel_env(base_url=emu.base_url, api_key=SECRET_KEY, journal=tmp_path / "journal.sqlite3",
                         home=tmp_path / "home")
        with KernelSession(tmp_path, env) as session:
            assert_ran(session.run(SETUP))
            cell = TEXT_CELL.format(prompt="A cat running under the moonlight, twice")
            session.run(cell)
            before = len(emu.requests)
            session.run(cell)
            extra = len(emu.requests) - before
            saved = session.save(tmp_path / "rerun.ipynb").cells
        assert_video_output(saved[-2], emu, tmp_path)
        assert_video_output(saved[-1], emu, tmp_path, final_state=False)  # CACHED, checked below
        yield saved, submits(emu), extra


def test_same_cell_twice_submits_once_and_says_cached(cached_rerun: tuple[list[NotebookNode], int, int]) -> None:
    cells, posts, extra_requests = cached_rerun
    assert posts == 1
    assert extra_requests == 0, "the cached re-run made HTTP requests"
    assert result_of(cells[-1])["task_id"] == result_of(cells[-2])["task_id"]
    shown = plain(texts(cells[-1]))
    assert "Cached result" in shown and "--force" in shown
    assert "cached result from" in plain(" ".join(htmls(cells[-1])))


def test_cached_rerun_shows_no_frozen_progress_bar(cached_rerun: tuple[list[NotebookNode], int, int]) -> None:
    cells, _posts, _extra = cached_rerun
    assert_final_state(cells[-1])
    progress = [h for h in htmls(cells[-1]) if "aliyun-video-progress" in h]
    assert len(progress) == 1 and plain(progress[0]).startswith("CACHED Cached result from")


def test_restart_while_running_reattaches_without_a_second_post(tmp_path: Path, emu: Emulator,
                                                                kernels: Callable[..., KernelSession]) -> None:
    emu.next_tasks(pending_seconds=0.3, running_seconds=3)
    session = kernels(emu)
    cell = TEXT_CELL.format(prompt="A kernel that dies mid-poll")
    session.send(cell)
    wait_for(lambda: bool(emu.tasks) and emu.tasks[only_task(emu)].status == "RUNNING", timeout=20,
             what="the task to run")
    task_id = only_task(emu)
    session.restart()
    assert_ran(session.run(SETUP))
    again = session.run(cell)
    saved = session.save(tmp_path / "restart.ipynb").cells[-1]

    assert submits(emu) == 1
    assert assert_video_output(saved, emu, tmp_path) == task_id
    assert "Re-attached to task" in plain(texts(again))
    [mp4] = (tmp_path / "output").glob("vidu/videos/*.mp4")
    assert assert_evidence(mp4, emu)["task_id"] == task_id
    rows = journal_rows(tmp_path / "journal.sqlite3")
    assert [(r["task_id"], r["status"]) for r in rows] == [(task_id, "SUCCEEDED")]


def test_fetch_in_another_kernel(tmp_path: Path, emu: Emulator, kernels: Callable[..., KernelSession]) -> None:
    """Kernel B (its own folder and journal: another machine, in effect) fetches kernel A's task by id."""
    a = kernels(emu, "a", cwd=tmp_path / "a", journal=tmp_path / "a" / "journal.sqlite3")
    a.run(TEXT_CELL.format(prompt="Submitted by kernel A"))
    task_id = only_task(emu)
    b = kernels(emu, "b", cwd=tmp_path / "b", journal=tmp_path / "b" / "journal.sqlite3")
    b.run(f"%video fetch {task_id} -o fetched")
    check = b.run("fetched.task_id")
    saved = b.save(tmp_path / "b" / "fetch.ipynb").cells

    assert submits(emu) == 1
    assert assert_video_output(saved[-2], emu, tmp_path / "b") == task_id
    assert check.outputs[0]["data"]["text/plain"] == repr(task_id)
    [mp4] = (tmp_path / "b" / "output").glob("*/videos/*.mp4")
    assert assert_evidence(mp4, emu, submitted_here=False)["task_id"] == task_id
    assert [r["task_id"] for r in journal_rows(tmp_path / "b" / "journal.sqlite3")] == [task_id]


def test_two_kernels_share_one_journal_without_losing_entries(tmp_path: Path, emulators: Callable[..., Emulator],
                                                              kernels: Callable[..., KernelSession]) -> None:
    emu = emulators(pending_seconds=0.2, running_seconds=0.6)
    journal = tmp_path / "shared.sqlite3"
    a = kernels(emu, "a", journal=journal)
    b = kernels(emu, "b", journal=journal)
    cells: list[NotebookNode] = []

    def work(session: KernelSession, name: str) -> None:  # one cell at a time per kernel
        cells.extend(session.run(TEXT_CELL.format(prompt=f"Kernel {name}, shot {i}"), timeout=60) for i in range(2))

    threads = [threading.Thread(target=work, args=(session, name)) for session, name in ((a, "A"), (b, "B"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert len(cells) == 4
    firsts = {name: min(t.created for t in emu.tasks.values() if t.payload["input"]["prompt"].startswith(f"Kernel {name}"))
              for name in "AB"}
    # Each cell lasts at least 1 s (0.8 s of task, then polling), so these submits overlapped.
    assert abs(firsts["A"] - firsts["B"]) < 1.0, "the two kernels did not work at the same time"

    assert submits(emu) == 4 == len(emu.tasks)
    for session in (a, b):
        for cell in session.nb.cells[-2:]:
            assert_video_output(cell, emu, tmp_path)
    rows = journal_rows(journal)
    assert sorted(r["task_id"] for r in rows) == sorted(emu.tasks)
    assert {r["status"] for r in rows} == {"SUCCEEDED"}
    listing = texts(a.run("%video tasks"))
    assert all(task_id in listing for task_id in emu.tasks)
    with sqlite3.connect(journal) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_cells_queued_behind_a_generation_all_run(tmp_path: Path, emu: Emulator,
                                                  kernels: Callable[..., KernelSession]) -> None:
    session = kernels(emu)
    first = session.send(TEXT_CELL.format(prompt="Run All: the first cell"))
    second = session.send("print('the next cell ran')")  # sent at once, as JupyterLab's Run All does
    video = session.collect(first, timeout=30)
    assert "Exception in callback" not in texts(video)
    assert "the next cell ran" in texts(session.collect(second, timeout=5))


def test_two_kernels_creating_the_journal_at_once(tmp_path: Path, emu: Emulator,
                                                   kernels: Callable[..., KernelSession]) -> None:
    a, b = kernels(emu, "a"), kernels(emu, "b")
    for attempt in range(3):  # each attempt: a new journal file, both kernels open it in the same millisecond
        at = time.time() + 0.5
        code = (f"%config VideoMagics.journal_path = 'fresh-{attempt}.sqlite3'\nimport time\n"
                f"while time.time() < {at}:\n    pass\n%video tasks")
        sent = [(session, session.send(code)) for session in (a, b)]
        for session, msg_id in sent:
            assert_ran(session.collect(msg_id, timeout=30))


def test_lost_submit_answer_is_found_again_not_resubmitted(tmp_path: Path, emu: Emulator,
                                                           kernels: Callable[..., KernelSession]) -> None:
    emu.script("submit", Fault.drop_after_accept())
    session = kernels(emu)
    cell = TEXT_CELL.format(prompt="A submit whose answer is lost")
    first = session.run(cell)
    assert submits(emu) == 1, "the submit was re-sent automatically"
    second = session.run(cell)
    saved = session.save(tmp_path / "lost.ipynb").cells
    task_id = only_task(emu)

    assert_ran(saved[-2])
    assert_no_traceback(saved[-2])
    assert "answer was lost" in plain(texts(first)) and not embedded_videos(saved[-2])
    assert submits(emu) == 1
    assert any(r.method == "GET" and r.path.rstrip("/") == "/api/v1/tasks" for r in emu.requests), \
        "the task list was not consulted"
    assert assert_video_output(saved[-1], emu, tmp_path) == task_id
    assert f"Found task {task_id}" in plain(texts(second))
    assert [r["task_id"] for r in journal_rows(tmp_path / "journal.sqlite3")] == [task_id]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[NotebookNode], int]]:
    """One kernel: the spending guard refuses twice (plain, --force), a request is invalid.

    Returns the saved cells and how many requests the emulator received.
    """
    tmp_path = tmp_path_factory.mktemp("refusals")
    with Emulator(api_key=SECRET_KEY) as emu:
        env = kernel_env(base_url=emu.base_url, api_key=SECRET_KEY, journal=tmp_path / "journal.sqlite3",
                         home=tmp_path / "home")
        with KernelSession(tmp_path, env) as session:
            assert_ran(session.run(SETUP + "\n%config VideoMagics.max_billable_seconds = 4"))
            session.run("%%vidu --resolution 540P --ratio 16:9 --duration 5\nA five second cat")
            session.run("%%vidu --resolution 540P --ratio 16:9 --duration 5 --force\nA five second cat")
            session.run("%%vidu --duration 30\nA thirty second cat")
            saved = session.save(tmp_path / "refusals.ipynb").cells
        yield saved, len(emu.requests)


def test_spending_guard_refuses_before_any_request(refusals: tuple[list[NotebookNode], int]) -> None:
    cells, requests = refusals
    assert requests == 0, "the emulator received a request"
    for cell in cells[-3:-1]:
        assert cell.metadata["reply_status"] == "error"
        shown = ANSI.sub("", texts(cell))
        assert "spending guard" in shown and "max_billable_seconds is 4" in shown
        assert not embedded_videos(cell)


def test_refusals_and_validation_errors_are_one_line(refusals: tuple[list[NotebookNode], int]) -> None:
    cells, _requests = refusals
    assert "spending guard" in one_line(cells[-3])
    assert "--duration 30" in one_line(cells[-1])
