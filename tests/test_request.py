"""Tests of the request builder (``aliyun_video_magics.request.build_request``).

1. Every catalog model gets at least one valid cell whose payload is compared, field by field,
   with the shape the source documents show for it (/work/shared/seeds/*.txt and
   ../shared/reference/dashscope-api.md §12-14). A catalog row without a case here fails.
2. Mode inference and defaults (issue 2, "The mode is inferred from what the user gives").
3. Invalid cells: each asserts its message, and that no HTTP request was made (``no_http``).
4. ``VideoRequest.canonical()`` / ``request_hash()``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aliyun_video_magics import catalog
from aliyun_video_magics.cell import parse_cell
from aliyun_video_magics.errors import VideoUsageError
from images import png_bytes
from aliyun_video_magics.request import VideoRequest, build_request

VIDEO_SYNTHESIS = "/services/aigc/video-generation/video-synthesis"
IMAGE2VIDEO = "/services/aigc/image2video/video-synthesis"

IMG = "https://example.com/image.jpg"
IMG2 = "https://example.com/last.png"
VID = "https://example.com/clip.mp4"
AUD = "https://example.com/speech.mp3"


def build(magic: str, line: str = "", body: str | None = "A cat", **kwargs: Any) -> VideoRequest:
    return build_request(magic, parse_cell(line, body), **kwargs)


# ---------------------------------------------------------------------------------------
# "Nothing sent": the one place that turns a cell into (eventually) a run.
#
# Today this parses and builds the request while the built-in emulator runs and the client is
# pointed at it; the lead will switch ``_Harness.run`` to the end-to-end run path. Every test
# asserts ``no_http.requests == []`` after the cell was refused.


@dataclass
class _SocketGuard:
    """Fallback when the emulator cannot be imported: record (and refuse) every outgoing connect."""

    requests: list[Any] = field(default_factory=list)


@dataclass
class _Harness:
    source: Any  # the Emulator, or a _SocketGuard
    start: int = 0  # requests the shared emulator had received before this test

    @property
    def requests(self) -> list[Any]:
        return list(self.source.requests)[self.start:]

    def run(self, magic: str, line: str, body: str | None, **kwargs: Any) -> VideoRequest:
        return build_request(magic, parse_cell(line, body), **kwargs)


@pytest.fixture(scope="module")
def _emulator():
    try:
        from aliyun_video_magics.emulator import Emulator
    except ImportError:  # pragma: no cover - only while the emulator package is missing
        yield None
        return
    with Emulator() as emu:
        yield emu


@pytest.fixture
def no_http(_emulator, monkeypatch: pytest.MonkeyPatch):
    """A harness whose ``run`` handles one cell while any HTTP request would be recorded.

    The client is pointed at the built-in emulator (or, without it, every socket connect is
    refused and recorded), so ``no_http.requests == []`` proves nothing was sent.
    """
    if _emulator is None:  # pragma: no cover
        guard = _SocketGuard()

        def refuse(sock: socket.socket, address: Any) -> None:
            guard.requests.append(address)
            raise ConnectionRefusedError(f"test: no network allowed ({address!r})")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.1:9/api/v1")
        monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-never-sent")
        harness = _Harness(guard)
    else:
        from aliyun_video_magics.emulator import EMULATOR_API_KEY

        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", _emulator.base_url)
        monkeypatch.setenv("DASHSCOPE_API_KEY", EMULATOR_API_KEY)
        harness = _Harness(_emulator, start=len(_emulator.requests))
    yield harness
    assert harness.requests == []


def test_no_http_harness_would_see_a_request(_emulator):
    """The guard itself: a request that reaches the emulator shows up in ``requests``."""
    if _emulator is None:  # pragma: no cover
        pytest.skip("emulator not available")
    import requests

    harness = _Harness(_emulator, start=len(_emulator.requests))
    assert harness.requests == []
    requests.get(f"{_emulator.base_url}/tasks/no-such-task", timeout=10)
    assert len(harness.requests) == 1


# ---------------------------------------------------------------------------------------
# 1. Every catalog model: a valid cell -> the documented payload, field by field


@dataclass(frozen=True)
class Case:
    id: str
    magic: str
    line: str
    body: str | None
    payload: dict[str, Any]
    endpoint: str = VIDEO_SYNTHESIS
    region: str = "cn-beijing"

    @property
    def model(self) -> str:
        return self.payload["model"]


VALID: list[Case] = [
    # ---- Vidu text-to-video (seed 001 curl; seed 000 "Text-to-video" example) ----
    Case(
        "vidu-q3-turbo-t2v-seed001-curl", "vidu",
        "--resolution 540P --size 960*528 --duration 5 --watermark", "一只小猫在月光下奔跑",
        {"model": "vidu/viduq3-turbo_text2video",
         "input": {"prompt": "一只小猫在月光下奔跑"},
         "parameters": {"size": "960*528", "resolution": "540P", "duration": 5, "watermark": True}},
    ),
    Case(
        "vidu-q3-turbo-t2v-ratio-lookup", "vidu",
        "--model vidu/viduq3-turbo_text2video --resolution 540P --ratio 16:9 --duration 5", "A cat running under moonlight",
        {"model": "vidu/viduq3-turbo_text2video",
         "input": {"prompt": "A cat running under moonlight"},
         "parameters": {"resolution": "540P", "size": "960*528", "duration": 5}},
    ),
    Case(
        "vidu-q3-pro-t2v", "vidu",
        "--model q3-pro --resolution 1080P --ratio 9:16 --duration 16 --audio --seed 42", "A cat",
        {"model": "vidu/viduq3-pro_text2video",
         "input": {"prompt": "A cat"},
         "parameters": {"resolution": "1080P", "size": "1080*1920", "duration": 16, "audio": True, "seed": 42}},
    ),
    Case(
        "vidu-q2-t2v", "vidu",
        "--model vidu/viduq2_text2video --resolution 720P --ratio 1:1 --duration 10 --no-watermark", "A cat",
        {"model": "vidu/viduq2_text2video",
         "input": {"prompt": "A cat"},
         "parameters": {"resolution": "720P", "size": "960*960", "duration": 10, "watermark": False}},
    ),
    Case(
        "vidu-q2-t2v-prompt-only", "vidu", "--model q2", "A cat",
        {"model": "vidu/viduq2_text2video", "input": {"prompt": "A cat"}},
    ),
    # ---- Vidu image-to-video (seed 000 "Image-to-video (first frame)") ----
    Case(
        "vidu-q3-pro-i2v-seed000", "vidu",
        f"--model q3-pro --image {IMG} --resolution 720P --duration 5", "Camera slowly pans upward",
        {"model": "vidu/viduq3-pro_img2video",
         "input": {"prompt": "Camera slowly pans upward", "media": [{"type": "image", "url": IMG}]},
         "parameters": {"resolution": "720P", "duration": 5}},
    ),
    Case(
        "vidu-q3-turbo-i2v-no-prompt", "vidu", f"--image {IMG}", None,
        {"model": "vidu/viduq3-turbo_img2video", "input": {"media": [{"type": "image", "url": IMG}]}},
    ),
    Case(
        "vidu-q2-pro-i2v", "vidu",
        "--model q2-pro --first-frame oss://bucket/a.webp --resolution 1080P --duration 10", "Slow zoom",
        {"model": "vidu/viduq2-pro_img2video",
         "input": {"prompt": "Slow zoom", "media": [{"type": "image", "url": "oss://bucket/a.webp"}]},
         "parameters": {"resolution": "1080P", "duration": 10}},
    ),
    Case(
        "vidu-q2-turbo-i2v", "vidu", f"--model q2-turbo --image {IMG} --resolution 720P --seed 0", "Pan",
        {"model": "vidu/viduq2-turbo_img2video",
         "input": {"prompt": "Pan", "media": [{"type": "image", "url": IMG}]},
         "parameters": {"resolution": "720P", "seed": 0}},
    ),
    # ---- Vidu start-end (seed 000 "Keyframe-to-video (first + last frame)") ----
    Case(
        "vidu-q3-turbo-start-end-seed000", "vidu",
        "--model vidu/viduq3-turbo_start-end2video --image https://example.com/first.png "
        "--image https://example.com/last.png --resolution 540P --duration 5",
        "A cat jumps from windowsill to sofa",
        {"model": "vidu/viduq3-turbo_start-end2video",
         "input": {"prompt": "A cat jumps from windowsill to sofa",
                   "media": [{"type": "image", "url": "https://example.com/first.png"},
                             {"type": "image", "url": "https://example.com/last.png"}]},
         "parameters": {"resolution": "540P", "duration": 5}},
    ),
    Case(
        "vidu-q3-pro-start-end", "vidu",
        f"--model q3-pro --first-frame {IMG} --last-frame {IMG2} --duration 16 --audio", "Morph",
        {"model": "vidu/viduq3-pro_start-end2video",
         "input": {"prompt": "Morph", "media": [{"type": "image", "url": IMG}, {"type": "image", "url": IMG2}]},
         "parameters": {"duration": 16, "audio": True}},
    ),
    Case(
        "vidu-q2-pro-start-end", "vidu", f"--model q2-pro --image {IMG} --image {IMG2}", "Morph",
        {"model": "vidu/viduq2-pro_start-end2video",
         "input": {"prompt": "Morph", "media": [{"type": "image", "url": IMG}, {"type": "image", "url": IMG2}]}},
    ),
    Case(
        "vidu-q2-turbo-start-end", "vidu",
        f"--model q2-turbo --image {IMG} --image {IMG2} --duration 1 --resolution 540P", "Morph",
        {"model": "vidu/viduq2-turbo_start-end2video",
         "input": {"prompt": "Morph", "media": [{"type": "image", "url": IMG}, {"type": "image", "url": IMG2}]},
         "parameters": {"duration": 1, "resolution": "540P"}},
    ),
    # ---- Vidu reference (seed 000 "Reference-to-video"; size is required for it) ----
    Case(
        "vidu-q2-reference-seed000", "vidu",
        "--model q2 --ref https://example.com/ref1.jpg --ref https://example.com/ref2.jpg "
        "--resolution 720P --size 1280*720 --duration 5",
        "Man playing guitar in a cafe",
        {"model": "vidu/viduq2_reference2video",
         "input": {"prompt": "Man playing guitar in a cafe",
                   "media": [{"type": "image", "url": "https://example.com/ref1.jpg"},
                             {"type": "image", "url": "https://example.com/ref2.jpg"}]},
         "parameters": {"resolution": "720P", "size": "1280*720", "duration": 5}},
    ),
    Case(
        "vidu-q2-pro-reference-image-and-video", "vidu",
        f"--model q2-pro --ref {IMG} --ref {VID} --resolution 540P --ratio 16:9", "Man with guitar",
        {"model": "vidu/viduq2-pro_reference2video",
         "input": {"prompt": "Man with guitar",
                   "media": [{"type": "image", "url": IMG}, {"type": "video", "url": VID}]},
         "parameters": {"resolution": "540P", "size": "960*540"}},
    ),
    # ---- Kling v3 (seed 002) ----
    Case(
        "kling-v3-t2v-seed002", "kling", "--ratio 16:9 --duration 5 --mode std", "一只小猫在月光下奔跑",
        {"model": "kling/kling-v3-video-generation",
         "input": {"prompt": "一只小猫在月光下奔跑"},
         "parameters": {"aspect_ratio": "16:9", "duration": 5, "mode": "std"}},
    ),
    Case(
        "kling-v3-i2v-first-frame-seed002", "kling",
        "--image https://example.com/flower.jpg --duration 5", "花朵绽放的延时摄影",
        {"model": "kling/kling-v3-video-generation",
         "input": {"prompt": "花朵绽放的延时摄影",
                   "media": [{"type": "first_frame", "url": "https://example.com/flower.jpg"}]},
         "parameters": {"duration": 5}},
    ),
    Case(
        "kling-v3-first-last-all-params", "kling",
        f"--model v3 --first-frame {IMG} --last-frame {IMG2} --resolution 1080P --audio --no-watermark "
        "--negative blurry --duration 15",
        "Bloom",
        {"model": "kling/kling-v3-video-generation",
         "input": {"prompt": "Bloom", "negative_prompt": "blurry",
                   "media": [{"type": "first_frame", "url": IMG}, {"type": "last_frame", "url": IMG2}]},
         "parameters": {"mode": "pro", "duration": 15, "audio": True, "watermark": False}},
    ),
    Case(
        "kling-v3-storyboard-customize", "kling", "--duration 10 --multi-shot --shot-type customize",
        "A cat wakes up\n---\nIt stretches\n---\nIt leaves the room",
        {"model": "kling/kling-v3-video-generation",
         "input": {"multi_shot": True, "shot_type": "customize",
                   "multi_prompt": [{"index": 1, "prompt": "A cat wakes up", "duration": 4},
                                    {"index": 2, "prompt": "It stretches", "duration": 3},
                                    {"index": 3, "prompt": "It leaves the room", "duration": 3}]},
         "parameters": {"aspect_ratio": "16:9", "duration": 10}},
    ),
    Case(
        "kling-v3-storyboard-shot-durations", "kling", "--duration 6 --shot-durations 2,4", "one\n---\ntwo",
        {"model": "kling/kling-v3-video-generation",
         "input": {"multi_shot": True, "shot_type": "customize",
                   "multi_prompt": [{"index": 1, "prompt": "one", "duration": 2},
                                    {"index": 2, "prompt": "two", "duration": 4}]},
         "parameters": {"aspect_ratio": "16:9", "duration": 6}},
    ),
    Case(
        "kling-v3-storyboard-intelligence", "kling", "--multi-shot --shot-type intelligence --ratio 9:16",
        "A day in the life of a cat",
        {"model": "kling/kling-v3-video-generation",
         "input": {"prompt": "A day in the life of a cat", "multi_shot": True, "shot_type": "intelligence"},
         "parameters": {"aspect_ratio": "9:16"}},
    ),
    # ---- Kling v3 omni (seed 002 "Reference-to-video with omni model" and combination rules) ----
    Case(
        "kling-omni-refer-seed002", "kling",
        "--model kling/kling-v3-omni-video-generation --ref https://example.com/cat.jpg --ratio 16:9",
        "一只<<<element_1>>>在月光下奔跑",
        {"model": "kling/kling-v3-omni-video-generation",
         "input": {"prompt": "一只<<<element_1>>>在月光下奔跑",
                   "media": [{"type": "refer", "url": "https://example.com/cat.jpg"}]},
         "parameters": {"aspect_ratio": "16:9"}},
    ),
    Case(
        "kling-omni-base-editing", "kling", f"--video {VID} --keep-original-sound --duration 10",
        "Make it snow",
        {"model": "kling/kling-v3-omni-video-generation",
         "input": {"prompt": "Make it snow", "media": [{"type": "base", "url": VID}],
                   "keep_original_sound": "yes"},
         "parameters": {"duration": 10}},
    ),
    Case(
        "kling-omni-base-plus-refer", "kling", f"--video {VID} --ref {IMG}", "Replace the hat with <<<image_1>>>",
        {"model": "kling/kling-v3-omni-video-generation",
         "input": {"prompt": "Replace the hat with <<<image_1>>>",
                   "media": [{"type": "refer", "url": IMG}, {"type": "base", "url": VID}]}},
    ),
    Case(
        "kling-omni-feature", "kling", f"--model v3-omni --ref {VID} --no-keep-original-sound --mode pro",
        "Same camera move, <<<video_1>>>",
        {"model": "kling/kling-v3-omni-video-generation",
         "input": {"prompt": "Same camera move, <<<video_1>>>", "media": [{"type": "feature", "url": VID}],
                   "keep_original_sound": "no"},
         "parameters": {"mode": "pro", "aspect_ratio": "16:9"}},
    ),
    Case(
        "kling-omni-feature-plus-refer", "kling",
        f"--ref {VID} --ref {IMG} --ref {IMG2} --ratio 1:1", "<<<image_1>>> and <<<image_2>>>",
        {"model": "kling/kling-v3-omni-video-generation",
         "input": {"prompt": "<<<image_1>>> and <<<image_2>>>",
                   "media": [{"type": "feature", "url": VID}, {"type": "refer", "url": IMG},
                             {"type": "refer", "url": IMG2}]},
         "parameters": {"aspect_ratio": "1:1"}},
    ),
    Case(
        "kling-omni-feature-plus-first-frame", "kling", f"--ref {VID} --image {IMG}", "Continue",
        {"model": "kling/kling-v3-omni-video-generation",
         "input": {"prompt": "Continue",
                   "media": [{"type": "first_frame", "url": IMG}, {"type": "feature", "url": VID}]}},
    ),
    # ---- Wan 2.7 image-to-video (seed 004 "Media combination examples") ----
    Case(
        "wan27-i2v-first-frame", "wan", "--image https://example.com/image.jpg", None,
        {"model": "wan2.7-i2v",
         "input": {"media": [{"type": "first_frame", "url": "https://example.com/image.jpg"}]}},
    ),
    Case(
        "wan27-i2v-first-last", "wan",
        "--image https://example.com/start.jpg --image https://example.com/end.jpg --resolution 1080P "
        "--duration 15 --prompt_extend --watermark --seed 2147483647 --negative 'low quality'",
        "Day turns to night",
        {"model": "wan2.7-i2v",
         "input": {"prompt": "Day turns to night", "negative_prompt": "low quality",
                   "media": [{"type": "first_frame", "url": "https://example.com/start.jpg"},
                             {"type": "last_frame", "url": "https://example.com/end.jpg"}]},
         "parameters": {"resolution": "1080P", "duration": 15, "prompt_extend": True, "watermark": True,
                        "seed": 2147483647}},
    ),
    Case(
        "wan27-i2v-driving-audio", "wan",
        "--first-frame https://example.com/face.jpg --driving-audio https://example.com/speech.mp3 "
        "--resolution 720P --no-prompt-extend",
        "She sings",
        {"model": "wan2.7-i2v",
         "input": {"prompt": "She sings",
                   "media": [{"type": "first_frame", "url": "https://example.com/face.jpg"},
                             {"type": "driving_audio", "url": "https://example.com/speech.mp3"}]},
         "parameters": {"resolution": "720P", "prompt_extend": False}},
    ),
    Case(
        "wan27-i2v-first-clip", "wan", "--video https://example.com/clip.mp4 --duration 2", "Continue the shot",
        {"model": "wan2.7-i2v",
         "input": {"prompt": "Continue the shot", "media": [{"type": "first_clip", "url": "https://example.com/clip.mp4"}]},
         "parameters": {"duration": 2}},
    ),
    # ---- Wan 2.7 text-to-video (reference §12.5: ratio, no size) ----
    Case(
        "wan27-t2v", "wan",
        f"--ratio 9:16 --resolution 720P --duration 10 --negative blurry --no-prompt-extend --driving-audio {AUD}",
        "A cat",
        {"model": "wan2.7-t2v",
         "input": {"prompt": "A cat", "negative_prompt": "blurry", "audio_url": AUD},
         "parameters": {"resolution": "720P", "ratio": "9:16", "duration": 10, "prompt_extend": False}},
    ),
    # ---- Wan <= 2.6 legacy text-to-video (reference §12.1: parameters.size) ----
    Case(
        "wan26-t2v", "wan",
        f"--model wan2.6-t2v --resolution 1080P --ratio 4:3 --duration 15 --shot-type multi --driving-audio {AUD}",
        "A cat",
        {"model": "wan2.6-t2v",
         "input": {"prompt": "A cat", "audio_url": AUD},
         "parameters": {"size": "1632*1248", "duration": 15, "shot_type": "multi"}},
    ),
    Case(
        "wan26-t2v-us", "wan", "--region us-east-1 --size 1280*720 --seed 9", "A cat",
        {"model": "wan2.6-t2v-us", "input": {"prompt": "A cat"}, "parameters": {"size": "1280*720", "seed": 9}},
        region="us-east-1",
    ),
    Case(
        "wan25-t2v-preview", "wan", "--model wan2.5-t2v-preview --resolution 480P --duration 10", "A cat",
        {"model": "wan2.5-t2v-preview", "input": {"prompt": "A cat"},
         "parameters": {"size": "832*480", "duration": 10}},
    ),
    Case(
        "wan22-t2v-plus", "wan",
        "--model wan2.2-t2v-plus --resolution 480P --ratio 1:1 --negative-prompt blurry --seed 7", "A cat",
        {"model": "wan2.2-t2v-plus", "input": {"prompt": "A cat", "negative_prompt": "blurry"},
         "parameters": {"size": "624*624", "seed": 7}},
    ),
    Case(
        "wan22-t2v-flash", "wan", "--model wan2.2-t2v-flash --size 1920*1080 --no-prompt-extend --duration 5",
        "A cat",
        {"model": "wan2.2-t2v-flash", "input": {"prompt": "A cat"},
         "parameters": {"size": "1920*1080", "prompt_extend": False, "duration": 5}},
    ),
    Case(
        "wanx21-t2v-turbo", "wan", "--model wanx2.1-t2v-turbo --resolution 720P --ratio 3:4", "A cat",
        {"model": "wanx2.1-t2v-turbo", "input": {"prompt": "A cat"}, "parameters": {"size": "832*1088"}},
    ),
    Case(
        "wanx21-t2v-plus", "wan", "--model wanx2.1-t2v-plus --resolution 720P", "A cat",
        {"model": "wanx2.1-t2v-plus", "input": {"prompt": "A cat"}, "parameters": {"size": "1280*720"}},
    ),
    # ---- Wan <= 2.6 legacy image-to-video (reference §12.2: input.img_url + parameters.resolution) ----
    Case(
        "wan26-i2v-with-audio", "wan",
        f"--model wan2.6-i2v --image {IMG} --driving-audio {AUD} --resolution 720P --duration 10", "Talk",
        {"model": "wan2.6-i2v", "input": {"prompt": "Talk", "img_url": IMG, "audio_url": AUD},
         "parameters": {"resolution": "720P", "duration": 10}},
    ),
    Case(
        "wan26-i2v-flash-silent", "wan", f"--model wan2.6-i2v-flash --img_url {IMG} --no-audio --resolution 1080P",
        None,
        {"model": "wan2.6-i2v-flash", "input": {"img_url": IMG},
         "parameters": {"resolution": "1080P", "audio": False}},
    ),
    Case(
        "wan26-i2v-us", "wan", f"--region us-east-1 --image {IMG}", "Wave",
        {"model": "wan2.6-i2v-us", "input": {"prompt": "Wave", "img_url": IMG}},
        region="us-east-1",
    ),
    # ---- kf2v (reference §12.3: first_frame_url/last_frame_url on the image2video path) ----
    Case(
        "wan22-kf2v-flash", "wan",
        f"--model wan2.2-kf2v-flash --first-frame {IMG} --last-frame {IMG2} --resolution 480P", "Morph",
        {"model": "wan2.2-kf2v-flash",
         "input": {"prompt": "Morph", "first_frame_url": IMG, "last_frame_url": IMG2},
         "parameters": {"resolution": "480P"}},
        endpoint=IMAGE2VIDEO,
    ),
    Case(
        "wanx21-kf2v-plus", "wan", f"--model wanx2.1-kf2v-plus --image {IMG} --image {IMG2} --resolution 720P",
        None,
        {"model": "wanx2.1-kf2v-plus", "input": {"first_frame_url": IMG, "last_frame_url": IMG2},
         "parameters": {"resolution": "720P"}},
        endpoint=IMAGE2VIDEO,
    ),
]


def _assert_same_fields(actual: Any, expected: Any, path: str = "payload") -> None:
    """Compare two JSON values field by field, so a failure names the field."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), (
            f"{path}: fields differ; missing {sorted(set(expected) - set(actual))}, "
            f"unexpected {sorted(set(actual) - set(expected))}"
        )
        for key in expected:
            _assert_same_fields(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            _assert_same_fields(a, e, f"{path}[{i}]")
    else:
        assert type(actual) is type(expected) and actual == expected, f"{path}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("case", VALID, ids=[c.id for c in VALID])
def test_valid_cell_payload_matches_the_documented_shape(case: Case):
    request = build(case.magic, case.line, case.body)
    assert request.model.name == case.model
    assert request.region == case.region
    assert request.endpoint_path == case.endpoint
    _assert_same_fields(request.payload, case.payload)


@pytest.mark.parametrize("model", [m.name for m in catalog.MODELS])
def test_every_catalog_model_has_a_valid_case(model: str):
    assert any(case.model == model for case in VALID), (
        f"catalog model {model} has no valid cell in tests/test_request.py VALID; add one"
    )


def test_every_case_names_a_catalog_model():
    for case in VALID:
        assert case.model in catalog.BY_NAME, case.id


def test_catalog_names_are_unique_and_magics_known():
    names = [m.name for m in catalog.MODELS]
    assert len(names) == len(set(names))
    assert {m.magic for m in catalog.MODELS} == set(catalog.MAGICS)


def test_every_seed_model_is_in_the_catalog():
    seeds = [
        "vidu/viduq3-pro_text2video", "vidu/viduq3-turbo_text2video", "vidu/viduq2_text2video",
        "vidu/viduq3-pro_img2video", "vidu/viduq3-turbo_img2video", "vidu/viduq2-pro_img2video",
        "vidu/viduq2-turbo_img2video", "vidu/viduq3-pro_start-end2video", "vidu/viduq3-turbo_start-end2video",
        "vidu/viduq2-pro_start-end2video", "vidu/viduq2-turbo_start-end2video", "vidu/viduq2_reference2video",
        "vidu/viduq2-pro_reference2video", "kling/kling-v3-video-generation",
        "kling/kling-v3-omni-video-generation", "wan2.2-t2v-plus", "wan2.2-t2v-flash", "wan2.6-i2v-flash",
        "wan2.6-i2v", "wan2.6-i2v-us", "wan2.6-t2v-us", "wanx2.1-t2v-turbo", "wan2.7-i2v",
    ]
    missing = [name for name in seeds if name not in catalog.BY_NAME]
    assert missing == []


@pytest.mark.parametrize("case", VALID, ids=[c.id for c in VALID])
def test_valid_payload_is_accepted_by_the_emulator_rules(case: Case):
    """Cross-check with the emulator's independent model table (what the service would answer)."""
    rules = pytest.importorskip("aliyun_video_magics.emulator.rules")
    request = build(case.magic, case.line, case.body)
    rules.check_submit(request.payload, image2video_path=request.endpoint_path == IMAGE2VIDEO)


# ---------------------------------------------------------------------------------------
# 2. Mode inference and defaults


@pytest.mark.parametrize(
    ("line", "model"),
    [
        ("", "vidu/viduq3-turbo_text2video"),
        (f"--image {IMG}", "vidu/viduq3-turbo_img2video"),
        (f"--first-frame {IMG}", "vidu/viduq3-turbo_img2video"),
        (f"--image {IMG} --image {IMG2}", "vidu/viduq3-turbo_start-end2video"),
        (f"--first-frame {IMG} --last-frame {IMG2}", "vidu/viduq3-turbo_start-end2video"),
        (f"--ref {IMG}", "vidu/viduq2-pro_reference2video"),
        (f"--ref {IMG} --ref {VID}", "vidu/viduq2-pro_reference2video"),
    ],
)
def test_vidu_mode_follows_the_media(line, model):
    request = build("vidu", line)
    assert request.model.name == model


@pytest.mark.parametrize(
    ("short", "line", "model"),
    [
        ("q3-pro", "", "vidu/viduq3-pro_text2video"),
        ("q3-pro", f"--image {IMG}", "vidu/viduq3-pro_img2video"),
        ("q3-pro", f"--image {IMG} --image {IMG2}", "vidu/viduq3-pro_start-end2video"),
        ("q3-turbo", "", "vidu/viduq3-turbo_text2video"),
        ("q3-turbo", f"--image {IMG}", "vidu/viduq3-turbo_img2video"),
        ("q3-turbo", f"--image {IMG} --image {IMG2}", "vidu/viduq3-turbo_start-end2video"),
        ("q2", "", "vidu/viduq2_text2video"),
        ("q2", f"--ref {IMG}", "vidu/viduq2_reference2video"),
        ("q2-pro", f"--image {IMG}", "vidu/viduq2-pro_img2video"),
        ("q2-pro", f"--image {IMG} --image {IMG2}", "vidu/viduq2-pro_start-end2video"),
        ("q2-pro", f"--ref {IMG}", "vidu/viduq2-pro_reference2video"),
        ("q2-turbo", f"--image {IMG}", "vidu/viduq2-turbo_img2video"),
        ("q2-turbo", f"--image {IMG} --image {IMG2}", "vidu/viduq2-turbo_start-end2video"),
    ],
)
def test_vidu_short_forms(short, line, model):
    assert build("vidu", f"--model {short} {line}").model.name == model


def test_vidu_exact_name_is_used_as_given():
    request = build("vidu", f"--model vidu/viduq3-pro_img2video --image {IMG}")
    assert request.model.name == "vidu/viduq3-pro_img2video"


@pytest.mark.parametrize(
    ("short", "line", "model"),
    [
        ("v3", "", "kling/kling-v3-video-generation"),
        ("v3", f"--image {IMG}", "kling/kling-v3-video-generation"),
        ("v3-omni", "", "kling/kling-v3-omni-video-generation"),
        ("v3-omni", f"--image {IMG}", "kling/kling-v3-omni-video-generation"),
    ],
)
def test_kling_short_forms(short, line, model):
    assert build("kling", f"--model {short} {line}").model.name == model


@pytest.mark.parametrize(
    ("line", "model"),
    [
        ("", "kling/kling-v3-video-generation"),
        (f"--image {IMG}", "kling/kling-v3-video-generation"),
        (f"--image {IMG} --image {IMG2}", "kling/kling-v3-video-generation"),
        (f"--ref {IMG}", "kling/kling-v3-omni-video-generation"),
        (f"--ref {VID}", "kling/kling-v3-omni-video-generation"),
        (f"--video {VID}", "kling/kling-v3-omni-video-generation"),
    ],
)
def test_kling_picks_omni_for_references_and_video(line, model):
    assert build("kling", line).model.name == model


@pytest.mark.parametrize("line", [f"--ref {IMG}", f"--video {VID}", f"--ref {VID}"])
@pytest.mark.parametrize("name", ["v3", "kling/kling-v3-video-generation"])
def test_kling_standard_named_with_references_is_an_error(name, line):
    with pytest.raises(VideoUsageError) as err:
        build("kling", f"--model {name} {line}")
    assert "kling/kling-v3-video-generation" in str(err.value)
    assert "--model v3-omni" in str(err.value)


@pytest.mark.parametrize(
    ("line", "region", "model"),
    [
        ("", "cn-beijing", "wan2.7-t2v"),
        ("", "ap-southeast-1", "wan2.7-t2v"),
        ("", "us-east-1", "wan2.6-t2v-us"),
        (f"--image {IMG}", "cn-beijing", "wan2.7-i2v"),
        (f"--image {IMG} --image {IMG2}", "cn-beijing", "wan2.7-i2v"),
        (f"--first-frame {IMG} --driving-audio {AUD}", "cn-beijing", "wan2.7-i2v"),
        (f"--video {VID}", "cn-beijing", "wan2.7-i2v"),
        (f"--video {VID}", "ap-southeast-1", "wan2.7-i2v"),
        (f"--image {IMG}", "us-east-1", "wan2.6-i2v-us"),
    ],
)
def test_wan_picks_t2v_or_i2v_per_region(line, region, model):
    request = build("wan", line, region=region)
    assert request.model.name == model
    assert request.region == region


def test_wan_region_option_overrides_the_setting():
    request = build("wan", "--region us-east-1", region="cn-beijing")
    assert request.model.name == "wan2.6-t2v-us"
    assert request.region == "us-east-1"


def test_wan_t2v_default_is_a_t2v_model():
    request = build("wan", "")
    assert request.model.mode == "t2v"


def test_default_model_setting_is_used_when_it_fits():
    request = build("vidu", "", default_model="q2")
    assert request.model.name == "vidu/viduq2_text2video"
    assert request.notes


def test_default_model_setting_that_does_not_fit_falls_back():
    request = build("vidu", f"--image {IMG}", default_model="q2")  # no q2 img2video
    assert request.model.name == "vidu/viduq3-turbo_img2video"
    assert any("does not fit" in note for note in request.notes)


def test_explicit_model_wins_over_default_setting():
    assert build("vidu", "--model q3-pro", default_model="q2").model.name == "vidu/viduq3-pro_text2video"


@pytest.mark.parametrize(
    ("line", "size"),
    [
        # text-to-video table (seed 000/001)
        ("--resolution 540P --ratio 16:9", "960*528"),
        ("--resolution 540P --ratio 9:16", "528*960"),
        ("--resolution 540P --ratio 1:1", "720*720"),
        ("--resolution 540P --ratio 4:3", "816*608"),
        ("--resolution 720P --ratio 4:3", "1104*816"),
        ("--resolution 1080P --ratio 3:4", "1238*1674"),
        ("--ratio 16:9", "1280*720"),
        # reference-to-video table (seed 000)
        (f"--ref {IMG} --resolution 540P --ratio 16:9", "960*540"),
        (f"--ref {IMG} --resolution 540P --ratio 1:1", "540*540"),
        (f"--ref {IMG} --resolution 720P --ratio 1:1", "720*720"),
        (f"--ref {IMG} --resolution 720P --ratio 4:3", "960*720"),
        (f"--ref {IMG} --resolution 1080P --ratio 3:4", "1080*1440"),
    ],
)
def test_vidu_ratio_lookup_uses_the_mode_table(line, size):
    assert build("vidu", line).payload["parameters"]["size"] == size


def test_vidu_two_tables_differ_for_the_same_ratio():
    t2v = build("vidu", "--resolution 540P --ratio 16:9").payload["parameters"]
    ref = build("vidu", f"--ref {IMG} --resolution 540P --ratio 16:9").payload["parameters"]
    assert (t2v["size"], ref["size"]) == ("960*528", "960*540")
    assert t2v["resolution"] == ref["resolution"] == "540P"


@pytest.mark.parametrize(
    ("line", "size"),
    [
        (f"--ref {IMG}", "1280*720"),  # seed 000: "Do not omit size when using reference-to-video"
        (f"--ref {IMG} --resolution 1080P", "1920*1080"),
        (f"--ref {IMG} --ratio 9:16", "720*1280"),
        (f"--model q2 --ref {IMG} --resolution 540P", "960*540"),
    ],
)
def test_vidu_reference_always_fills_size(line, size):
    assert build("vidu", line).payload["parameters"]["size"] == size


def test_vidu_t2v_without_shape_options_sends_no_size():
    assert "parameters" not in build("vidu", "").payload


@pytest.mark.parametrize(
    ("line", "ratio"),
    [
        ("", "16:9"),
        ("--ratio 9:16", "9:16"),
        ("--aspect_ratio 1:1", "1:1"),
        (f"--ref {IMG}", "16:9"),  # reference-to-video also needs aspect_ratio (seed 002)
    ],
)
def test_kling_t2v_and_reference_fill_aspect_ratio(line, ratio):
    assert build("kling", line).payload["parameters"]["aspect_ratio"] == ratio


@pytest.mark.parametrize("line", [f"--image {IMG}", f"--video {VID}"])
def test_kling_with_a_first_frame_or_base_sends_no_aspect_ratio(line):
    assert "aspect_ratio" not in build("kling", line).payload.get("parameters", {})


@pytest.mark.parametrize(("line", "mode"), [("--resolution 720P", "std"), ("--resolution 1080P", "pro"),
                                            ("--mode std", "std"), ("--mode pro --resolution 1080P", "pro")])
def test_kling_resolution_maps_to_mode(line, mode):
    request = build("kling", line)
    assert request.payload["parameters"]["mode"] == mode
    assert "resolution" not in request.payload["parameters"]


def test_wan_legacy_resolution_alone_becomes_a_16_9_size():
    params = build("wan", "--model wan2.6-t2v --resolution 720P").payload["parameters"]
    assert params == {"size": "1280*720"}


def test_wan_legacy_i2v_sends_resolution_not_size():
    params = build("wan", f"--model wan2.6-i2v --image {IMG} --resolution 1080P").payload["parameters"]
    assert params == {"resolution": "1080P"}


def test_request_carries_run_options():
    request = build("vidu", "--dry-run --force -o clip --timeout 90")
    assert (request.dry_run, request.force, request.out, request.timeout) == (True, True, "clip", 90.0)
    assert "parameters" not in request.payload


def test_request_properties():
    request = build("kling", "--resolution 720P --duration 7")
    assert request.duration == 7
    assert request.resolution == "720P"
    assert build("vidu", "").duration == 5  # the model's default


def test_local_files_stay_paths_until_upload(tmp_path: Path):
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(400, 400))
    request = build("vidu", f"--image {image}")
    assert request.local_files == [str(image)]
    assert request.payload["input"]["media"] == [{"type": "image", "url": str(image)}]
    swapped = request.payload_with({str(image): "oss://dashscope/cat.png"})
    assert swapped["input"]["media"] == [{"type": "image", "url": "oss://dashscope/cat.png"}]
    assert request.payload["input"]["media"][0]["url"] == str(image)  # not mutated


