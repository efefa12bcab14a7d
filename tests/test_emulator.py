"""The DashScope emulator over real sockets: wire shapes, rules, lifecycle, uploads, results, faults."""

from __future__ import annotations

import base64
import io
import json
import re
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from typing import Any

import av
import pytest
import requests

from aliyun_video_magics.emulator import CLIPS_DIR, EMULATOR_API_KEY, Emulator, Fault, RecordedRequest

SUBMIT = "/services/aigc/video-generation/video-synthesis"
KF2V = "/services/aigc/image2video/video-synthesis"
AUTH = {"Authorization": f"Bearer {EMULATOR_API_KEY}"}
ASYNC = {**AUTH, "X-DashScope-Async": "enable"}
CLOCK = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")
IMG = "https://example.com/a.png"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(pending_seconds=0.1, running_seconds=0.2, query_qps=None) as emulator:
        yield emulator


def submit(
    emu: Emulator, body: dict[str, Any], path: str = SUBMIT, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(emu.base_url + path, json=body, headers=ASYNC if headers is None else headers, timeout=5)


def task_id_of(emu: Emulator, body: dict[str, Any], path: str = SUBMIT) -> str:
    answer = submit(emu, body, path)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["task_id"])


def get(emu: Emulator, task_id: str) -> dict[str, Any]:
    answer = requests.get(f"{emu.base_url}/tasks/{task_id}", headers=AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def wait_until(emu: Emulator, task_id: str, status: str, deadline: float = 3.0) -> dict[str, Any]:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        body = get(emu, task_id)
        if body["output"]["task_status"] == status:
            return body
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} never reached {status}: {body}")


T2V: dict[str, Any] = {
    "model": "wan2.6-t2v", "input": {"prompt": "a red fox in snow"}, "parameters": {"size": "1280*720", "duration": 5},
}


# ----- submit --------------------------------------------------------------------------


def test_submit_ok_has_the_service_shape(emu: Emulator) -> None:
    answer = submit(emu, T2V)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"request_id", "output"}
    assert body["output"]["task_status"] == "PENDING"
    assert answer.headers["x-request-id"] == body["request_id"]
    assert body["output"]["task_id"] in emu.tasks


def test_submit_without_async_header_is_refused(emu: Emulator) -> None:
    answer = submit(emu, T2V, headers=AUTH)
    assert answer.status_code == 403
    assert answer.json()["code"] == "AccessDenied"
    assert answer.json()["message"] == "current user api does not support synchronous calls"


@pytest.mark.parametrize("headers", [{"X-DashScope-Async": "enable"}, {**ASYNC, "Authorization": "Bearer sk-wrong"}])
def test_submit_without_the_right_key_is_401(emu: Emulator, headers: dict[str, str]) -> None:
    answer = submit(emu, T2V, headers=headers)
    assert answer.status_code == 401
    body = answer.json()
    assert (body["code"], body["message"]) == ("InvalidApiKey", "Invalid API-key provided.")
    assert body["request_id"]


