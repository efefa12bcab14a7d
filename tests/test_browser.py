"""The notebook experience in a real browser: JupyterLab driven by Playwright in Debian's Chromium.

Issue 4, "Done when": a ``%%vidu`` cell against an emulator task that stays PENDING then
RUNNING for a few seconds shows the progress widget with its status text, then a
``<video>`` whose metadata loads; a second cell whose task stays PENDING is cancelled with
the widget's **Cancel** button. Screenshots of each stage go to ``tests/artifacts/``
(ignored by git), with the server log and the browser console.

The emulator runs in this process; JupyterLab (and so the kernel) runs as a subprocess on
127.0.0.1 with ``DASHSCOPE_HTTP_BASE_URL`` pointing at it and an isolated Jupyter home.
The three tests share one server, browser page and kernel, and run in file order.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Lab,
    NotebookPage,
    chromium_available,
    jupyterlab,
    write_notebook,
)

from aliyun_video_magics.emulator import EMULATOR_API_KEY, Emulator

pytestmark = [pytest.mark.browser]

NOTEBOOK = "browser.ipynb"
SETUP_CELLS = [
    "%load_ext aliyun_video_magics",
    "%config VideoMagics.poll_min_seconds = 0.5",
    "%config VideoMagics.poll_max_seconds = 1",
]
VIDU = "%%vidu --resolution 540P --ratio 16:9 --duration 5\n"
CELLS = [
    *SETUP_CELLS,
    VIDU + "A red kite over a windy beach at dawn",          # PENDING ~3 s, RUNNING ~3 s, SUCCEEDED
    VIDU + "A lighthouse blinking in thick fog",             # short task with a cell queued behind it
    "print('the queued cell ran')",
    VIDU + "A paper boat drifting down a rainy street",      # stays PENDING 60 s: cancelled
]
VIDEO_CELL, QUEUED_VIDU_CELL, QUEUED_PRINT_CELL, CANCEL_CELL = range(len(SETUP_CELLS), len(CELLS))
CANCEL_PATH = re.compile(r"^/api/v1/tasks/([^/]+)/cancel/?$")
WAIT = 60_000  # ms: the longest any single wait in this file may take
STDERR = "[data-mime-type='application/vnd.jupyter.stderr']"
PLAY_HALF_A_SECOND = """async v => {
    v.muted = true;
    const timeout = new Promise(resolve => setTimeout(() => resolve('play() did not start in 20 s'), 20000));
    const played = v.play().then(() => new Promise(r => setTimeout(r, 500))).then(() => v.currentTime);
    const result = await Promise.race([played, timeout]);
    v.pause();
    return result;
}"""

class CancelNotDelivered(AssertionError):
    """The Cancel click never reached the kernel's button handler (no cancel POST)."""


class QueuedCellDropped(AssertionError):
    """A cell queued behind a running generation never ran (its execute_request was lost)."""


def _require_chromium() -> None:
    if chromium_available():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium; `make test` installs it)"
    if os.environ.get("CI"):
        pytest.fail(message + " - in CI the browser test must run, not skip")
    pytest.skip(message)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(pending_seconds=3, running_seconds=3) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def lab(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _require_chromium()
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    ARTIFACTS.mkdir(exist_ok=True)
    write_notebook(root / NOTEBOOK, CELLS)
    env = {
        "DASHSCOPE_HTTP_BASE_URL": emu.base_url,
        "DASHSCOPE_API_KEY": EMULATOR_API_KEY,
        "ALIYUN_VIDEO_MAGICS_JOURNAL": str(root / "journal.sqlite3"),
    }
    with jupyterlab(root, home, env, log=ARTIFACTS / "jupyterlab.log", timeout=60) as server:
        yield server


@pytest.fixture(scope="module")
def notebook(lab: Lab) -> Iterator[NotebookPage]:
    """The notebook open in Chromium, its kernel idle and the setup cells run."""
    from playwright.sync_api import sync_playwright

    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                             timeout=WAIT)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(WAIT)
            page = context.new_page()
            page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
            page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
            page.goto(lab.page_url(NOTEBOOK), wait_until="domcontentloaded", timeout=WAIT)
            nb = NotebookPage(page)
            nb.cell(len(CELLS) - 1).wait_for(state="visible", timeout=WAIT)
            nb.wait_for_kernel_idle(timeout=60)
            for index in range(len(SETUP_CELLS)):
                nb.run_cell(index)
                nb.wait_for_cell_done(index, timeout=60)
                assert nb.cell(index).locator(STDERR).count() == 0, nb.cell(index).inner_text()
            yield nb
        finally:
            (ARTIFACTS / "browser-console.log").write_text("\n".join(console), encoding="utf-8")
            browser.close()