def test_urls_are_not_local_files():
    request = build("vidu", f"--ref {IMG} --ref oss://bucket/v.mp4")
    assert request.local_files == []


# ---------------------------------------------------------------------------------------
# 3. Invalid cells: one message naming the option, the value and what is allowed; nothing sent.
#
# ``{tmp}`` in a line is replaced by a folder holding: cat.png, notes.txt, noext, anim.gif,
# clip.mkv (see ``media_dir``).

@dataclass(frozen=True)
class Bad:
    id: str
    magic: str
    line: str
    messages: tuple[str, ...]
    body: str | None = "A cat"
    region: str = "cn-beijing"


def _refs(n: int, ext: str = "jpg") -> str:
    return " ".join(f"--ref https://example.com/r{i}.{ext}" for i in range(n))


INVALID: list[Bad] = [
    # durations per model
    Bad("vidu-q3-duration-17", "vidu", "--duration 17", ("--duration 17", "1 to 16 seconds")),
    Bad("vidu-duration-0", "vidu", "--duration 0", ("--duration 0", "1 to 16 seconds")),
    Bad("vidu-q2-duration-11", "vidu", "--model q2 --duration 11",
        ("--duration 11", "vidu/viduq2_text2video", "1 to 10 seconds")),
    Bad("kling-duration-2", "kling", "--duration 2", ("--duration 2", "3 to 15 seconds")),
    Bad("kling-duration-16", "kling", "--duration 16", ("--duration 16", "3 to 15 seconds")),
    Bad("kling-ref-video-duration-11", "kling", f"--ref {VID} --duration 11",
        ("--duration 11", "kling/kling-v3-omni-video-generation", "3 to 10 seconds")),
    Bad("kling-base-video-duration-12", "kling", f"--video {VID} --duration 12", ("--duration 12", "3 to 10 seconds")),
    Bad("wan27-duration-1", "wan", f"--image {IMG} --duration 1", ("--duration 1", "wan2.7-i2v", "2 to 15 seconds")),
    Bad("wan26-duration-16", "wan", "--model wan2.6-t2v --duration 16", ("--duration 16", "2 to 15 seconds")),
    Bad("wan22-duration-10", "wan", "--model wan2.2-t2v-plus --duration 10",
        ("--duration 10", "wan2.2-t2v-plus", "allows 5 seconds")),
    Bad("kf2v-duration-6", "wan", f"--model wan2.2-kf2v-flash --image {IMG} --image {IMG2} --duration 6",
        ("--duration 6", "allows 5 seconds")),
    # resolutions and sizes
    Bad("vidu-q2-pro-i2v-540P", "vidu", f"--model q2-pro --image {IMG} --resolution 540P",
        ("--resolution 540P", "vidu/viduq2-pro_img2video", "720P or 1080P")),
    Bad("vidu-480P", "vidu", "--resolution 480P", ("--resolution 480P", "540P, 720P or 1080P")),
    Bad("kling-540P", "kling", "--resolution 540P", ("--resolution 540P", "720P or 1080P")),
    Bad("wan26-t2v-480P", "wan", "--model wan2.6-t2v --resolution 480P", ("--resolution 480P", "720P or 1080P")),
    Bad("wan27-i2v-480P", "wan", f"--image {IMG} --resolution 480P", ("--resolution 480P", "wan2.7-i2v")),
    Bad("vidu-size-not-in-tier", "vidu", "--resolution 540P --size 1280*720",
        ("--size 1280*720", "540P tier", "960*528")),
    Bad("vidu-t2v-size-from-ref-table", "vidu", "--size 960*540", ("--size 960*540", "960*528", "1280*720")),
    Bad("vidu-ref-size-from-t2v-table", "vidu", f"--ref {IMG} --size 960*528", ("--size 960*528", "960*540")),
    Bad("wan26-size-not-in-tier", "wan", "--model wan2.6-t2v --resolution 720P --size 1920*1080",
        ("--size 1920*1080", "720P tier", "1280*720")),
    Bad("wan22-size-720P-tier-missing", "wan", "--model wan2.2-t2v-plus --size 1280*720",
        ("--size 1280*720", "wan2.2-t2v-plus", "832*480")),
    Bad("vidu-size-and-ratio", "vidu", "--size 1280*720 --ratio 16:9", ("--size", "--ratio", "use one")),
    Bad("wan22-480P-has-no-4-3", "wan", "--model wan2.2-t2v-plus --resolution 480P --ratio 4:3",
        ("--ratio 4:3", "480P", "16:9, 9:16 or 1:1")),
    # audio
    Bad("vidu-q2-audio", "vidu", "--model q2 --audio", ("--audio", "vidu/viduq2_text2video", "Vidu Q3")),
    Bad("vidu-q2-turbo-i2v-audio", "vidu", f"--model q2-turbo --image {IMG} --audio", ("--audio", "Vidu Q3")),
    Bad("vidu-q2-reference-audio", "vidu", f"--ref {IMG} --audio", ("--audio", "vidu/viduq2-pro_reference2video")),
    Bad("wan26-t2v-no-audio", "wan", "--model wan2.6-t2v --no-audio", ("--no-audio", "wan2.6-t2v", "wan2.6-i2v-flash")),
    Bad("wan22-audio", "wan", "--model wan2.2-t2v-plus --audio", ("--audio", "wan2.2-t2v-plus", "silent")),
    Bad("wan22-audio-track", "wan", f"--model wan2.2-t2v-plus --driving-audio {AUD}",
        ("wan2.2-t2v-plus", "1 audio_url", "no input media")),
    # media counts and combinations
    Bad("vidu-3-images", "vidu", f"--image {IMG} --image {IMG2} --image {IMG}", ("--image", "3 times", "at most 2")),
    Bad("vidu-q2-8-refs", "vidu", f"--model q2 {_refs(8)}", ("vidu/viduq2_reference2video", "8 image", "1-7 images")),
    Bad("vidu-q2-pro-5-images", "vidu", f"--model q2-pro {_refs(5)}", ("5 image", "1-4 images + 0-2 videos")),
    Bad("vidu-q2-pro-3-videos", "vidu", f"--model q2-pro --ref {IMG} {_refs(3, 'mp4')}",
        ("3 video", "1-4 images + 0-2 videos")),
    Bad("vidu-q2-pro-videos-only", "vidu", f"--model q2-pro --ref {VID}", ("1 video", "1-4 images")),
    Bad("vidu-q2-video-ref", "vidu", f"--model q2 --ref {VID}", ("vidu/viduq2_reference2video", "1 video", "1-7 images")),
    Bad("vidu-i2v-with-ref", "vidu", f"--model q3-pro --image {IMG} --ref {IMG2}", ("no q3-pro model for reference",)),
    Bad("vidu-last-frame-only", "vidu", f"--last-frame {IMG2}", ("--last-frame", "first frame")),
    Bad("vidu-first-frame-and-image", "vidu", f"--first-frame {IMG} --image {IMG2}", ("--first-frame", "--image")),
    Bad("kling-refer-on-standard", "kling", f"--model v3 --ref {IMG}",
        ("--ref (image)", "kling/kling-v3-video-generation", "--model v3-omni")),
    Bad("kling-base-on-standard", "kling", f"--model v3 --video {VID}", ("--video", "--model v3-omni")),
    Bad("kling-base-plus-feature", "kling", f"--video {VID} --ref https://example.com/f.mp4",
        ("1 feature, 1 base", "base + refer (1 video + 1-4 images)")),
    Bad("kling-base-plus-first-frame", "kling", f"--video {VID} --image {IMG}", ("1 first_frame, 1 base", "base (1 video)")),
    Bad("kling-refer-plus-first-frame", "kling", f"--ref {IMG} --image {IMG2}", ("1 first_frame, 1 refer",)),
    Bad("kling-8-refer", "kling", _refs(8), ("8 refer", "refer (1-7 images)")),
    Bad("kling-feature-plus-5-refer", "kling", f"--ref {VID} {_refs(5)}",
        ("1 feature, 5 refer", "feature + refer (1 video + 1-4 images)")),
    Bad("kling-base-plus-5-refer", "kling", f"--video {VID} {_refs(5)}", ("5 refer, 1 base",)),
    Bad("kling-2-features", "kling", f"--ref {VID} --ref https://example.com/w.mov", ("2 feature",)),
    Bad("kling-webp-first-frame", "kling", "--image https://example.com/a.webp",
        ("--image", "a.webp", "jpg, jpeg or png", "first_frame")),
    Bad("wan27-two-videos", "wan", f"--video {VID} --video https://example.com/w.mp4", ("--video is given twice",)),
    Bad("wan27-video-plus-image", "wan", f"--video {VID} --image {IMG}",
        ("wan2.7-i2v", "1 first_frame, 1 first_clip", "first_clip")),
    Bad("wan27-video-plus-audio", "wan", f"--video {VID} --driving-audio {AUD}", ("1 first_clip, 1 driving_audio",)),
    Bad("wan27-two-first-frames", "wan", f"--image {IMG} --first-frame {IMG2}", ("--first-frame", "--image")),
    Bad("wan27-no-media", "wan", "--model wan2.7-i2v", ("wan2.7-i2v", "no media", "first_frame")),
    Bad("wan-ref", "wan", f"--ref {IMG}", ("--ref (image)", "wan2.7-i2v")),
    Bad("wan-legacy-i2v-last-frame", "wan", f"--model wan2.6-i2v --image {IMG} --image {IMG2}",
        ("--last-frame", "not accepted by wan2.6-i2v")),
    Bad("wan-kf2v-one-frame", "wan", f"--model wan2.2-kf2v-flash --image {IMG}", ("first + last frame",)),
    # prompt length
    Bad("vidu-prompt-5001", "vidu", "", ("5001 characters", "at most 5000"), body="p" * 5001),
    Bad("kling-prompt-2501", "kling", "", ("2501 characters", "at most 2500"), body="p" * 2501),
    Bad("wan27-prompt-5001", "wan", f"--image {IMG}", ("5001 characters", "wan2.7-i2v", "at most 5000"), body="p" * 5001),
    Bad("wan27-negative-501", "wan", f"--image {IMG} --negative {'n' * 501}", ("--negative", "501", "at most 500")),
    Bad("wan22-prompt-801", "wan", "--model wan2.2-t2v-plus", ("801 characters", "at most 800"), body="p" * 801),
    Bad("vidu-negative", "vidu", "--negative blurry", ("--negative", "not supported", "vidu/viduq3-turbo_text2video")),
    # ratios
    Bad("kling-ratio-4-3", "kling", "--ratio 4:3", ("--ratio 4:3", "16:9, 9:16 or 1:1")),
    Bad("wan27-ratio-21-9", "wan", "--ratio 21:9", ("--ratio 21:9", "wan2.7-t2v", "3:4")),
    Bad("vidu-ratio-21-9", "vidu", "--ratio 21:9", ("--ratio 21:9", "16:9, 9:16, 1:1, 4:3 or 3:4")),
    Bad("kling-ratio-with-first-frame", "kling", f"--image {IMG} --ratio 9:16", ("--ratio", "first frame")),
    # seed
    Bad("seed-minus-1", "vidu", "--seed -1", ("--seed -1", "0 to 2147483647")),
    Bad("seed-2147483648", "vidu", "--seed 2147483648", ("--seed 2147483648", "0 to 2147483647")),
    Bad("wan-seed-2147483648", "wan", "--seed 2147483648", ("--seed 2147483648", "wan2.7-t2v")),
    Bad("kling-seed", "kling", "--seed 5", ("--seed", "Kling")),
    # regions
    Bad("kling-ap-southeast-1", "kling", "--region ap-southeast-1", ("ap-southeast-1", "kling")),
    Bad("kling-named-ap-southeast-1", "kling", "--model v3 --region ap-southeast-1",
        ("kling/kling-v3-video-generation", "cn-beijing only", "ap-southeast-1")),
    Bad("vidu-us-east-1", "vidu", "--region us-east-1", ("us-east-1", "vidu")),
    Bad("vidu-named-us-east-1", "vidu", "--model q3-pro --region us-east-1", ("cn-beijing only", "us-east-1")),
    Bad("unknown-region", "wan", "--region eu-central-1",
        ("--region eu-central-1", "cn-beijing, ap-southeast-1 or us-east-1")),
    Bad("wan27-in-us", "wan", "--model wan2.7-t2v --region us-east-1", ("wan2.7-t2v", "us-east-1")),
    Bad("wan-us-model-in-beijing", "wan", "--model wan2.6-t2v-us", ("wan2.6-t2v-us", "us-east-1 only")),
    # prompt required
    Bad("vidu-t2v-no-prompt", "vidu", "", ("vidu/viduq3-turbo_text2video", "needs a prompt"), body=None),
    Bad("kling-t2v-no-prompt", "kling", "", ("needs a prompt",), body="--duration 5\n"),
    Bad("wan-t2v-no-prompt", "wan", "", ("wan2.7-t2v", "needs a prompt"), body=""),
    Bad("vidu-start-end-no-prompt", "vidu", f"--image {IMG} --image {IMG2}",
        ("vidu/viduq3-turbo_start-end2video", "needs a prompt"), body=None),
    Bad("vidu-reference-no-prompt", "vidu", f"--ref {IMG}", ("needs a prompt",), body=None),
    Bad("wan-legacy-t2v-no-prompt", "wan", "--model wan2.2-t2v-plus", ("wan2.2-t2v-plus", "needs a prompt"), body=None),
    # unknown options and models
    Bad("unknown-option", "vidu", "--duraton 5", ("--duraton", "did you mean --duration?")),
    Bad("unknown-option-body", "kling", "", ("--aspect_ration", "did you mean --aspect_ratio?"),
        body="--aspect_ration 16:9\nA cat"),
    Bad("unknown-model-vidu", "vidu", "--model q4", ("--model 'q4'", "vidu/viduq3-pro_text2video", "q3-turbo")),
    Bad("unknown-model-kling", "kling", "--model v4", ("--model 'v4'", "kling/kling-v3-omni-video-generation", "v3-omni")),
    Bad("unknown-model-wan", "wan", "--model wan2.8-t2v", ("--model 'wan2.8-t2v'", "wan2.7-i2v", "wanx2.1-t2v-turbo")),
    Bad("kling-model-in-vidu", "vidu", "--model kling/kling-v3-video-generation", ("kling model", "%%kling")),
    Bad("vidu-model-in-wan", "wan", "--model vidu/viduq2_text2video", ("vidu model", "%%vidu")),
    Bad("kling-short-in-vidu", "vidu", "--model v3", ("--model 'v3'", "is not a vidu model")),
    Bad("vidu-short-wrong-mode", "vidu", "--model q2-pro", ("--model q2-pro", "no q2-pro model for t2v")),
    Bad("vidu-q2-no-i2v", "vidu", f"--model q2 --image {IMG}", ("no q2 model for i2v", "vidu/viduq2-pro_img2video")),
    # local files
    Bad("local-missing", "vidu", "--image {tmp}/missing.png", ("--image", "missing.png", "no such file")),
    Bad("local-missing-ref", "vidu", "--ref {tmp}/nope.jpg", ("--ref", "nope.jpg", "no such file")),
    Bad("local-directory", "vidu", "--image {tmp}", ("--image", "no such file")),
    Bad("local-wrong-type", "vidu", "--image {tmp}/notes.txt", ("--image", "notes.txt", "jpg, jpeg, png or webp")),
    Bad("local-gif", "kling", "--image {tmp}/anim.gif", ("anim.gif", "jpg, jpeg or png")),
    Bad("local-no-extension", "vidu", "--image {tmp}/noext", ("noext", "cannot tell the file type")),
    Bad("local-wrong-video-type", "wan", "--video {tmp}/clip.mkv", ("--video", "clip.mkv", "mp4 or mov")),
    Bad("local-image-as-audio", "wan", "--image {tmp}/cat.png --driving-audio {tmp}/cat.png",
        ("--driving-audio", "cat.png", "wav or mp3")),
    # options that do not apply to the model
    Bad("vidu-mode", "vidu", "--mode pro", ("--mode", "Kling", "vidu/viduq3-turbo_text2video")),
    Bad("wan-mode", "wan", "--mode std", ("--mode", "wan2.7-t2v", "--resolution")),
    Bad("kling-mode-ultra", "kling", "--mode ultra", ("--mode ultra", "std (720P) or pro (1080P)")),
    Bad("kling-mode-vs-resolution", "kling", "--mode std --resolution 1080P", ("--resolution 1080P", "--mode std")),
    Bad("kling-size", "kling", "--size 1280*720", ("--size", "kling/kling-v3-video-generation", "--ratio")),
    Bad("wan27-t2v-size", "wan", "--size 1280*720", ("--size", "wan2.7-t2v", "--ratio")),
    Bad("vidu-i2v-ratio", "vidu", f"--image {IMG} --ratio 16:9", ("--ratio", "vidu/viduq3-turbo_img2video", "input image")),
    Bad("wan27-i2v-ratio", "wan", f"--image {IMG} --ratio 16:9", ("--ratio", "wan2.7-i2v")),
    Bad("vidu-i2v-size", "vidu", f"--image {IMG} --size 1280*720", ("--size", "not supported")),
    Bad("vidu-prompt-extend", "vidu", "--prompt-extend", ("--prompt-extend", "vidu/viduq3-turbo_text2video")),
    Bad("kling-no-prompt-extend", "kling", "--no-prompt-extend", ("--prompt-extend", "Wan")),
    Bad("keep-sound-without-video", "kling", "--keep-original-sound", ("--keep-original-sound", "--video")),
    Bad("timeout-zero", "vidu", "--timeout 0", ("--timeout", "above 0")),
    # storyboards
    Bad("kling-customize-one-shot", "kling", "--shot-type customize", ("--shot-type customize", "at least 2")),
    Bad("kling-customize-empty-shot", "kling", "", ("at least 2 non-empty shots",), body="one\n---\n\n---\nthree"),
    Bad("kling-multi-shot-no-type", "kling", "--multi-shot", ("--multi-shot", "intelligence or customize")),
    Bad("kling-shot-type-unknown", "kling", "--shot-type auto", ("--shot-type auto", "intelligence or customize")),
    Bad("kling-intelligence-with-shots", "kling", "--shot-type intelligence", ("--shot-type intelligence", "---"),
        body="one\n---\ntwo"),
    Bad("kling-7-shots", "kling", "--duration 14", ("7 shots", "at most 6"), body="\n---\n".join("abcdefg")),
    Bad("kling-shots-longer-than-duration", "kling", "--duration 3", ("4 shots", "--duration is 3"),
        body="a\n---\nb\n---\nc\n---\nd"),
    Bad("kling-shot-durations-sum", "kling", "--shot-durations 1,1", ("--shot-durations 1,1", "5 s"),
        body="a\n---\nb"),
    Bad("kling-shot-durations-text", "kling", "--shot-durations a,b", ("--shot-durations 'a,b'", "whole seconds"),
        body="a\n---\nb"),
    Bad("vidu-storyboard", "vidu", "--shot-type customize", ("not supported by vidu/viduq3-turbo_text2video",)),
    Bad("wan27-storyboard", "wan", "--multi-shot", ("not supported by wan2.7-t2v",)),
    Bad("wan26-shots-with-separators", "wan", "--model wan2.6-t2v", ("wan2.6-t2v", "remove the --- lines"),
        body="a\n---\nb"),
    Bad("wan26-shot-type-bad", "wan", "--model wan2.6-t2v --shot-type customize",
        ("--shot-type customize", "single or multi")),
    Bad("wan26-multi-without-extend", "wan", "--model wan2.6-t2v --shot-type multi --no-prompt-extend",
        ("--no-prompt-extend",)),
]


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    (tmp_path / "cat.png").write_bytes(png_bytes(400, 400))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "noext").write_bytes(b"\x89PNG")
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    (tmp_path / "clip.mkv").write_bytes(b"\x1a\x45\xdf\xa3")
    return tmp_path


