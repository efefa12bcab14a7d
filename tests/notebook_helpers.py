"""Shared plumbing for tests that run notebooks in real Jupyter kernels.

Two ways in:

* ``execute_notebook``: a whole notebook through nbclient, as ``make demo`` and users do;
* ``KernelSession``: one kernel driven cell by cell with jupyter_client, for what nbclient
  makes awkward (interrupting a cell mid-poll, restarting the kernel mid-task, two kernels
  at once). Its cells become an nbformat notebook that can be saved and read back, so
  tests assert on the *saved* outputs either way.

Kernels get an explicit environment (``kernel_env``): the venv's ``bin`` first on
``PATH``, no real ``DASHSCOPE_*`` settings from the developer's shell, and whatever the
test passes (the emulator's URL and key, a journal under ``tmp_path``).
"""

from __future__ import annotations

import base64
import io
import os
import queue
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import nbformat
from jupyter_client import BlockingKernelClient, KernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
QUICKSTART = NOTEBOOKS / "quickstart.ipynb"
KERNEL_NAME = "python3"
SUBMIT_PATH = "/services/aigc/video-generation/video-synthesis"
GENERATION_MAGICS = ("%%vidu", "%%kling", "%%wan")
# Settings a test notebook starts with: short polling, to match the emulator's short tasks.
FAST_POLL = "%config VideoMagics.poll_min_seconds = 0.2\n%config VideoMagics.poll_max_seconds = 0.5"
SETUP = "%load_ext aliyun_video_magics\n" + FAST_POLL
# Environment names that must never leak from the developer's shell into a test kernel.
_SCRUBBED = ("DASHSCOPE_API_KEY", "DASHSCOPE_API_KEY_FILE_PATH", "DASHSCOPE_HTTP_BASE_URL",
             "DASHSCOPE_BASE_URL", "OUTPUT_DIR", "ALIYUN_VIDEO_MAGICS_JOURNAL")
_DATA_URL = re.compile(r"src='data:video/mp4;base64,([A-Za-z0-9+/=]+)'")


def venv_bin() -> Path:
    """The ``bin`` folder of the interpreter running the tests (the project's venv)."""
    local = REPO / ".venv" / "bin"
    return local if (local / "python").exists() else Path(sys.executable).parent


def path_with_venv(path: str | None = None) -> str:
    """``PATH`` with the venv's ``bin`` first, so the ``python3`` kernelspec is the venv's."""
    first = str(venv_bin())
    rest = [p for p in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep)
            if p and p != first]
    return os.pathsep.join([first, *rest])