def _shot(nb: NotebookPage, name: str, cell: int | None = None) -> None:
    if cell is not None:
        nb.cell(cell).scroll_into_view_if_needed(timeout=10_000)
    nb.page.screenshot(path=str(ARTIFACTS / name), timeout=WAIT)


class _OnFailure:
    """On an unexpected error inside: save a screenshot and print the server log's tail."""

    def __init__(self, nb: NotebookPage, lab: Lab, name: str) -> None:
        self.nb, self.lab, self.name = nb, lab, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if exc is not None and not isinstance(exc, (CancelNotDelivered, QueuedCellDropped)):
            try:
                _shot(self.nb, self.name)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            print(f"\n--- jupyterlab log tail ---\n{self.lab.log_tail()}")
        return False


def _cancel_posts(emu: Emulator, task_id: str) -> list[Any]:
    return [r for r in emu.requests
            if r.method == "POST" and (m := CANCEL_PATH.match(r.path)) and m.group(1) == task_id]


def _new_task(emu: Emulator, before: set[str]) -> str:
    new = [t for t in emu.tasks if t not in before]
    assert len(new) == 1, new
    return new[0]


@pytest.mark.timeout(120)
def test_progress_widget_then_playable_video(notebook: NotebookPage, lab: Lab, emu: Emulator) -> None:
    from playwright.sync_api import expect

    nb, page = notebook, notebook.page
    before = set(emu.tasks)
    with _OnFailure(nb, lab, "video-failure.png"):
        nb.run_cell(VIDEO_CELL)
        cell = nb.cell(VIDEO_CELL)

        # The live ipywidgets box: status HTML, bar, Cancel button, details.
        box = cell.locator(".jp-OutputArea-output .widget-hbox")
        expect(box).to_be_visible(timeout=WAIT)
        status = box.locator(".widget-html").first
        expect(status).to_contain_text(re.compile(r"PENDING|RUNNING"), timeout=WAIT)
        expect(box.get_by_role("button", name=re.compile("Cancel"))).to_be_visible()
        expect(box.locator(".widget-progress, .progress").first).to_be_visible()
        task_id = _new_task(emu, before)
        expect(box).to_contain_text(task_id)  # the details line names the task at once
        _shot(nb, "progress.png", VIDEO_CELL)
        expect(status).to_contain_text("RUNNING", timeout=WAIT)  # the box follows the task
        _shot(nb, "progress-running.png", VIDEO_CELL)

        # The end: the box is replaced in place by the static final state, then the player.
        video = cell.locator(".jp-OutputArea-output video")
        expect(video).to_be_attached(timeout=WAIT)
        nb.wait_for_cell_done(VIDEO_CELL, timeout=60)
        expect(cell.locator(".widget-hbox")).to_have_count(0)
        expect(cell.locator(".aliyun-video-progress")).to_contain_text("SUCCEEDED")
        handle = video.element_handle(timeout=WAIT)
        page.wait_for_function("v => v.readyState >= 1 && v.duration > 0", arg=handle, timeout=WAIT)
        assert page.evaluate("v => v.duration", handle) > 0
        assert (handle.get_attribute("src") or "").startswith("data:video/mp4;base64,")  # plays anywhere
        # And it plays (Debian's Chromium decodes H.264): half a second, muted, then paused.
        played = page.evaluate(PLAY_HALF_A_SECOND, handle)
        assert isinstance(played, (int, float)) and played > 0, played
        table = cell.locator("table.aliyun-video-meta")
        expect(table).to_contain_text(task_id)
        expect(table).to_contain_text("vidu")
        expect(table).to_contain_text("SUCCEEDED")
        assert cell.locator(STDERR).count() == 0, cell.inner_text()
        video.scroll_into_view_if_needed()
        _shot(nb, "video.png")

    assert emu.count("POST", "/services/aigc/") == 1  # one submit, never two
    assert emu.tasks[task_id].status == "SUCCEEDED"