def test_there_are_at_least_40_invalid_cells():
    assert len(INVALID) >= 40
    assert len({bad.id for bad in INVALID}) == len(INVALID)


@pytest.mark.parametrize("bad", INVALID, ids=[b.id for b in INVALID])
def test_invalid_cell_is_refused_with_a_clear_message_and_nothing_is_sent(bad: Bad, no_http, media_dir: Path):
    line = bad.line.replace("{tmp}", str(media_dir))
    with pytest.raises(VideoUsageError) as err:
        no_http.run(bad.magic, line, bad.body, region=bad.region)
    message = str(err.value)
    for part in bad.messages:
        assert part in message, f"{part!r} not in {message!r}"
    assert "\n" not in message, "one short message"
    assert no_http.requests == []


# Bugs found while writing the table above; each shows the input and what the sources say.


def test_kling_intelligence_needs_a_prompt_even_with_a_first_frame(no_http):
    with pytest.raises(VideoUsageError, match="prompt"):
        no_http.run("kling", f"--image {IMG} --multi-shot --shot-type intelligence", None)
    assert no_http.requests == []


@pytest.mark.parametrize("seconds", [6, 7, 8, 9])
def test_wan25_duration_is_5_or_10_only(seconds, no_http):
    with pytest.raises(VideoUsageError, match=f"--duration {seconds}"):
        no_http.run("wan", f"--model wan2.5-t2v-preview --duration {seconds}", "A cat")