def test_submit_with_malformed_json_is_400(emu: Emulator) -> None:
    answer = requests.post(emu.base_url + SUBMIT, data=b"{not json", headers=ASYNC, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["code"] == "InvalidParameter"


def test_unknown_model_is_400_model_not_exist(emu: Emulator) -> None:
    answer = submit(emu, {**T2V, "model": "wan9-t2v"})
    assert answer.status_code == 400
    assert answer.json()["message"] == "Model not exist."


def test_a_custom_api_key_replaces_the_default() -> None:
    with Emulator(api_key="sk-other") as other:
        assert submit(other, T2V).status_code == 401
        headers = {"Authorization": "Bearer sk-other", "X-DashScope-Async": "enable"}
        assert submit(other, T2V, headers=headers).status_code == 200


GOOD_BODIES: list[tuple[str, dict[str, Any]]] = [
    (SUBMIT, {"model": "vidu/viduq3-pro_text2video", "input": {"prompt": "p"},
              "parameters": {"resolution": "540P", "size": "960*528", "duration": 16, "audio": True}}),
    (SUBMIT, {"model": "vidu/viduq2-turbo_img2video", "input": {"media": [{"type": "image", "url": IMG}]},
              "parameters": {"duration": 10}}),
    (SUBMIT, {"model": "vidu/viduq3-turbo_start-end2video",
              "input": {"prompt": "p", "media": [{"type": "image", "url": IMG}, {"type": "image", "url": IMG}]}}),
    (SUBMIT, {"model": "vidu/viduq2-pro_reference2video",
              "input": {"prompt": "p", "media": [{"type": "image", "url": IMG}, {"type": "video", "url": IMG}]},
              "parameters": {"size": "720*1280"}}),
    (SUBMIT, {"model": "kling/kling-v3-video-generation", "input": {"prompt": "p"},
              "parameters": {"mode": "std", "aspect_ratio": "9:16", "duration": 15}}),
    (SUBMIT, {"model": "kling/kling-v3-omni-video-generation",
              "input": {"prompt": "p", "media": [{"type": "refer", "url": IMG}]}}),
    (SUBMIT, {"model": "wanx2.1-t2v-turbo", "input": {"prompt": "p"}, "parameters": {"size": "832*480"}}),
    (SUBMIT, {"model": "wan2.6-i2v-flash", "input": {"img_url": IMG},
              "parameters": {"resolution": "720P", "duration": 2}}),
    (SUBMIT, {"model": "wan2.7-t2v", "input": {"prompt": "p"}, "parameters": {"ratio": "3:4", "duration": 15}}),
    (SUBMIT, {"model": "wan2.7-i2v", "input": {"media": [{"type": "first_frame", "url": IMG},
                                                         {"type": "driving_audio", "url": IMG}]}}),
    (KF2V, {"model": "wan2.2-kf2v-flash", "input": {"first_frame_url": IMG, "last_frame_url": IMG},
            "parameters": {"resolution": "480P"}}),
]


@pytest.mark.parametrize(("path", "body"), GOOD_BODIES, ids=[b["model"] for _, b in GOOD_BODIES])
def test_valid_requests_for_every_family_are_accepted(emu: Emulator, path: str, body: dict[str, Any]) -> None:
    answer = submit(emu, body, path)
    assert answer.status_code == 200, answer.text


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    (SUBMIT, {"model": "wan2.6-t2v", "input": {"prompt": "p"}, "parameters": {"duration": 16}}, "between 2 and 15"),
    (SUBMIT, {"model": "wan2.2-t2v-plus", "input": {"prompt": "p"}, "parameters": {"duration": 10}}, "must be 5"),
    (SUBMIT, {"model": "wan2.6-t2v", "input": {}}, "Field required: input.prompt"),
    (SUBMIT, {"model": "wan2.6-t2v", "input": {"prompt": "p"}, "parameters": {"size": "1280x720"}}, "width*height"),
    (SUBMIT, {"model": "wan2.6-t2v", "input": {"prompt": "p"}, "parameters": {"size": "832*480"}}, "size 832*480"),
    (SUBMIT, {"model": "wan2.6-t2v", "input": {"prompt": "p"}, "parameters": {"seed": 2147483648}}, "seed"),
    (SUBMIT, {"model": "wan2.6-i2v", "input": {"prompt": "p"}}, "Field required: input.img_url"),
    (SUBMIT, {"model": "wan2.6-i2v", "input": {"img_url": IMG}, "parameters": {"resolution": "480P"}}, "resolution"),
    (SUBMIT, {"model": "wan2.7-t2v", "input": {"prompt": "p"}, "parameters": {"size": "1280*720"}}, "size"),
    (SUBMIT, {"model": "wan2.7-i2v", "input": {"media": [{"type": "first_frame", "url": IMG}] * 2}}, "repeat"),
    (SUBMIT, {"model": "wan2.7-i2v", "input": {"media": [{"type": "last_frame", "url": IMG}]}}, "combination"),
    (SUBMIT, {"model": "wan2.7-i2v", "input": {"media": [{"type": "image", "url": IMG}]}}, "media type 'image'"),
    (SUBMIT, {"model": "kling/kling-v3-video-generation", "input": {"prompt": "p"}, "parameters": {"duration": 2}},
     "between 3 and 15"),
    (SUBMIT, {"model": "kling/kling-v3-video-generation", "input": {"media": [{"type": "refer", "url": IMG}]}},
     "media type 'refer'"),
    (SUBMIT, {"model": "kling/kling-v3-video-generation", "input": {"prompt": "p"},
              "parameters": {"aspect_ratio": "4:3"}}, "aspect_ratio"),
    (SUBMIT, {"model": "vidu/viduq2_text2video", "input": {"prompt": "p"}, "parameters": {"audio": True}}, "audio"),
    (SUBMIT, {"model": "vidu/viduq2_text2video", "input": {"prompt": "p"}, "parameters": {"duration": 11}},
     "between 1 and 10"),
    (SUBMIT, {"model": "vidu/viduq3-pro_text2video", "input": {}}, "Field required: input.prompt"),
    (SUBMIT, {"model": "vidu/viduq3-pro_img2video", "input": {"media": []}}, "exactly 1 image"),
    (SUBMIT, {"model": "vidu/viduq2_reference2video",
              "input": {"prompt": "p", "media": [{"type": "image", "url": IMG}]}}, "parameters.size"),
    (SUBMIT, {"model": "wan2.2-kf2v-flash", "input": {"first_frame_url": IMG}}, "image2video"),
    (KF2V, {"model": "wan2.2-kf2v-flash", "input": {"last_frame_url": IMG}}, "Field required: input.first_frame_url"),
    (SUBMIT, {"model": "wan2.6-i2v", "input": {"img_url": "ftp://host/a.png"}}, "Invalid URL"),
]


