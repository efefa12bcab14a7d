"""When to ask again: the wait schedule for polling a video task.

Video tasks take from about 30 s to 10 min, and every status request counts against the
account's 20 QPS query limit. Polling at a fixed fast rate wastes requests while nothing
can have happened yet; polling slowly makes the user wait for a video that is already
done. So the schedule is shaped around when the task is *likely* to finish:

* sparse (at most ``max_wait`` apart) before the earliest likely finish, arriving exactly
  at the start of the likely-finish window;
* dense through that window, at an interval that grows with the square root of the
  window's width (see :func:`dense_wait`);
* slowly stretching towards ``max_wait`` once the task overruns the window.

With a :class:`TaskHint` (an estimated length) the window is built around the estimate;
without one it is the whole 30 s – 10 min range. ``benchmarks/polling.py`` measures the
result against the SDK's loop and a fixed 15 s interval.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

EARLIEST_FINISH = 30.0
"""No video task finishes sooner, so polling earlier only shows PENDING/RUNNING."""

LATEST_FINISH = 600.0
"""Without an estimate, tasks are expected to end within 10 min."""

HINT_WINDOW = (0.6, 1.7)
"""The likely-finish window as fractions of the estimate (estimates are often 40 % off either way)."""

DENSITY = 0.19
"""Scale of the dense interval: 0.19 * sqrt(window seconds), e.g. 3.4 s for a 5 min estimate."""

STRETCH = 0.05
"""How fast the interval grows (seconds of wait per second of overrun) after the window."""

MIN_WAIT = 2.0
"""Never poll faster than this: half a request per second per task, far under the 20 QPS limit."""

MAX_WAIT = 30.0
"""Never stay silent longer than this, so an early finish or a status change shows soon enough."""


@dataclass(frozen=True)
class TaskHint:
    """What we guess about a task before it ends; ``expected_seconds`` is its estimated length."""

    expected_seconds: float | None = None


def likely_window(hint: TaskHint | None) -> tuple[float, float]:
    """Seconds after submission between which the task most likely ends."""
    expected = hint.expected_seconds if hint else None
    if not expected or expected <= 0:
        return EARLIEST_FINISH, LATEST_FINISH
    low, high = HINT_WINDOW
    return low * expected, high * expected


def dense_wait(window: tuple[float, float]) -> float:
    """The polling interval inside a likely-finish window of the given bounds.

    If the end is spread evenly over a window of width W, polling every d seconds costs
    about W / (2d) requests and d / 2 seconds of delay; their weighted sum is smallest
    when d grows as sqrt(W). A precise estimate (narrow window) can therefore afford a
    short interval, while a vague one spends its requests more thinly.
    """
    start, end = window
    return DENSITY * math.sqrt(max(end - start, 0.0))


def next_wait(
    elapsed: float,
    hint: TaskHint | None = None,
    *,
    min_wait: float = MIN_WAIT,
    max_wait: float = MAX_WAIT,
) -> float:
    """Seconds to sleep before the next status request, ``elapsed`` seconds after the task was submitted."""
    window = likely_window(hint)
    start, end = window
    if elapsed < start:
        remaining = start - elapsed
        wait = remaining / math.ceil(remaining / max_wait)  # equal steps, landing on the window's start
    else:
        wait = dense_wait(window) + STRETCH * max(0.0, elapsed - end)
    return min(max(wait, min_wait), max_wait)


# Seconds of generation per second of 720P video, and a fixed queue/setup overhead.
# Rough fits to the docs' "typical 1–5 min, up to ~10 min for 1080P/15 s".
_OVERHEAD_SECONDS = 30.0
_SECONDS_PER_VIDEO_SECOND = 24.0
_PIXELS_720P = 1280 * 720
_FAST_MODEL_MARKERS = ("flash", "turbo")
_FAST_MODEL_FACTOR = 0.6
_SIZE_EXPONENT = 0.6  # generation time grows more slowly than the pixel count


def _pixels(resolution: str | None) -> int:
    """Pixel count of a ``"720P"`` tier (taken as 16:9) or a ``"1280*720"`` size; 720P when unknown."""
    text = (resolution or "").strip().upper()
    if match := re.fullmatch(r"(\d+)\s*[*X]\s*(\d+)", text):
        return int(match[1]) * int(match[2])
    if match := re.fullmatch(r"(\d+)P", text):
        height = int(match[1])
        return height * height * 16 // 9
    return _PIXELS_720P


def estimate_seconds(model: str, duration_s: int | None, resolution: str | None) -> float:
    """A guess at how long a task takes, from its model, video length and resolution.

    Only a guess: real times depend on queueing and on the service's load, and are often
    40 % off either way (the polling window allows for that). It is used to shape the polling schedule and for an ETA display.
    """
    speed = _FAST_MODEL_FACTOR if any(m in model.lower() for m in _FAST_MODEL_MARKERS) else 1.0
    size_factor = (_pixels(resolution) / _PIXELS_720P) ** _SIZE_EXPONENT
    seconds = duration_s if duration_s and duration_s > 0 else 5
    return _OVERHEAD_SECONDS + _SECONDS_PER_VIDEO_SECOND * seconds * size_factor * speed