@pytest.mark.parametrize(("magic", "region"), [("vidu", "us-east-1"), ("kling", "ap-southeast-1")])
def test_region_error_names_the_allowed_region(magic, region, no_http):
    with pytest.raises(VideoUsageError) as err:
        no_http.run(magic, f"--region {region}", "A cat")
    assert "--region" in str(err.value)
    assert "cn-beijing" in str(err.value)


def test_unknown_home_directory_is_a_usage_error(no_http):
    with pytest.raises(VideoUsageError):
        no_http.run("vidu", "--image ~no_such_user_zz9/cat.jpg", "A cat")


def test_over_long_local_path_is_a_usage_error(no_http):
    with pytest.raises(VideoUsageError):
        no_http.run("vidu", f"--image {'a' * 300}.jpg", "A cat")


# ---------------------------------------------------------------------------------------
# 4. canonical() and request_hash()


def test_same_cell_twice_gives_the_same_hash():
    line, body = "--model q3-pro --resolution 720P --seed 3", "A cat"
    a, b = build("vidu", line, body), build("vidu", line, body)
    assert a.canonical() == b.canonical()
    assert a.request_hash() == b.request_hash()
    assert len(a.request_hash()) == 64


def test_option_order_and_spelling_do_not_change_the_hash():
    a = build("kling", "--ratio 9:16 --duration 5", "A cat")
    b = build("kling", "--duration=5", "--aspect_ratio 9:16\nA cat")
    assert a.request_hash() == b.request_hash()