@pytest.mark.parametrize(("path", "body", "reason"), BAD_BODIES, ids=[r for _, _, r in BAD_BODIES])
def test_rule_violations_are_400_with_a_specific_reason(
    emu: Emulator, path: str, body: dict[str, Any], reason: str
) -> None:
    answer = submit(emu, body, path)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["code"] in ("InvalidParameter", "InvalidURL")
    assert reason in error["message"]
    assert error["request_id"] == answer.headers["x-request-id"]
    assert emu.tasks == {}


# ----- lifecycle -----------------------------------------------------------------------


def test_lifecycle_pending_running_succeeded(emu: Emulator) -> None:
    task_id = task_id_of(emu, T2V)
    first = get(emu, task_id)["output"]
    assert first["task_status"] == "PENDING"
    assert CLOCK.match(first["submit_time"]) and "scheduled_time" not in first
    running = wait_until(emu, task_id, "RUNNING")["output"]
    assert CLOCK.match(running["scheduled_time"]) and "end_time" not in running
    done = wait_until(emu, task_id, "SUCCEEDED")
    out = done["output"]
    assert CLOCK.match(out["end_time"])
    assert out["video_url"].startswith(f"{emu.origin}/results/{task_id}.mp4?Expires=")
    assert out["orig_prompt"] == "a red fox in snow"
    assert out["actual_prompt"].startswith("a red fox in snow") and out["actual_prompt"] != out["orig_prompt"]
    assert done["usage"] == {"video_duration": 5, "video_count": 1, "SR": 720}


def test_usage_and_extras_follow_each_family(emu: Emulator) -> None:
    kling = task_id_of(emu, {"model": "kling/kling-v3-video-generation", "input": {"prompt": "p"},
                             "parameters": {"aspect_ratio": "9:16", "audio": True}})
    wan27 = task_id_of(emu, {"model": "wan2.7-t2v", "input": {"prompt": "p"},
                             "parameters": {"resolution": "720P", "ratio": "1:1", "prompt_extend": False}})
    vidu = task_id_of(emu, {"model": "vidu/viduq2_text2video", "input": {"prompt": "p"}, "parameters": {"duration": 3}})
    kling_done = wait_until(emu, kling, "SUCCEEDED")
    assert kling_done["output"]["watermark_video_url"].startswith(f"{emu.origin}/results/{kling}-watermark.mp4?")
    assert kling_done["usage"] == {"duration": 5, "output_video_duration": 5, "size": "1080*1920", "fps": 24,
                                   "audio": True, "SR": "1080", "video_count": 1}
    wan_done = wait_until(emu, wan27, "SUCCEEDED")
    assert "actual_prompt" not in wan_done["output"]
    assert wan_done["usage"] == {"duration": 5, "output_video_duration": 5, "size": "960*960", "fps": 24,
                                 "audio": True, "SR": "720", "ratio": "1:1"}
    assert wait_until(emu, vidu, "SUCCEEDED")["usage"] == {
        "duration": 3, "output_video_duration": 3, "size": "1280*720", "fps": 24, "audio": False, "SR": "720"}


