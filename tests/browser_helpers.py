"""Plumbing for the browser test: an isolated JupyterLab server, Chromium, and notebook driving.

Everything here has a bounded wait and a teardown, so a hung server or browser fails the
test within a minute instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# The news opt-in toast would cover the notebook (update checks are off on the command line).
QUIET_LAB = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lab:
    """A running JupyterLab: where it listens, its token, and its log file."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def lab_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of the server (and so of its kernels): isolated config and state."""
    venv_bin = str(Path(sys.executable).parent)
    leaky = ("JUPYTER", "IPYTHON", "DASHSCOPE", "ALIYUN_VIDEO_MAGICS", "OUTPUT_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leaky)}
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_DATA_DIR": home / "jupyter-data",  # the venv's share/jupyter still holds the labextensions
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(QUIET_LAB), encoding="utf-8")
    env.update({k: str(v) for k, v in dirs.items()})
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


@contextmanager
def jupyterlab(root: Path, home: Path, env: dict[str, str], log: Path, timeout: float = 60.0) -> Iterator[Lab]:
    """Start ``jupyter lab`` on 127.0.0.1 (free port, token, no browser); stop it on exit."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        command.append("--allow-root")
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, cwd=root, env=lab_env(home, env), stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log, process=process)
    try:
        _wait_for_status(lab, timeout)
        yield lab
    finally:
        stop_process(process)


def _wait_for_status(lab: Lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {lab.process.returncode}:\n{lab.log_tail()}")
        try:
            request = urllib.request.Request(f"{lab.url}/api/status", headers={"Authorization": f"token {lab.token}"})
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    json.loads(answer.read())
                    return
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = exc
        time.sleep(0.25)
    raise TimeoutError(f"jupyter lab did not answer /api/status within {timeout:.0f} s ({last}):\n{lab.log_tail()}")


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the server (it shuts its kernels down); SIGKILL it and its descendants if it lingers."""
    if process.poll() is not None:
        return
    children = _descendants(process.pid)
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    for pid in [process.pid, *children, *_descendants(process.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    process.wait(timeout=grace)


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (kernels run in sessions of their own, so killpg misses them)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


def write_notebook(path: Path, sources: list[str]) -> None:
    """An nbformat 4 notebook of code cells, with the venv's python3 kernel named."""
    cells = [{"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {}, "outputs": [],
              "source": source} for i, source in enumerate(sources)]
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


class NotebookPage:
    """A JupyterLab notebook tab driven through its DOM (sync Playwright ``Page``)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def cells(self) -> Any:
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def cell(self, index: int) -> Any:
        return self.cells().nth(index)

    def outputs(self, index: int) -> Any:
        return self.cell(index).locator(".jp-OutputArea-output")

    def wait_for_kernel_idle(self, timeout: float = 60.0) -> None:
        """The kernel has started and is idle (the notebook toolbar's execution indicator)."""
        self.page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const status = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
                return !!status && status.getAttribute('data-status') === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def run_cell(self, index: int) -> None:
        """Click into the cell's editor and press Shift+Enter, as a user would."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed(timeout=10_000)
        cell.locator(".jp-InputArea-editor").click(timeout=10_000)
        self.page.keyboard.press("Shift+Enter")

    def wait_for_cell_done(self, index: int, timeout: float = 60.0) -> None:
        """The cell's prompt shows an execution count (``[3]:``), not ``[*]:`` or ``[ ]:``."""
        handle = self.cell(index).locator(".jp-InputArea-prompt").element_handle(timeout=5_000)
        self.page.wait_for_function(
            "el => /\\[\\d+\\]/.test(el.textContent || '')", arg=handle, timeout=timeout * 1000
        )