def test_default_duration_is_filled_in_the_canonical_form():
    a = build("vidu", "", "A cat")
    b = build("vidu", "--duration 5", "A cat")
    assert a.canonical()["payload"]["parameters"]["duration"] == 5
    assert a.request_hash() == b.request_hash()
    assert "parameters" not in a.payload  # canonical() does not change the payload


def test_run_only_options_do_not_change_the_hash():
    a = build("vidu", "", "A cat")
    b = build("vidu", "--dry-run -o clip --timeout 60", "A cat")
    assert a.request_hash() == b.request_hash()


@pytest.mark.parametrize(
    ("line_a", "body_a", "line_b", "body_b"),
    [
        ("--seed 1", "A cat", "--seed 2", "A cat"),
        ("", "A cat", "", "A dog"),
        ("", "A cat", "", "A cat "),  # stripped: same prompt -> see below
        ("--duration 5", "A cat", "--duration 6", "A cat"),
        ("--model q3-pro", "A cat", "--model q3-turbo", "A cat"),
        ("--resolution 720P", "A cat", "--resolution 1080P", "A cat"),
        (f"--image {IMG}", "A cat", f"--image {IMG2}", "A cat"),
    ],
)
def test_changed_request_changes_the_hash(line_a, body_a, line_b, body_b):
    a, b = build("vidu", line_a, body_a), build("vidu", line_b, body_b)
    if a.payload == b.payload:  # outer whitespace is not part of the prompt
        assert a.request_hash() == b.request_hash()
    else:
        assert a.request_hash() != b.request_hash()


