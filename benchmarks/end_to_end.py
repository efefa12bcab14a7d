"""End to end against the built-in emulator: our client beside the reference scripts and the SDK.

Three behaviours run in one process against one emulator, over real loopback HTTP:

* **reference scripts** (cinience/alicloud-skills): GET every 15 s, no retry, never download;
* **DashScope SDK**: GET after 1, 1, 2, 2, 2, 4, 4, 4, 5, 5 ... s (1.x ``wait()``), and the 2.0
  transport's retries (2 more tries on 5xx and transport errors, the submit POST included);
* **ours**: ``DashScopeClient`` with the package's schedule (estimate off by up to ±40 %),
  retries on GETs only, and the MP4 downloaded at once.

The other two are re-implemented here from their documented behaviour (see the API
reference §6.3 and §10.3 and the seed-scripts review); neither package is installed.

Task lengths are drawn from 30 s - 10 min and the clock is scaled by ``SCALE`` so the run
takes seconds: the emulator's task times and every client's sleeps shrink by the same
factor, and results are reported in unscaled seconds. The emulator's 20 QPS query limit is
lifted for the run because scaling time also scales request rates.

Run: ``python benchmarks/end_to_end.py`` (``make bench``).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from aliyun_video_magics.client import DashScopeClient
from aliyun_video_magics.emulator import EMULATOR_API_KEY, Emulator, Fault
from aliyun_video_magics.errors import DashScopeError
from aliyun_video_magics.polling import TaskHint
from aliyun_video_magics.transport import RetryPolicy

SCALE = 0.05
TASKS = 12
SEED = 7
SUBMIT = "/services/aigc/video-generation/video-synthesis"
PAYLOAD = {"model": "wan2.6-t2v", "input": {"prompt": "a benchmark cat"}, "parameters": {"duration": 5}}
HEADERS = {"Authorization": f"Bearer {EMULATOR_API_KEY}", "Content-Type": "application/json",
           "X-DashScope-Async": "enable"}
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}
DETECTED: dict[str, float] = {}  # our client: when it saw SUCCEEDED, before the download


def scaled_sleep(seconds: float) -> None:
    time.sleep(seconds * SCALE)


def _poll_loop(base: str, task_id: str, waits: Callable[[int], float], retry_statuses: set[int]) -> dict:
    """A bare polling loop as the reference scripts and the SDK 1.x write it."""
    polls = 0
    while True:
        response = requests.get(f"{base}/tasks/{task_id}", headers={"Authorization": HEADERS["Authorization"]},
                                timeout=30)
        polls += 1
        if response.status_code in retry_statuses:
            scaled_sleep(waits(polls))
            continue
        response.raise_for_status()
        task = response.json()
        if task["output"]["task_status"] in TERMINAL:
            return task
        scaled_sleep(waits(polls))


def reference_scripts(base: str, expected: float, folder: Path) -> tuple[str, bool]:
    task_id = requests.post(f"{base}{SUBMIT}", json=PAYLOAD, headers=HEADERS).json()["output"]["task_id"]
    _poll_loop(base, task_id, lambda _polls: 15.0, retry_statuses=set())
    return task_id, False  # prints the URL; the video itself is never downloaded


def sdk(base: str, expected: float, folder: Path) -> tuple[str, bool]:
    task_id = _sdk_submit(base)
    _poll_loop(base, task_id, lambda polls: min(5.0, 2.0 ** ((polls - 1) // 3)), retry_statuses={503, 504})
    return task_id, False  # VideoSynthesis.call/wait return the URL; downloading is the caller's job


def _sdk_submit(base: str) -> str:
    """SDK 2.0 transport: up to 2 retries on 5xx and transport errors, the creating POST included."""
    for attempt in range(3):
        try:
            response = requests.post(f"{base}{SUBMIT}", json=PAYLOAD, headers=HEADERS, timeout=30)
            if response.status_code < 500:
                return response.json()["output"]["task_id"]
        except requests.RequestException:
            if attempt == 2:
                raise
        scaled_sleep(0.5 * 2 ** attempt)
    raise RuntimeError("submit failed after retries")


def ours(base: str, expected: float, folder: Path) -> tuple[str, bool]:
    client = DashScopeClient(base_url=base, api_key=EMULATOR_API_KEY, retry_sleep=scaled_sleep)
    task_id = client.submit(PAYLOAD).task_id
    origin = time.monotonic()
    task = client.wait(task_id, hint=TaskHint(expected_seconds=expected), sleep=scaled_sleep,
                       clock=lambda: (time.monotonic() - origin) / SCALE)
    DETECTED[task_id] = time.time()
    client.download(task["output"]["video_url"], folder / f"{task_id}.mp4")
    return task_id, True


CLIENTS: dict[str, Callable[[str, float, Path], tuple[str, bool]]] = {
    "reference scripts (15 s loop)": reference_scripts,
    "DashScope SDK (1,1,2,2,2,4,4,4,5 s)": sdk,
    "aliyun_video_magics": ours,
}


def happy_path(emu: Emulator, folder: Path) -> list[list[str]]:
    """Every client runs the same task lengths at once; delay = task end -> client has the result."""
    rng = random.Random(SEED)
    lengths = [rng.uniform(30, 600) for _ in range(TASKS)]
    results: dict[str, list[tuple[str, float, bool]]] = {name: [] for name in CLIENTS}
    lock = threading.Lock()

    def one(name: str, expected: float) -> None:
        task_id, saved = CLIENTS[name](emu.base_url, expected, folder)
        done = time.time()
        with lock:
            results[name].append((task_id, done, saved))

    threads = []
    for length in lengths:
        for name in CLIENTS:
            emu.next_tasks(pending_seconds=length * 0.2 * SCALE, running_seconds=length * 0.8 * SCALE)
            thread = threading.Thread(target=one, args=(name, length * rng.uniform(0.6, 1.4)))
            thread.start()
            threads.append(thread)
            time.sleep(0.05)  # keep the emulator's queue of next_tasks aligned with submissions
    for thread in threads:
        thread.join()
    rows = []
    for name, runs in results.items():
        delays, gets = [], []
        for task_id, done, _saved in runs:
            task = emu.tasks[task_id]
            ended = task.created + task.pending_seconds + task.running_seconds
            delays.append((DETECTED.get(task_id, done) - ended) / SCALE)
            gets.append(sum(1 for r in emu.requests if r.method == "GET" and r.path.endswith(f"/tasks/{task_id}")))
        rows.append([name, f"{statistics.mean(delays):.1f}", f"{statistics.mean(gets):.1f}",
                     "yes" if all(saved for *_, saved in runs) else "no"])
    return rows


def lost_answer(emu: Emulator, folder: Path) -> list[list[str]]:
    """The submit's answer is lost after the service accepted it; then the user re-runs once."""
    rows = []
    for name, client in CLIENTS.items():
        before = len(emu.tasks)
        emu.script("submit", Fault.drop_after_accept())
        outcome = "video"
        try:
            client(emu.base_url, 60.0, folder)
        except (requests.RequestException, DashScopeError, RuntimeError):
            outcome = "error"
        if name == "aliyun_video_magics" and outcome == "error":
            # The re-run looks the task up instead of submitting again (what run.py does).
            found = DashScopeClient(base_url=emu.base_url, api_key=EMULATOR_API_KEY).find_submitted(
                PAYLOAD["model"], time.time() - 5)
            outcome = "found the first task" if found else "not found"
        elif outcome == "error":
            client(emu.base_url, 60.0, folder)  # the user runs the script again
            outcome = "re-submitted"
        rows.append([name, str(len(emu.tasks) - before), outcome])
    return rows


