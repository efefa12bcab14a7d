"""The HTTP client against the package's own DashScope emulator, over real loopback sockets.

Nothing in ``requests`` is patched: faults are scripted on the emulator and every
assertion about retries is made on the traffic the emulator recorded. Retry back-off
sleeps are recorded instead of slept; ``wait`` runs on a clock sped up ``SPEED`` times.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from aliyun_video_magics.client import DashScopeClient, Submission, task_error
from aliyun_video_magics.emulator import CLIPS_DIR, EMULATOR_API_KEY, Emulator, Fault
from aliyun_video_magics.errors import (
    APIError,
    CancelNotPossibleError,
    DashScopeError,
    DownloadError,
    MissingApiKeyError,
    NetworkError,
    PollTimeoutError,
    ResultExpiredError,
    SubmissionUnclearError,
    TaskCanceledError,
    TaskFailedError,
    TaskUnknownError,
)
from aliyun_video_magics.polling import TaskHint
from aliyun_video_magics.transport import RetryPolicy
from images import png_bytes

T2V = {"model": "wan2.6-t2v", "input": {"prompt": "a cat"}, "parameters": {"size": "1280*720", "duration": 5}}
VIDU = {"model": "vidu/viduq3-turbo_text2video", "input": {"prompt": "a cat"}, "parameters": {"resolution": "540P", "duration": 5}}
SUBMIT = "/services/aigc/video-generation/video-synthesis"
CLIP_16X9 = (CLIPS_DIR / "clip_16x9.mp4").read_bytes()
SPEED = 20.0
READ_TIMEOUT = 1.0


class FastTime:
    """A clock running ``SPEED`` times faster than the wall clock, and a sleep to match."""

    def clock(self) -> float:
        return time.monotonic() * SPEED

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / SPEED)


FAST = FastTime()
HINT = TaskHint(expected_seconds=10)  # emulator tasks take ~0.5 s, i.e. ~10 s on the fast clock


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(pending_seconds=0.2, running_seconds=0.3, query_qps=None) as emulator:
        yield emulator


@pytest.fixture
def backoffs() -> list[float]:
    """Retry delays the transport asked for (recorded instead of slept)."""
    return []


@pytest.fixture
def client(emu: Emulator, backoffs: list[float]) -> Iterator[DashScopeClient]:
    with DashScopeClient(
        base_url=emu.base_url,
        api_key=EMULATOR_API_KEY,
        read_timeout=READ_TIMEOUT,
        retry=RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, jitter=0.25, max_total_seconds=60),
        retry_sleep=backoffs.append,
    ) as dashscope:
        yield dashscope


def finished(client: DashScopeClient, payload: dict[str, Any] = T2V) -> dict[str, Any]:
    return client.wait(client.submit(payload).task_id, hint=HINT, sleep=FAST.sleep, clock=FAST.clock)


def form_field_names(body: bytes) -> list[str]:
    """Multipart field names in the order they were sent."""
    names = []
    for part in body.split(b"Content-Disposition: form-data; name=\"")[1:]:
        names.append(part.split(b'"', 1)[0].decode())
    return names


# ------------------------------------------------------------------------ submit


def test_submit_sends_the_documented_headers_once(client: DashScopeClient, emu: Emulator) -> None:
    before = time.time()
    submission = client.submit(T2V)
    assert isinstance(submission, Submission)
    assert submission.task_id in emu.tasks
    assert submission.task_status == "PENDING"
    assert submission.request_id
    assert before <= submission.sent_at <= time.time()
    assert submission.base_url == emu.base_url
    (post,) = [r for r in emu.requests if r.method == "POST"]
    assert post.path == "/api/v1" + SUBMIT
    assert post.json() == T2V
    assert post.headers["Authorization"] == "Bearer ***"
    assert post.headers["X-DashScope-Async"] == "enable"
    assert post.headers["Content-Type"] == "application/json"
    assert "X-DashScope-OssResourceResolve" not in post.headers
    assert post.headers["User-Agent"].startswith("aliyun-video-magics/")


def test_a_rejected_submit_carries_code_message_and_request_id(client: DashScopeClient, emu: Emulator) -> None:
    bad = {**T2V, "parameters": {"size": "1280*720", "duration": 99}}
    with pytest.raises(APIError) as caught:
        client.submit(bad)
    assert caught.value.status == 400
    assert caught.value.code == "InvalidParameter"
    assert caught.value.request_id
    assert "duration" in caught.value.message
    assert emu.count("POST", SUBMIT) == 1


def test_a_500_on_submit_is_unclear_and_never_resent(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("submit", Fault.status(500))
    with pytest.raises(SubmissionUnclearError) as caught:
        client.submit(T2V)
    error = caught.value
    assert emu.count("POST", SUBMIT) == 1
    assert (error.status, error.code, error.model) == (500, "InternalError", "wan2.6-t2v")
    assert error.request_id
    assert abs(error.sent_at - time.time()) < 5
    text = str(error)
    for phrase in ("may have been created", "billed", "NOT re-sent", "%video tasks", "model_name"):
        assert phrase in text


def test_a_read_timeout_on_submit_is_unclear_and_never_resent(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("submit", Fault.slow(READ_TIMEOUT + 0.5))
    with pytest.raises(SubmissionUnclearError, match="no answer came back") as caught:
        client.submit(T2V)
    assert emu.count("POST", SUBMIT) == 1
    assert caught.value.status is None
    time.sleep(0.6)  # let the slow answer finish server-side
    assert emu.count("POST", SUBMIT) == 1


def test_a_dropped_submit_is_recovered_with_find_submitted(client: DashScopeClient, emu: Emulator) -> None:
    other = client.submit(VIDU)  # same time window, other model: must not be returned
    emu.script("submit", Fault.drop_after_accept())
    with pytest.raises(SubmissionUnclearError) as caught:
        client.submit(T2V)
    assert emu.count("POST", SUBMIT) == 2
    found = client.find_submitted(caught.value.model, caught.value.sent_at)
    created = [tid for tid, task in emu.tasks.items() if task.model == "wan2.6-t2v"]
    assert [item["task_id"] for item in found] == created
    assert other.task_id not in {item["task_id"] for item in found}
    (listing,) = [r for r in emu.requests if r.path == "/api/v1/tasks"]
    assert listing.query["model_name"] == "wan2.6-t2v"
    window = [datetime.strptime(listing.query[k], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc) for k in ("start_time", "end_time")]
    assert window[0].timestamp() <= caught.value.sent_at <= window[1].timestamp() + 1
    assert window[1].timestamp() - window[0].timestamp() == pytest.approx(240, abs=1)


def test_find_submitted_is_empty_when_the_request_never_arrived(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("submit", Fault.drop())
    with pytest.raises(SubmissionUnclearError) as caught:
        client.submit(T2V)
    assert emu.count("POST", SUBMIT) == 1
    assert client.find_submitted(caught.value.model, caught.value.sent_at) == []


def test_a_connect_failure_says_nothing_was_sent() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with DashScopeClient(base_url=f"http://127.0.0.1:{port}/api/v1", api_key=EMULATOR_API_KEY) as offline:
        with pytest.raises(NetworkError, match="Nothing was sent"):
            offline.submit(T2V)


# ------------------------------------------------------------------------ polling


def test_wait_polls_to_success_and_reports_every_poll(client: DashScopeClient, emu: Emulator) -> None:
    updates: list[tuple[str, float]] = []
    submission = client.submit(T2V)
    task = client.wait(
        submission.task_id,
        hint=HINT,
        on_update=lambda body, elapsed: updates.append((body["output"]["task_status"], elapsed)),
        sleep=FAST.sleep,
        clock=FAST.clock,
    )
    assert task["output"]["task_status"] == "SUCCEEDED"
    assert task["output"]["video_url"].startswith(emu.origin + "/results/")
    statuses = [status for status, _ in updates]
    assert statuses[0] == "PENDING" and statuses[-1] == "SUCCEEDED"
    assert len(updates) == emu.count("GET", f"/tasks/{submission.task_id}")
    elapsed = [seconds for _, seconds in updates]
    assert elapsed == sorted(elapsed)


def test_failed_task_raises_its_own_code_and_message(client: DashScopeClient, emu: Emulator) -> None:
    emu.next_tasks(outcome="FAILED", code="DataInspectionFailed", message="Input data may contain inappropriate content.")
    submission = client.submit(T2V)
    with pytest.raises(TaskFailedError) as caught:
        client.wait(submission.task_id, hint=HINT, sleep=FAST.sleep, clock=FAST.clock)
    error = caught.value
    assert (error.code, error.task_id) == ("DataInspectionFailed", submission.task_id)
    assert error.message == "Input data may contain inappropriate content."
    assert error.request_id


def test_unknown_task_is_explained(client: DashScopeClient, emu: Emulator) -> None:
    submission = client.submit(T2V)
    emu.set_status(submission.task_id, "UNKNOWN")
    with pytest.raises(TaskUnknownError) as caught:
        client.wait(submission.task_id, sleep=FAST.sleep, clock=FAST.clock)
    assert caught.value.task_id == submission.task_id
    for phrase in ("expired", "24 h", "another region or account's key"):
        assert phrase in str(caught.value)
    assert client.get_task("no-such-task")["output"]["task_status"] == "UNKNOWN"


def test_unexpected_status_keeps_polling(client: DashScopeClient, emu: Emulator) -> None:
    submission = client.submit(T2V)
    odd = {"output": {"task_id": submission.task_id, "task_status": "SUSPENDED"}}
    emu.script("get", Fault.status(200, odd), Fault.status(200, odd))
    seen: list[str] = []
    client.wait(submission.task_id, hint=HINT, on_update=lambda b, e: seen.append(b["output"]["task_status"]),
                sleep=FAST.sleep, clock=FAST.clock)
    assert seen[:2] == ["SUSPENDED", "SUSPENDED"] and seen[-1] == "SUCCEEDED"


def test_wait_gives_up_at_its_deadline(client: DashScopeClient, emu: Emulator) -> None:
    emu.next_tasks(pending_seconds=60)
    submission = client.submit(T2V)
    with pytest.raises(PollTimeoutError) as caught:
        client.wait(submission.task_id, timeout=20, hint=HINT, sleep=FAST.sleep, clock=FAST.clock)
    assert caught.value.task_id == submission.task_id
    assert "may still finish" in str(caught.value)
    assert "PENDING" in str(caught.value)


def test_ctrl_c_stops_waiting_at_once(client: DashScopeClient, emu: Emulator) -> None:
    slept: list[float] = []

    def interrupted(seconds: float) -> None:
        slept.append(seconds)
        raise KeyboardInterrupt

    submission = client.submit(T2V)
    with pytest.raises(KeyboardInterrupt):
        client.wait(submission.task_id, sleep=interrupted, max_wait=5)
    assert emu.count("GET", "/tasks/") == 1
    assert slept == [pytest.approx(5, abs=0.1)]  # the schedule's 30 s first wait, capped by max_wait


def test_task_error_maps_every_terminal_status() -> None:
    def task(status: str, **extra: str) -> dict[str, Any]:
        return {"request_id": "r-1", "output": {"task_id": "t-1", "task_status": status, **extra}}

    assert task_error(task("SUCCEEDED")) is None
    assert task_error(task("RUNNING")) is None
    failed = task_error(task("FAILED", code="InvalidParameter", message="The size is not match"))
    assert isinstance(failed, TaskFailedError)
    assert (failed.code, failed.message, failed.task_id, failed.request_id) == ("InvalidParameter", "The size is not match", "t-1", "r-1")
    assert isinstance(task_error(task("CANCELED")), TaskCanceledError)
    assert isinstance(task_error(task("UNKNOWN")), TaskUnknownError)


# ------------------------------------------------------------------------ retries on GET


def test_429_is_retried_after_the_servers_retry_after(client: DashScopeClient, emu: Emulator, backoffs: list[float]) -> None:
    submission = client.submit(T2V)
    emu.script("get", Fault.status(429, retry_after=1))
    assert client.get_task(submission.task_id)["output"]["task_id"] == submission.task_id
    assert emu.count("GET", "/tasks/") == 2
    assert backoffs == [1.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_on_get_are_retried_with_backoff(
    client: DashScopeClient, emu: Emulator, backoffs: list[float], status: int
) -> None:
    submission = client.submit(T2V)
    emu.script("get", Fault.status(status), Fault.status(status))
    client.get_task(submission.task_id)
    assert emu.count("GET", "/tasks/") == 3
    assert 0.5 <= backoffs[0] <= 0.625 and 1.0 <= backoffs[1] <= 1.25


def test_a_dropped_connection_on_get_is_retried(client: DashScopeClient, emu: Emulator) -> None:
    submission = client.submit(T2V)
    emu.script("get", Fault.drop())
    assert client.get_task(submission.task_id)["output"]["task_id"] == submission.task_id
    assert emu.count("GET", "/tasks/") == 2


def test_a_read_timeout_on_get_is_retried(client: DashScopeClient, emu: Emulator) -> None:
    submission = client.submit(T2V)
    emu.script("get", Fault.slow(READ_TIMEOUT + 0.3))
    assert client.get_task(submission.task_id)["output"]["task_id"] == submission.task_id
    assert emu.count("GET", "/tasks/") == 2


def test_retries_stop_after_max_attempts(client: DashScopeClient, emu: Emulator, backoffs: list[float]) -> None:
    emu.script("get", *[Fault.status(503)] * 6)
    with pytest.raises(APIError) as caught:
        client.get_task("t-1")
    assert (caught.value.status, caught.value.code, caught.value.task_id) == (503, "ServiceUnavailable", "t-1")
    assert caught.value.request_id
    assert emu.count("GET", "/tasks/") == 5
    assert len(backoffs) == 4


def test_a_retry_after_beyond_the_time_budget_is_not_waited_for(emu: Emulator, backoffs: list[float]) -> None:
    emu.script("list", Fault.status(429, retry_after=30))
    with DashScopeClient(
        base_url=emu.base_url, api_key=EMULATOR_API_KEY, retry=RetryPolicy(max_total_seconds=10), retry_sleep=backoffs.append
    ) as impatient, pytest.raises(APIError) as caught:
        impatient.list_tasks()
    assert (caught.value.status, caught.value.code) == (429, "Throttling")
    assert backoffs == [] and emu.count("GET", "/tasks") == 1


def test_repeated_drops_become_a_network_error_naming_the_task(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("get", *[Fault.drop()] * 5)
    with pytest.raises(NetworkError) as caught:
        client.get_task("t-9")
    assert caught.value.task_id == "t-9"
    assert emu.count("GET", "/tasks/") == 5


# ------------------------------------------------------------------------ cancel and list


def test_cancel_a_pending_task(client: DashScopeClient, emu: Emulator) -> None:
    emu.next_tasks(pending_seconds=30)
    submission = client.submit(T2V)
    assert client.cancel(submission.task_id) is None
    (cancel,) = [r for r in emu.requests if r.path.endswith("/cancel")]
    assert (cancel.method, cancel.path, cancel.body) == ("POST", f"/api/v1/tasks/{submission.task_id}/cancel", b"")
    with pytest.raises(TaskCanceledError):
        client.wait(submission.task_id, sleep=FAST.sleep, clock=FAST.clock)


def test_cancel_a_running_task_is_refused_plainly(client: DashScopeClient, emu: Emulator) -> None:
    emu.next_tasks(pending_seconds=0, running_seconds=30)
    submission = client.submit(T2V)
    with pytest.raises(CancelNotPossibleError) as caught:
        client.cancel(submission.task_id)
    error = caught.value
    assert (error.status, error.code, error.task_id) == (400, "UnsupportedOperation", submission.task_id)
    assert "already started running, so it can no longer be cancelled; it will finish and be billed" in error.message
    assert emu.count("POST", "/tasks/") == 1


def test_cancel_is_not_retried(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("cancel", Fault.status(503))
    with pytest.raises(APIError):
        client.cancel("t-1")
    emu.script("cancel", Fault.drop())
    with pytest.raises(NetworkError, match="may or may not have been applied"):
        client.cancel("t-1")
    assert emu.count("POST", "/tasks/") == 2


def test_list_tasks_filters_and_normalises(client: DashScopeClient, emu: Emulator) -> None:
    first = client.submit(T2V)
    client.submit(VIDU)
    listing = client.list_tasks(model="wan2.6-t2v", status="PENDING", start=time.time() - 60, end=datetime.now(timezone.utc), page_size=5)
    assert [item["task_id"] for item in listing["data"]] == [first.task_id]
    assert listing["total"] == 1
    query = emu.requests[-1].query
    assert query["model_name"] == "wan2.6-t2v" and query["status"] == "PENDING"
    assert (query["page_no"], query["page_size"]) == ("1", "5")
    assert len(query["start_time"]) == len(query["end_time"]) == 14


def test_list_tasks_accepts_the_sdk2_tasks_key(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("list", Fault.status(200, {"total": 1, "tasks": [{"task_id": "t-1", "status": "RUNNING"}]}))
    listing = client.list_tasks()
    assert listing["data"] == [{"task_id": "t-1", "status": "RUNNING"}]
    assert "tasks" not in listing


# ------------------------------------------------------------------------ upload


def test_upload_then_submit_with_the_oss_header(client: DashScopeClient, emu: Emulator, tmp_path: Path) -> None:
    image = tmp_path / "first frame.png"
    image.write_bytes(png_bytes())
    url = client.upload(image, "wan2.6-i2v")
    assert url.startswith("oss://dashscope-instant/") and url.endswith("_first frame.png")
    stored = emu.uploads[url.removeprefix("oss://")]
    assert (stored.data, stored.model, stored.content_type) == (png_bytes(), "wan2.6-i2v", "image/png")

    policy, upload = emu.requests[0], emu.requests[1]
    assert (policy.method, policy.path, policy.query) == ("GET", "/api/v1/uploads", {"action": "getPolicy", "model": "wan2.6-i2v"})
    assert "Authorization" not in upload.headers
    assert form_field_names(upload.body) == [
        "OSSAccessKeyId", "Signature", "policy", "key", "x-oss-object-acl",
        "x-oss-forbid-overwrite", "success_action_status", "x-oss-content-type", "file",
    ]

    payload = {"model": "wan2.6-i2v", "input": {"prompt": "a cat", "img_url": url}, "parameters": {"resolution": "720P", "duration": 5}}
    task = finished(client, payload)
    assert task["output"]["task_status"] == "SUCCEEDED"
    submit = next(r for r in emu.requests if r.method == "POST" and r.path.endswith(SUBMIT))
    assert submit.headers["X-DashScope-OssResourceResolve"] == "enable"


def test_upload_retries_with_a_fresh_key(client: DashScopeClient, emu: Emulator, tmp_path: Path) -> None:
    image = tmp_path / "frame.png"
    image.write_bytes(png_bytes())
    emu.script("policy", Fault.status(502))
    emu.script("upload", Fault.status(503), Fault.drop())
    url = client.upload(image, "wan2.6-i2v")
    uploads = [r for r in emu.requests if r.path == "/oss"]
    assert emu.count("GET", "/uploads") == 2 and len(uploads) == 3
    keys = {r.body.split(b'name="key"\r\n\r\n')[1].split(b"\r\n")[0].decode() for r in uploads}
    assert len(keys) == 3
    assert list(emu.uploads) == [url.removeprefix("oss://")]


def test_upload_refusal_reads_the_oss_xml_error(client: DashScopeClient, emu: Emulator, tmp_path: Path) -> None:
    image = tmp_path / "frame.png"
    image.write_bytes(png_bytes())
    emu.script("upload", Fault.status(403))
    with pytest.raises(APIError) as caught:
        client.upload(image, "wan2.6-i2v")
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")
    assert caught.value.message and "<Code>" not in caught.value.message


# ------------------------------------------------------------------------ download


def test_download_verifies_and_renames_into_place(client: DashScopeClient, emu: Emulator, tmp_path: Path) -> None:
    task = finished(client)
    dest = tmp_path / "out" / "video.mp4"
    size, digest = client.download(task["output"]["video_url"], dest)
    assert (size, digest) == (len(CLIP_16X9), hashlib.sha256(CLIP_16X9).hexdigest())
    assert dest.read_bytes() == CLIP_16X9
    assert list(dest.parent.iterdir()) == [dest]
    result = [r for r in emu.requests if r.path.startswith("/results/")]
    assert result and all("Authorization" not in r.headers for r in result)


def test_a_truncated_download_resumes_with_range(client: DashScopeClient, emu: Emulator, tmp_path: Path) -> None:
    task = finished(client)
    emu.script("result", Fault.truncate(0.9), Fault.status(503))
    dest = tmp_path / "video.mp4"
    size, digest = client.download(task["output"]["video_url"], dest)
    assert (size, digest) == (len(CLIP_16X9), hashlib.sha256(CLIP_16X9).hexdigest())
    ranges = [r.headers.get("Range") for r in emu.requests if r.path.startswith("/results/")]
    assert ranges[0] is None
    assert ranges[-1] is not None and ranges[-1].startswith("bytes=") and ranges[-1] != "bytes=0-"
    assert not (tmp_path / "video.mp4.part").exists()


def test_an_expired_result_url(tmp_path: Path) -> None:
    with Emulator(pending_seconds=0.0, running_seconds=0.1, url_ttl_seconds=0.2, query_qps=None) as emulator:
        with DashScopeClient(base_url=emulator.base_url, api_key=EMULATOR_API_KEY) as dashscope:
            task = finished(dashscope)
            time.sleep(0.4)
            dest = tmp_path / "out" / "video.mp4"
            with pytest.raises(ResultExpiredError) as caught:
                dashscope.download(task["output"]["video_url"], dest)
    assert caught.value.status == 403
    assert "can no longer be downloaded" in str(caught.value) and "24 h" in str(caught.value)
    assert list(dest.parent.iterdir()) == []


def test_a_download_that_keeps_failing_leaves_nothing(client: DashScopeClient, emu: Emulator, tmp_path: Path) -> None:
    task = finished(client)
    emu.script("result", *[Fault.drop()] * 5)
    dest = tmp_path / "out" / "video.mp4"
    with pytest.raises(DownloadError, match="kept failing"):
        client.download(task["output"]["video_url"], dest)
    assert list(dest.parent.iterdir()) == []


# ------------------------------------------------------------------------ errors and the key


def test_non_json_error_bodies_are_kept_short(client: DashScopeClient, emu: Emulator) -> None:
    emu.script("get", Fault.status(400, "upstream exploded " * 50))
    with pytest.raises(APIError) as caught:
        client.get_task("t-1")
    assert caught.value.code == "Unknown"
    assert caught.value.message.startswith("upstream exploded") and len(caught.value.message) == 300
    assert caught.value.request_id  # from the x-request-id header


def test_the_key_never_appears_in_repr_or_errors(emu: Emulator, tmp_path: Path) -> None:
    secret = EMULATOR_API_KEY
    errors: list[DashScopeError] = []
    with DashScopeClient(base_url=emu.base_url, api_key=secret, retry_sleep=lambda s: None, read_timeout=READ_TIMEOUT) as dashscope:
        assert secret not in repr(dashscope)
        emu.script("get", Fault.status(400, {"code": "InvalidParameter", "message": f"bad header Bearer {secret}"}))
        emu.script("submit", Fault.status(500, {"code": "InternalError", "message": f"echo {secret}"}))
        for call in (
            lambda: dashscope.get_task("t-1"),
            lambda: dashscope.submit(T2V),
            lambda: dashscope.cancel("t-1"),
            lambda: dashscope.download(emu.origin + "/results/x.mp4", tmp_path / "x.mp4"),
        ):
            with pytest.raises(DashScopeError) as caught:
                call()
            errors.append(caught.value)
    with DashScopeClient(base_url=emu.base_url, api_key="sk-wrong-0123456789") as wrong:
        assert "sk-wrong" not in repr(wrong)
        with pytest.raises(APIError) as caught:
            wrong.submit(T2V)
        assert (caught.value.status, caught.value.code) == (401, "InvalidApiKey")
        errors.append(caught.value)
    assert "***" in errors[0].message
    for error in errors:
        assert secret not in str(error) and secret not in repr(error) and "sk-wrong" not in str(error)


def test_the_key_is_looked_up_for_every_request(emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DASHSCOPE_API_KEY", "DASHSCOPE_API_KEY_FILE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with DashScopeClient(base_url=emu.base_url) as dashscope:
        with pytest.raises(MissingApiKeyError):
            dashscope.submit(T2V)
        assert emu.requests == []
        monkeypatch.setenv("DASHSCOPE_API_KEY", EMULATOR_API_KEY)
        assert dashscope.submit(T2V).task_id
        assert "looked up" in repr(dashscope)