def test_failed_on_demand_is_http_200_with_code_and_message(emu: Emulator) -> None:
    emu.next_tasks(outcome="FAILED", code="DataInspectionFailed", message="Output may contain inappropriate content.")
    task_id = task_id_of(emu, T2V)
    out = wait_until(emu, task_id, "FAILED")["output"]
    assert (out["code"], out["message"]) == ("DataInspectionFailed", "Output may contain inappropriate content.")
    assert "video_url" not in out


def test_next_tasks_is_a_queue_and_unknown_outcome_vanishes(emu: Emulator) -> None:
    emu.next_tasks(pending_seconds=0.0, running_seconds=0.05, outcome="UNKNOWN")
    emu.next_tasks(pending_seconds=5.0)
    gone, slow = task_id_of(emu, T2V), task_id_of(emu, T2V)
    body = wait_until(emu, gone, "UNKNOWN")
    assert body["output"] == {"task_id": gone, "task_status": "UNKNOWN"} and body["request_id"]
    assert get(emu, slow)["output"]["task_status"] == "PENDING"
    assert emu.tasks[slow].pending_seconds == 5.0


def test_set_status_forces_unknown_and_failed(emu: Emulator) -> None:
    unknown, failed = task_id_of(emu, T2V), task_id_of(emu, T2V)
    emu.set_status(unknown, "UNKNOWN")
    emu.set_status(failed, "FAILED", code="InternalError.Timeout", message="took too long")
    assert get(emu, unknown)["output"] == {"task_id": unknown, "task_status": "UNKNOWN"}
    out = get(emu, failed)["output"]
    assert (out["task_status"], out["code"], out["message"]) == ("FAILED", "InternalError.Timeout", "took too long")
    assert CLOCK.match(out["end_time"])
    assert emu.tasks[failed].status == "FAILED"


def test_unknown_task_id_is_http_200_unknown_and_needs_the_key(emu: Emulator) -> None:
    assert get(emu, "no-such-task")["output"] == {"task_id": "no-such-task", "task_status": "UNKNOWN"}
    assert requests.get(f"{emu.base_url}/tasks/no-such-task", timeout=5).status_code == 401


def test_cancel_pending_works_and_cancel_running_is_refused(emu: Emulator) -> None:
    emu.next_tasks(pending_seconds=5.0)
    pending = task_id_of(emu, T2V)
    answer = requests.post(f"{emu.base_url}/tasks/{pending}/cancel", headers=AUTH, timeout=5)
    assert answer.status_code == 200 and set(answer.json()) == {"request_id"}
    out = get(emu, pending)["output"]
    assert out["task_status"] == "CANCELED" and "end_time" in out and "scheduled_time" not in out
    running = task_id_of(emu, T2V)
    wait_until(emu, running, "RUNNING")
    refused = requests.post(f"{emu.base_url}/tasks/{running}/cancel", headers=AUTH, timeout=5)
    assert refused.status_code == 400
    assert refused.json()["code"] == "UnsupportedOperation"
    assert refused.json()["message"] == "Failed to cancel the task, please confirm if the task is in PENDING status."


# ----- list ----------------------------------------------------------------------------


def test_list_shape_filters_and_order(emu: Emulator) -> None:
    emu.next_tasks(pending_seconds=5.0)
    first = task_id_of(emu, T2V)
    time.sleep(0.01)
    second = task_id_of(emu, {"model": "wan2.7-t2v", "input": {"prompt": "p"}})
    listing = requests.get(f"{emu.base_url}/tasks", headers=AUTH, timeout=5).json()
    assert {"request_id", "total", "total_page", "page_no", "page_size", "data"} <= set(listing)
    assert [row["task_id"] for row in listing["data"]] == [second, first]
    assert (listing["total"], listing["total_page"], listing["page_no"], listing["page_size"]) == (2, 1, 1, 10)
    row = listing["data"][1]
    assert row["model_name"] == "wan2.6-t2v" and row["status"] == "PENDING"
    assert isinstance(row["gmt_create"], int) and abs(row["gmt_create"] / 1000 - time.time()) < 5

    def ids(**query: str) -> list[str]:
        answer = requests.get(f"{emu.base_url}/tasks", params=query, headers=AUTH, timeout=5)
        assert answer.status_code == 200, answer.text
        return [row["task_id"] for row in answer.json()["data"]]

    assert ids(model_name="wan2.7-t2v") == [second]
    wait_until(emu, second, "SUCCEEDED")
    assert ids(status="PENDING") == [first]
    assert ids(status="SUCCEEDED", model_name="wan2.7-t2v") == [second]
    assert ids(status="SUCCEEDED", model_name="wan2.6-t2v") == []
    now = time.gmtime()
    stamp = time.strftime("%Y%m%d%H%M%S", now)
    an_hour_ago = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - 3600))
    assert ids(start_time=an_hour_ago, end_time=stamp) == [second, first]
    assert ids(start_time="20200101000000", end_time="20200101120000") == []
    assert ids(page_size="1", page_no="2") == [first]
    bad = requests.get(f"{emu.base_url}/tasks", params={"start_time": "2020-01-01"}, headers=AUTH, timeout=5)
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidParameter"