@pytest.mark.timeout(120)
def test_cell_queued_behind_a_generation_still_runs(notebook: NotebookPage, lab: Lab, emu: Emulator) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    nb = notebook
    emu.next_tasks(pending_seconds=2, running_seconds=1)
    with _OnFailure(nb, lab, "queued-failure.png"):
        nb.run_cell(QUEUED_VIDU_CELL)
        expect(nb.cell(QUEUED_VIDU_CELL).locator(".widget-hbox")).to_contain_text("PENDING", timeout=WAIT)
        nb.run_cell(QUEUED_PRINT_CELL)  # queued behind the busy cell, as Run All would
        expect(nb.cell(QUEUED_PRINT_CELL).locator(".jp-InputArea-prompt")).to_contain_text("*")
        nb.wait_for_cell_done(QUEUED_VIDU_CELL, timeout=60)
        try:
            nb.wait_for_cell_done(QUEUED_PRINT_CELL, timeout=15)
        except PlaywrightTimeout:
            _shot(nb, "queued-dropped.png", QUEUED_PRINT_CELL)
            raise QueuedCellDropped(
                "the cell run while a %%vidu cell was polling never ran (still [*] 15 s after the generation "
                f"ended); the generation cell shows: {nb.cell(QUEUED_VIDU_CELL).inner_text()[-400:]!r}"
            ) from None
        expect(nb.outputs(QUEUED_PRINT_CELL)).to_contain_text("the queued cell ran")
        assert nb.cell(QUEUED_VIDU_CELL).locator(STDERR).count() == 0, nb.cell(QUEUED_VIDU_CELL).inner_text()
        _shot(nb, "queued.png", QUEUED_PRINT_CELL)


@pytest.mark.timeout(120)
def test_cancel_button_cancels_a_pending_task(notebook: NotebookPage, lab: Lab, emu: Emulator) -> None:
    from playwright.sync_api import expect

    nb = notebook
    before = set(emu.tasks)
    emu.next_tasks(pending_seconds=60, running_seconds=1)
    with _OnFailure(nb, lab, "cancel-failure.png"):
        nb.run_cell(CANCEL_CELL)
        cell = nb.cell(CANCEL_CELL)
        box = cell.locator(".jp-OutputArea-output .widget-hbox")
        expect(box.locator(".widget-html").first).to_contain_text("PENDING", timeout=WAIT)
        task_id = _new_task(emu, before)
        expect(box).to_contain_text(task_id)
        button = box.get_by_role("button", name=re.compile("Cancel"))
        expect(button).to_be_enabled()
        _shot(nb, "cancel-pending.png", CANCEL_CELL)

        clicked = time.monotonic()
        button.click(timeout=10_000)
        # The kernel must see the click while the cell is busy: the cancel POST goes out, the
        # task ends CANCELED and the cell finishes long before the task's 60 s of PENDING.
        while time.monotonic() < clicked + 15 and not _cancel_posts(emu, task_id):
            time.sleep(0.2)
        if not _cancel_posts(emu, task_id):
            _shot(nb, "cancel-not-delivered.png", CANCEL_CELL)
            raise CancelNotDelivered(
                f"no POST /tasks/{task_id}/cancel reached the emulator within 15 s of clicking Cancel; "
                f"the cell shows: {cell.inner_text()[-600:]!r}")
        nb.wait_for_cell_done(CANCEL_CELL, timeout=30)
        assert time.monotonic() - clicked < 30
        expect(cell.locator(".aliyun-video-progress")).to_contain_text("CANCELED")
        expect(cell.locator(".aliyun-video-failure")).to_contain_text("cancelled")
        expect(cell.locator(".aliyun-video-failure")).to_contain_text(task_id)
        expect(cell.locator(".widget-hbox")).to_have_count(0)
        expect(cell.locator("video")).to_have_count(0)
        assert cell.locator(STDERR).count() == 0, cell.inner_text()
        _shot(nb, "cancelled.png", CANCEL_CELL)

    assert emu.tasks[task_id].status == "CANCELED"
    assert len(_cancel_posts(emu, task_id)) == 1