def kernel_env(*, base_url: str | None = None, api_key: str | None = None, journal: Path | str | None = None,
               home: Path | str | None = None, output_dir: Path | str | None = None,
               extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a test kernel: this process's, minus any real service settings."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PATH"] = path_with_venv(env.get("PATH"))
    env["PYTHONUNBUFFERED"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiets a debugger warning on kernel start
    for name, value in (("DASHSCOPE_HTTP_BASE_URL", base_url), ("DASHSCOPE_API_KEY", api_key),
                        ("ALIYUN_VIDEO_MAGICS_JOURNAL", journal), ("OUTPUT_DIR", output_dir)):
        if value is not None:
            env[name] = str(value)
    if home is not None:
        Path(home).mkdir(parents=True, exist_ok=True)
        env["HOME"] = str(home)
        env["XDG_DATA_HOME"] = str(Path(home) / ".local" / "share")
        env["IPYTHONDIR"] = str(Path(home) / ".ipython")
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------------------
# Whole notebooks through nbclient


def execute_notebook(nb: NotebookNode, *, cwd: Path, env: Mapping[str, str], timeout: float = 120,
                     log: IO[bytes] | None = None, allow_errors: bool = False) -> NotebookNode:
    """Run every cell of ``nb`` in a fresh kernel (cwd, env given); the kernel's output goes to ``log``."""
    client = NotebookClient(nb, timeout=int(timeout), kernel_name=KERNEL_NAME, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    launch: dict[str, Any] = {"env": dict(env), "cwd": str(cwd)}
    if log is not None:
        launch.update(stdout=log, stderr=log)
    client.execute(**launch)
    return nb


def save_and_reload(nb: NotebookNode, path: Path) -> NotebookNode:
    """Write ``nb`` as a user's Jupyter would and read it back: what a reopened notebook holds."""
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    return nbformat.read(str(path), as_version=4)


def code_cell(source: str, *tags: str) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook_of(*cells: NotebookNode | str) -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nb.cells = [code_cell(c) if isinstance(c, str) else c for c in cells]
    return nb


# ---------------------------------------------------------------------------------------
# One kernel, cell by cell (jupyter_client)


class KernelSession:
    """A real kernel driven cell by cell; its cells form a notebook with nbclient-like outputs.

    ``run`` executes and waits; ``send`` + ``collect`` split that so a test can interrupt or
    restart the kernel while a cell is still polling.
    """

    def __init__(self, cwd: Path, env: Mapping[str, str], log_path: Path | None = None,
                 startup_timeout: float = 60) -> None:
        self.cwd, self.env, self.startup_timeout = Path(cwd), dict(env), startup_timeout
        self.log_path = log_path or self.cwd / "kernel.log"
        self.nb = notebook_of()
        self.km = KernelManager(kernel_name=KERNEL_NAME)
        self.kc: BlockingKernelClient | None = None
        self._log: IO[bytes] | None = None
        self._displays: dict[str, list[NotebookNode]] = {}
        self._pending: dict[str, NotebookNode] = {}  # sent, not yet collected
        self._iopub_backlog: dict[str, list[dict[str, Any]]] = {}
        self._shell_backlog: dict[str, list[dict[str, Any]]] = {}

    # -- lifecycle

    def start(self) -> KernelSession:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.km.start_kernel(env=self.env, cwd=str(self.cwd), stdout=self._log, stderr=self._log,
                             extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self._connect()
        return self

    def _connect(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        kc = self.km.blocking_client()
        kc.start_channels()
        kc.wait_for_ready(timeout=self.startup_timeout)
        kc.allow_stdin = False
        self.kc = kc
        self._pending.clear()
        self._iopub_backlog.clear()
        self._shell_backlog.clear()

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> KernelSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def interrupt(self) -> None:
        """What the stop button / Ctrl-C does: SIGINT to the kernel."""
        self.km.interrupt_kernel()

    def restart(self) -> None:
        """Kill and restart the kernel at once (same env, cwd, log); unfinished cells stay as they were."""
        self.km.restart_kernel(now=True)
        self._connect()

    # -- running cells

    def send(self, source: str, *tags: str) -> str:
        """Start executing a cell; returns its message id for ``collect``."""
        assert self.kc is not None, "the kernel is not started"
        cell = code_cell(source, *tags)
        self.nb.cells.append(cell)
        msg_id: str = self.kc.execute(source, store_history=True, allow_stdin=False)
        self._pending[msg_id] = cell
        return msg_id

    def collect(self, msg_id: str, timeout: float = 120) -> NotebookNode:
        """Gather a sent cell's outputs until the kernel is idle again; returns the cell.

        Messages of other cells sent meanwhile are kept for their own ``collect``.
        """
        assert self.kc is not None
        cell = self._pending[msg_id]
        deadline = time.monotonic() + timeout
        clear_on_next = False
        while True:
            msg = self._next_message(self._iopub_backlog, self.kc.get_iopub_msg, msg_id, deadline, cell)
            kind, content = msg["msg_type"], msg["content"]
            if kind == "update_display_data":
                self._update_display(content)
                continue
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind == "clear_output":
                if content.get("wait"):
                    clear_on_next = True
                else:
                    cell.outputs = []
                continue
            if kind not in ("stream", "display_data", "execute_result", "error"):
                continue
            if clear_on_next:
                cell.outputs, clear_on_next = [], False
            self._add_output(cell, msg)
        reply = self._next_message(self._shell_backlog, self.kc.get_shell_msg, msg_id,
                                   max(deadline, time.monotonic() + 5), cell)
        del self._pending[msg_id]
        cell.execution_count = reply["content"].get("execution_count")
        cell.metadata["reply_status"] = reply["content"]["status"]
        return cell

    def _next_message(self, backlog: dict[str, list[dict[str, Any]]], receive: Callable[..., dict[str, Any]],
                      msg_id: str, deadline: float, cell: NotebookNode) -> dict[str, Any]:
        """The next message for ``msg_id``; another pending cell's go to its backlog.

        A display update from a cell no longer pending is returned too: it may change an
        earlier cell's output.
        """
        while True:
            if backlog.get(msg_id):
                return backlog[msg_id].pop(0)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"cell did not finish in time: {cell.source[:80]!r}")
            try:
                msg = receive(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            parent = msg["parent_header"].get("msg_id")
            if parent == msg_id:
                return msg
            if parent in self._pending:
                backlog.setdefault(parent, []).append(msg)
            elif msg["msg_type"] == "update_display_data":
                return msg

    def run(self, source: str, *tags: str, timeout: float = 120) -> NotebookNode:
        """Execute a cell and wait for it; returns the cell with its outputs."""
        return self.collect(self.send(source, *tags), timeout=timeout)

    def run_interrupted(self, source: str, when: Callable[[], bool], timeout: float = 60) -> NotebookNode:
        """Execute a cell and send Ctrl-C once ``when()`` is true (checked every 50 ms)."""
        msg_id = self.send(source)
        wait_for(when, timeout=timeout, what="the moment to interrupt")
        self.interrupt()
        return self.collect(msg_id, timeout=timeout)

    def _add_output(self, cell: NotebookNode, msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and cell.outputs and cell.outputs[-1].get("output_type") == "stream" \
                and cell.outputs[-1].get("name") == content["name"]:
            cell.outputs[-1].text += content["text"]
            return
        output = nbformat.v4.output_from_msg(msg)
        cell.outputs.append(output)
        display_id = (content.get("transient") or {}).get("display_id")
        if display_id:
            self._displays.setdefault(display_id, []).append(output)

    def _update_display(self, content: dict[str, Any]) -> None:
        display_id = (content.get("transient") or {}).get("display_id")
        for output in self._displays.get(display_id or "", []):
            output["data"] = nbformat.from_dict(content.get("data", {}))
            output["metadata"] = nbformat.from_dict(content.get("metadata", {}))

    def save(self, path: Path) -> NotebookNode:
        """The session's cells as a saved, re-read notebook."""
        return save_and_reload(self.nb, path)


# ---------------------------------------------------------------------------------------
# Reading saved outputs


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "a condition",
             interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def is_generation(cell: NotebookNode) -> bool:
    """A code cell that makes a video: a generation magic, not a dry run, not an expected error."""
    if cell.cell_type != "code":
        return False
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    tags = cell.get("metadata", {}).get("tags", [])
    return first.startswith(GENERATION_MAGICS) and "--dry-run" not in cell.source \
        and "raises-exception" not in tags


def htmls(cell: NotebookNode) -> list[str]:
    """Every ``text/html`` in a cell's outputs, in order."""
    return [o["data"]["text/html"] for o in cell.get("outputs", [])
            if "data" in o and "text/html" in o["data"]]


def texts(cell: NotebookNode) -> str:
    """All human-readable text of a cell's outputs (streams, text/plain, HTML, tracebacks) joined."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])))
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in output.get("data", {}):
                parts.append(output["data"][mime])
    return "\n".join(parts)


def plain(html_or_text: str) -> str:
    """Markup removed, entities undone: what a reader sees."""
    import html as html_module

    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html_or_text))).strip()


def embedded_videos(cell: NotebookNode) -> list[bytes]:
    """The MP4 bytes of every ``<video src='data:video/mp4;base64,...'>`` in a cell's outputs."""
    return [base64.b64decode(match) for html in htmls(cell) for match in _DATA_URL.findall(html)]


def mp4_info(data: bytes) -> tuple[int, int, float]:
    """(video streams, decoded frames, seconds) of an MP4, read with PyAV."""
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        streams = len(container.streams.video)
        frames = len(list(container.decode(video=0))) if streams else 0
        seconds = float(container.duration or 0) / 1_000_000
    return streams, frames, seconds


def files_containing(needle: bytes, roots: Iterable[Path]) -> list[Path]:
    """Every file under ``roots`` whose bytes contain ``needle``."""
    found = []
    for root in roots:
        for path in ([root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())):
            try:
                if needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found