# ----- uploads -------------------------------------------------------------------------


def policy(emu: Emulator, model: str) -> dict[str, Any]:
    answer = requests.get(f"{emu.base_url}/uploads", params={"action": "getPolicy", "model": model},
                          headers=AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["data"])


def form(data: dict[str, Any], name: str) -> dict[str, str]:
    return {
        "OSSAccessKeyId": data["oss_access_key_id"],
        "Signature": data["signature"],
        "policy": data["policy"],
        "key": f"{data['upload_dir']}/{name}",
        "x-oss-object-acl": data["x_oss_object_acl"],
        "x-oss-forbid-overwrite": data["x_oss_forbid_overwrite"],
        "success_action_status": "200",
        "x-oss-content-type": "image/png",
    }


def upload(data: dict[str, Any], fields: dict[str, str], content: bytes) -> requests.Response:
    return requests.post(data["upload_host"], data=fields, files={"file": ("a.png", content)}, timeout=5)


def test_get_policy_shape_and_encoded_conditions(emu: Emulator) -> None:
    data = policy(emu, "wan2.6-i2v")
    assert data["upload_host"] == f"{emu.origin}/oss"
    assert re.fullmatch(r"dashscope-instant/[0-9a-f]{32}/\d{4}-\d\d-\d\d/[0-9a-f-]{36}", data["upload_dir"])
    assert data["expire_in_seconds"] == 300
    assert (data["x_oss_object_acl"], data["x_oss_forbid_overwrite"]) == ("private", "true")
    conditions = json.loads(base64.b64decode(data["policy"]))["conditions"]
    assert ["starts-with", "$key", data["upload_dir"]] in conditions
    assert {"x-oss-forbid-overwrite": "true"} in conditions
    unknown = requests.get(f"{emu.base_url}/uploads", params={"action": "getPolicy", "model": "nope"},
                           headers=AUTH, timeout=5)
    assert unknown.status_code == 400


def test_upload_then_submit_with_oss_url(emu: Emulator) -> None:
    png = (CLIPS_DIR / "sample.png").read_bytes()
    data = policy(emu, "wan2.6-i2v")
    fields = form(data, "frame.png")
    answer = upload(data, fields, png)
    assert (answer.status_code, answer.content) == (200, b"")
    assert emu.uploads[fields["key"]].data == png
    assert emu.uploads[fields["key"]].model == "wan2.6-i2v"
    body = {"model": "wan2.6-i2v", "input": {"img_url": f"oss://{fields['key']}"}}
    refused = submit(emu, body)
    assert refused.status_code == 400 and "X-DashScope-OssResourceResolve" in refused.json()["message"]
    resolve = {**ASYNC, "X-DashScope-OssResourceResolve": "enable"}
    assert submit(emu, body, headers=resolve).status_code == 200
    other_model = submit(emu, {**body, "model": "wan2.6-i2v-flash"}, headers=resolve)
    assert other_model.status_code == 400 and "uploaded for model wan2.6-i2v" in other_model.json()["message"]
    never = submit(emu, {**body, "input": {"img_url": f"oss://{data['upload_dir']}/other.png"}}, headers=resolve)
    assert never.status_code == 400 and "does not exist" in never.json()["message"]