def test_region_and_endpoint_are_part_of_the_hash():
    a = build("wan", f"--model wan2.6-i2v --image {IMG}", "A cat")
    canonical = a.canonical()
    assert canonical["region"] == "cn-beijing"
    assert canonical["endpoint"] == VIDEO_SYNTHESIS
    b = build("wan", f"--model wan2.6-i2v --image {IMG} --region ap-southeast-1", "A cat")
    assert a.payload == b.payload
    assert a.request_hash() != b.request_hash()


def test_local_file_is_hashed_by_content(tmp_path: Path):
    first = tmp_path / "one" / "cat.png"
    second = tmp_path / "two" / "kitten.png"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(png_bytes(400, 400, b"same"))
    second.write_bytes(png_bytes(400, 400, b"same"))
    a = build("vidu", f"--image {first}", "A cat")
    b = build("vidu", f"--image {second}", "A cat")
    assert a.payload != b.payload
    assert a.request_hash() == b.request_hash()
    assert str(first) not in str(a.canonical())
    before = a.request_hash()
    first.write_bytes(png_bytes(400, 400, b"other"))
    assert a.request_hash() != before
    assert a.request_hash() != b.request_hash()


def test_local_file_and_url_hash_differently(tmp_path: Path):
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(400, 400))
    assert build("vidu", f"--image {image}").request_hash() != build("vidu", f"--image {IMG}").request_hash()


def test_home_relative_local_file_can_be_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "cat.png").write_bytes(png_bytes(400, 400))
    request = build("vidu", "--image ~/cat.png", "A cat")
    assert len(request.request_hash()) == 64
