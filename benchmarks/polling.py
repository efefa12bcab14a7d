"""Compare polling schedules on a simulated clock.

For each task length, a schedule polls once at submission and then after every wait it
asks for; the task is noticed at the first poll at or after its end. We report the delay
between the end and the noticing poll (mean and p95) and the status requests per task.

Task lengths: 1,000 drawn uniformly from 30 s – 10 min (seeded). Our schedule is run
three ways: given the exact length as its estimate; given an estimate that is off by a
factor drawn uniformly from 0.6–1.4 (about how far ``estimate_seconds`` can be off); and
with no estimate at all. The two reference loops never use an estimate.

Run: ``python benchmarks/polling.py``. Deterministic.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable

from aliyun_video_magics.polling import TaskHint, next_wait

# (elapsed seconds, polls made so far, estimated length or None) -> seconds until the next poll
Schedule = Callable[[float, int, "float | None"], float]

SEED = 20240601
TASKS = 1000
SHORTEST, LONGEST = 30.0, 600.0
HINT_ERROR = 0.4


def fixed_15s(elapsed: float, polls: int, expected: float | None) -> float:
    """The reference scripts: a GET every 15 s."""
    return 15.0


def sdk_loop(elapsed: float, polls: int, expected: float | None) -> float:
    """dashscope 1.x ``wait()``: 1 s, doubled on every 3rd poll, capped at 5 s (1,1,2,2,2,4,4,4,5,…)."""
    return min(5.0, 2.0 ** (polls // 3))


def ours(elapsed: float, polls: int, expected: float | None) -> float:
    return next_wait(elapsed, TaskHint(expected_seconds=expected))


def simulate(schedule: Schedule, length: float, expected: float | None) -> tuple[float, int]:
    """Return (seconds from the task's end to the poll that sees it, number of status requests)."""
    elapsed, polls = 0.0, 1  # the first poll is at submission
    while elapsed < length:
        elapsed += schedule(elapsed, polls, expected)
        polls += 1
    return elapsed - length, polls


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cases() -> list[tuple[str, Schedule, list[tuple[float, float | None]]]]:
    """(row name, schedule, [(true length, estimate given to the schedule)])."""
    rng = random.Random(SEED)
    lengths = [rng.uniform(SHORTEST, LONGEST) for _ in range(TASKS)]
    off = [t * rng.uniform(1 - HINT_ERROR, 1 + HINT_ERROR) for t in lengths]
    no_estimate: list[tuple[float, float | None]] = [(t, None) for t in lengths]
    return [
        ("ours, exact estimate", ours, list(zip(lengths, lengths))),
        ("ours, estimate off by up to ±40 %", ours, list(zip(lengths, off))),
        ("ours, no estimate", ours, no_estimate),
        ("fixed 15 s (reference scripts)", fixed_15s, no_estimate),
        ("SDK 1,1,2,2,2,4,4,4,5,…", sdk_loop, no_estimate),
    ]


def table() -> str:
    rows = [
        "| schedule | mean delay (s) | p95 delay (s) | requests per task |",
        "|---|---:|---:|---:|",
    ]
    for name, schedule, tasks in cases():
        results = [simulate(schedule, length, expected) for length, expected in tasks]
        delays = [delay for delay, _ in results]
        requests = statistics.fmean(polls for _, polls in results)
        rows.append(
            f"| {name} | {statistics.fmean(delays):.2f} | {percentile(delays, 0.95):.2f} | {requests:.1f} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(f"{TASKS} task lengths uniform in {SHORTEST:.0f}–{LONGEST:.0f} s, seed {SEED}\n")
    print(table())