def test_upload_with_file_not_last_fails(emu: Emulator) -> None:
    data = policy(emu, "wan2.6-i2v")
    boundary = "b0undary"
    parts = [("file", b"PNG..."), *((k, v.encode()) for k, v in form(data, "x.png").items())]
    payload = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        + (b'; filename="x.png"' if name == "file" else b"")
        + b"\r\n\r\n" + value + b"\r\n"
        for name, value in parts
    ) + f"--{boundary}--\r\n".encode()
    answer = requests.post(data["upload_host"], data=payload, timeout=5,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text and "last" in answer.text
    assert emu.uploads == {}


def test_upload_overwrite_missing_field_and_size_are_refused() -> None:
    with Emulator(max_upload_bytes=100) as emu:
        data = policy(emu, "wan2.6-i2v")
        fields = form(data, "a.png")
        assert upload(data, fields, b"x").status_code == 200
        again = upload(data, fields, b"y")
        assert again.status_code == 409 and "<Code>FileAlreadyExists</Code>" in again.text
        no_acl = {k: v for k, v in form(data, "b.png").items() if k != "x-oss-object-acl"}
        assert upload(data, no_acl, b"x").status_code == 403
        outside = {**form(data, "c.png"), "key": "dashscope-instant/elsewhere/c.png"}
        assert upload(data, outside, b"x").status_code == 403
        big = upload(data, form(data, "d.png"), b"x" * 101)
        assert big.status_code == 400 and "EntityTooLarge" in big.text
        forged = {**form(data, "e.png"), "Signature": "AAAA"}
        assert upload(data, forged, b"x").status_code == 403
        assert emu.uploads[fields["key"]].data == b"x"


# ----- results -------------------------------------------------------------------------


def finished_url(emu: Emulator, body: dict[str, Any] = T2V) -> str:
    task_id = task_id_of(emu, body)
    return str(wait_until(emu, task_id, "SUCCEEDED")["output"]["video_url"])


def test_result_download_and_range_resume(emu: Emulator) -> None:
    url = finished_url(emu)
    full = requests.get(url, timeout=5)
    assert full.status_code == 200 and full.headers["Content-Type"] == "video/mp4"
    assert int(full.headers["Content-Length"]) == len(full.content) > 1000
    tail = requests.get(url, headers={"Range": "bytes=1000-"}, timeout=5)
    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == f"bytes 1000-{len(full.content) - 1}/{len(full.content)}"
    assert full.content[:1000] + tail.content == full.content
    beyond = requests.get(url, headers={"Range": f"bytes={len(full.content)}-"}, timeout=5)
    assert beyond.status_code == 416
    forged = requests.get(re.sub(r"Signature=\w+", "Signature=00", url), timeout=5)
    assert forged.status_code == 403


def test_result_url_expires_with_oss_xml() -> None:
    with Emulator(pending_seconds=0.0, running_seconds=0.05, url_ttl_seconds=0.2) as emu:
        url = finished_url(emu)
        assert requests.get(url, timeout=5).status_code == 200
        time.sleep(0.3)
        expired = requests.get(url, timeout=5)
        assert expired.status_code == 403
        assert "<Code>AccessDenied</Code>" in expired.text and "<Message>Request has expired.</Message>" in expired.text


def test_result_is_h264_with_the_requested_aspect(emu: Emulator) -> None:
    url = finished_url(emu, {"model": "kling/kling-v3-video-generation", "input": {"prompt": "p"},
                             "parameters": {"aspect_ratio": "9:16"}})
    with av.open(io.BytesIO(requests.get(url, timeout=5).content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (180, 320)
        assert isinstance(container, av.container.InputContainer)
        assert container.duration is not None and container.duration > 0


def test_committed_clips_and_samples() -> None:
    for name in ("16x9", "9x16", "1x1", "4x3", "3x4"):
        assert (CLIPS_DIR / f"clip_{name}.mp4").stat().st_size < 100_000
    with av.open(str(CLIPS_DIR / "sample.png")) as image:
        frame = next(image.decode(video=0))
        assert (frame.width, frame.height) == (400, 400)
    with wave.open(str(CLIPS_DIR / "sample.wav")) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getnframes()) == (16000, 1, 48000)


# ----- faults --------------------------------------------------------------------------


def test_fault_status_default_and_custom_bodies(emu: Emulator) -> None:
    busy = Fault.status(503, {"code": "ModelUnavailable", "message": "busy"}, retry_after=0.5)
    emu.script("submit", Fault.status(500), busy)
    first = submit(emu, T2V)
    assert first.status_code == 500 and first.json()["code"] == "InternalError"
    assert first.json()["request_id"] == first.headers["x-request-id"]
    second = submit(emu, T2V)
    assert second.status_code == 503 and second.headers["Retry-After"] == "0.5"
    assert second.json()["message"] == "busy" and second.json()["request_id"]
    assert submit(emu, T2V).status_code == 200
    assert len(emu.tasks) == 1


def test_fault_drop_creates_nothing(emu: Emulator) -> None:
    emu.script("submit", Fault.drop())
    with pytest.raises(requests.ConnectionError):
        submit(emu, T2V)
    assert emu.tasks == {}
    assert emu.count("POST", SUBMIT) == 1


def test_fault_drop_after_accept_creates_a_task_that_succeeds(emu: Emulator) -> None:
    emu.script("submit", Fault.drop_after_accept())
    with pytest.raises(requests.ConnectionError):
        submit(emu, T2V)
    (task_id,) = emu.tasks
    wait_until(emu, task_id, "SUCCEEDED")


def test_fault_slow_trips_a_read_timeout_then_recovers(emu: Emulator) -> None:
    emu.script("get", Fault.slow(0.5))
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{emu.base_url}/tasks/x", headers=AUTH, timeout=0.2)
    assert get(emu, "x")["output"]["task_status"] == "UNKNOWN"


def test_fault_truncate_breaks_downloads_and_json(emu: Emulator) -> None:
    url = finished_url(emu)
    emu.script("result", Fault.truncate(0.3))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=5)
    assert len(requests.get(url, timeout=5).content) > 1000
    emu.script("list", Fault.truncate())
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{emu.base_url}/tasks", headers=AUTH, timeout=5)


def test_faults_for_policy_upload_and_cancel(emu: Emulator) -> None:
    emu.script("policy", Fault.status(429))
    emu.script("upload", Fault.status(503))
    emu.script("cancel", Fault.status(500))
    throttled = requests.get(f"{emu.base_url}/uploads", params={"action": "getPolicy", "model": "wan2.6-i2v"},
                             headers=AUTH, timeout=5)
    assert throttled.status_code == 429 and throttled.json()["code"] == "Throttling"
    data = policy(emu, "wan2.6-i2v")
    failed = upload(data, form(data, "a.png"), b"x")
    assert failed.status_code == 503 and failed.text.startswith("<?xml")
    assert requests.post(f"{emu.base_url}/tasks/x/cancel", headers=AUTH, timeout=5).status_code == 500
    with pytest.raises(ValueError):
        emu.script("nowhere", Fault.drop())


# ----- throttle, recording, CLI --------------------------------------------------------


def test_queries_above_the_qps_limit_get_429() -> None:
    with Emulator(query_qps=5) as emu:
        session = requests.Session()
        codes = [session.get(f"{emu.base_url}/tasks/x", headers=AUTH, timeout=5).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and 429 in codes[5:]
        refused = session.get(f"{emu.base_url}/tasks", headers=AUTH, timeout=5)
        assert refused.status_code == 429
        assert refused.json()["code"] == "Throttling"
        assert refused.json()["message"] == "Requests throttling triggered."
        assert submit(emu, T2V).status_code == 200  # submits are not query-limited
        time.sleep(1.05)
        assert session.get(f"{emu.base_url}/tasks/x", headers=AUTH, timeout=5).status_code == 200


def test_recorded_requests_mask_the_key_and_count_by_path(emu: Emulator) -> None:
    task_id = task_id_of(emu, T2V)
    task_id_of(emu, {"model": "wanx2.1-kf2v-plus", "input": {"first_frame_url": IMG}}, KF2V)
    get(emu, task_id)
    records = emu.requests
    assert all(isinstance(r, RecordedRequest) for r in records)
    first = records[0]
    assert first.headers["Authorization"] == "Bearer ***"
    assert first.headers["authorization"] == "Bearer ***"
    assert EMULATOR_API_KEY not in repr(records)
    assert first.json()["model"] == "wan2.6-t2v" and first.path == "/api/v1" + SUBMIT
    assert records[2].path == f"/api/v1/tasks/{task_id}" and records[2].body == b""
    assert emu.count("POST", SUBMIT) == 1
    assert emu.count("POST", KF2V) == 1
    assert emu.count("GET", "/tasks") == 1
    assert emu.count("POST", "/services/aigc") == 2


def test_command_line_prints_url_and_key_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "aliyun_video_magics.emulator", "--port", "0", "--pending", "0.1"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        base_url = re.search(r"http://127\.0\.0\.1:\d+/api/v1", "".join(lines))
        assert base_url and EMULATOR_API_KEY in "".join(lines)
        answer = requests.post(base_url.group(0) + SUBMIT, json=T2V, headers=ASYNC, timeout=5)
        assert answer.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