def get_500(emu: Emulator, folder: Path) -> list[list[str]]:
    """One 500 answer while polling a task that goes on to succeed (and is billed)."""
    rows = []
    for name, client in CLIENTS.items():
        emu.next_tasks(pending_seconds=0.2, running_seconds=0.3)
        emu.script("get", Fault.status(500))
        try:
            _task_id, saved = client(emu.base_url, 60.0, folder)
            outcome = "video saved" if saved else "URL printed, video not saved"
        except (requests.RequestException, DashScopeError) as exc:
            outcome = f"crashed ({type(exc).__name__}); paid video lost"
        rows.append([name, outcome])
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Emulator(query_qps=100000) as emu:
        folder = Path(tmp)
        os.environ.pop("DASHSCOPE_API_KEY", None)
        started = time.monotonic()
        print(f"{TASKS} tasks of 30 s - 10 min per client, clock scaled x{SCALE}, all at once\n")
        print(table(["client", "mean delay task end -> seen (s)", "status GETs per task", "MP4 on disk"],
                    happy_path(emu, folder)))
        print("\nSubmit answer lost after the task was accepted, then one re-run:\n")
        print(table(["client", "tasks created (billed)", "outcome"], lost_answer(emu, folder)))
        print("\nOne HTTP 500 on a status request:\n")
        print(table(["client", "outcome"], get_500(emu, folder)))
        print(f"\n(ran in {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
