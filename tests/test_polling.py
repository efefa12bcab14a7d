"""The wait schedule: shape, bounds, and the benchmark's claims (fewer requests, <= 2 s delay)."""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aliyun_video_magics.polling import (
    EARLIEST_FINISH,
    TaskHint,
    dense_wait,
    estimate_seconds,
    likely_window,
    next_wait,
)

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "polling.py"


def poll_times(hint: TaskHint | None, until: float) -> list[float]:
    """Seconds after submission at which the schedule polls (the first poll is at 0)."""
    times = [0.0]
    while times[-1] < until:
        times.append(times[-1] + next_wait(times[-1], hint))
    return times


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("polling_benchmark", BENCHMARK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_hint_the_first_wait_skips_to_the_earliest_finish() -> None:
    assert next_wait(0.0) == EARLIEST_FINISH
    assert poll_times(None, 31)[:3] == [0.0, 30.0, 30.0 + dense_wait(likely_window(None))]


def test_with_hint_it_sleeps_in_equal_steps_to_the_window_start() -> None:
    hint = TaskHint(expected_seconds=300)
    start, _ = likely_window(hint)
    times = poll_times(hint, start)
    steps = [b - a for a, b in zip(times, times[1:])]
    assert times[-1] == pytest.approx(start)
    assert max(steps) <= 30.0
    assert max(steps) - min(steps) == pytest.approx(0.0)


def test_dense_inside_the_likely_window() -> None:
    hint = TaskHint(expected_seconds=300)
    start, end = likely_window(hint)
    assert start < 300 < end
    for elapsed in (start, 300, end):
        assert 2.0 <= next_wait(elapsed, hint) <= 4.0


def test_stretches_to_max_wait_after_a_long_overrun() -> None:
    hint = TaskHint(expected_seconds=120)
    _, end = likely_window(hint)
    waits = [next_wait(end + extra, hint) for extra in (0, 60, 300, 3600)]
    assert waits == sorted(waits)
    assert waits[-1] == 30.0


def test_a_short_estimate_never_polls_faster_than_min_wait() -> None:
    assert next_wait(0.5, TaskHint(expected_seconds=1)) == 2.0
    assert next_wait(0.5, TaskHint(expected_seconds=1), min_wait=0.1) < 2.0


@pytest.mark.parametrize("bad", [None, 0, -5])
def test_a_missing_or_nonsense_estimate_means_no_hint(bad: float | None) -> None:
    assert likely_window(TaskHint(expected_seconds=bad)) == likely_window(None)


@given(
    elapsed=st.floats(min_value=0, max_value=86_400),
    expected=st.one_of(st.none(), st.floats(min_value=0.01, max_value=7_200)),
)
def test_every_wait_is_within_bounds(elapsed: float, expected: float | None) -> None:
    wait = next_wait(elapsed, TaskHint(expected_seconds=expected), min_wait=1.5, max_wait=45.0)
    assert 1.5 <= wait <= 45.0


@given(expected=st.floats(min_value=10, max_value=3_600))
def test_never_more_than_half_a_request_per_second(expected: float) -> None:
    """Far under the account's 20 QPS query limit even with many tasks in flight."""
    hint = TaskHint(expected_seconds=expected)
    assert min(next_wait(t, hint) for t in poll_times(hint, 2 * expected)) >= 2.0


def test_benchmark_claims(benchmark: ModuleType) -> None:
    """Ours (with an estimate, even one 40 % off) notices within 2 s on average using fewer requests."""
    rows = {}
    for name, schedule, tasks in benchmark.cases():
        results = [benchmark.simulate(schedule, length, expected) for length, expected in tasks]
        rows[name] = (statistics.fmean(d for d, _ in results), statistics.fmean(p for _, p in results))
    sdk_delay, sdk_requests = rows["SDK 1,1,2,2,2,4,4,4,5,…"]
    for name in ("ours, exact estimate", "ours, estimate off by up to ±40 %"):
        delay, requests = rows[name]
        assert delay <= 2.0
        assert requests < 0.75 * sdk_requests
    delay, requests = rows["ours, no estimate"]
    assert delay < sdk_delay and requests < sdk_requests


def test_benchmark_prints_a_markdown_table(benchmark: ModuleType) -> None:
    lines = benchmark.table().splitlines()
    assert lines[0].startswith("| schedule |")
    assert len(lines) == 2 + 5


def test_reference_loops(benchmark: ModuleType) -> None:
    assert [benchmark.sdk_loop(0, polls, None) for polls in range(1, 12)] == [1, 1, 2, 2, 2, 4, 4, 4, 5, 5, 5]
    assert benchmark.fixed_15s(123, 7, None) == 15


# ---------------------------------------------------------------- estimate


def test_estimate_grows_with_duration_and_resolution() -> None:
    short = estimate_seconds("wan2.6-t2v", 5, "720P")
    assert estimate_seconds("wan2.6-t2v", 10, "720P") > short
    assert estimate_seconds("wan2.6-t2v", 5, "1080P") > short
    assert estimate_seconds("wan2.6-t2v", 5, "480P") < short


def test_estimate_reads_sizes_and_tiers_alike() -> None:
    assert estimate_seconds("wan2.6-t2v", 5, "1280*720") == estimate_seconds("wan2.6-t2v", 5, "720P")
    assert estimate_seconds("wan2.6-t2v", 5, None) == estimate_seconds("wan2.6-t2v", 5, "720P")
    assert estimate_seconds("wan2.6-t2v", None, "720P") == estimate_seconds("wan2.6-t2v", 5, "720P")


def test_flash_and_turbo_models_are_faster() -> None:
    plus = estimate_seconds("wan2.6-i2v", 5, "720P")
    assert estimate_seconds("wan2.6-i2v-flash", 5, "720P") < plus
    assert estimate_seconds("vidu/viduq3-turbo_text2video", 5, "720P") < plus


def test_estimates_stay_in_the_documented_range() -> None:
    """Docs: typical 1–5 min, up to ~10 min for 1080P / 15 s."""
    assert 30 <= estimate_seconds("wanx2.1-t2v-turbo", 5, "480P") <= 120
    assert 60 <= estimate_seconds("wan2.6-t2v", 5, "720P") <= 300
    assert 400 <= estimate_seconds("wan2.6-t2v", 15, "1080P") <= 720
