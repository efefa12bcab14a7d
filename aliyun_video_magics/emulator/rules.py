"""The emulator's own model table and the submit checks the real service makes.

Written independently of the rest of the package on purpose: if the magics' own
validation drifts from the service, integration tests against the emulator catch it
instead of agreeing with the same mistake. A failed check is a ``Rejection``, answered
as HTTP 400 ``{"code": "InvalidParameter", "message": <specific reason>}`` like the service.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from aliyun_video_magics.emulator.media import CLIP_SIZES

Family = Literal["vidu", "kling", "wan", "wan2.7"]
Mode = Literal["t2v", "i2v", "kf2v", "start-end", "r2v", "any"]

SEED_MAX = 2147483647
_URL_PREFIXES = ("http://", "https://", "oss://", "data:")
_SIZE_RE = re.compile(r"^([1-9][0-9]*)\*([1-9][0-9]*)$")
#: Sentence appended to the prompt as Wan's "prompt_extend" rewrite.
_EXTENSION = " The camera moves slowly; soft natural light, rich detail, cinematic composition."

# resolution tier -> aspect ratio -> "W*H", per family.
_WAN_SIZES: dict[str, dict[str, str]] = {
    "480P": {"16:9": "832*480", "9:16": "480*832", "1:1": "624*624"},
    "720P": {"16:9": "1280*720", "9:16": "720*1280", "1:1": "960*960", "4:3": "1088*832", "3:4": "832*1088"},
    "1080P": {
        "16:9": "1920*1080", "9:16": "1080*1920", "1:1": "1440*1440", "4:3": "1632*1248", "3:4": "1248*1632",
    },
}
_VIDU_SIZES: dict[str, dict[str, str]] = {
    "540P": {"16:9": "960*528", "9:16": "528*960", "1:1": "720*720", "4:3": "816*608", "3:4": "608*816"},
    "720P": {"16:9": "1280*720", "9:16": "720*1280", "1:1": "960*960", "4:3": "1104*816", "3:4": "816*1104"},
    "1080P": {
        "16:9": "1920*1080", "9:16": "1080*1920", "1:1": "1440*1440", "4:3": "1674*1238", "3:4": "1238*1674",
    },
}
_VIDU_REFERENCE_SIZES: dict[str, dict[str, str]] = {
    "540P": {"16:9": "960*540", "9:16": "540*960", "1:1": "540*540", "4:3": "720*540", "3:4": "540*720"},
    "720P": {"16:9": "1280*720", "9:16": "720*1280", "1:1": "720*720", "4:3": "960*720", "3:4": "720*960"},
    "1080P": {
        "16:9": "1920*1080", "9:16": "1080*1920", "1:1": "1080*1080", "4:3": "1440*1080", "3:4": "1080*1440",
    },
}
# Kling: parameters.mode -> (tier, aspect ratio -> size).
_KLING_SIZES: dict[str, tuple[str, dict[str, str]]] = {
    "pro": ("1080P", {"16:9": "1920*1080", "9:16": "1080*1920", "1:1": "1080*1080"}),
    "std": ("720P", {"16:9": "1280*720", "9:16": "720*1280", "1:1": "720*720"}),
}


class Rejection(Exception):
    """A synchronous error answer the service would give; carries status, code and message."""

    def __init__(self, message: str, code: str = "InvalidParameter", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class ModelRule:
    """What one model accepts."""

    family: Family
    mode: Mode
    durations: tuple[int, ...]
    resolutions: tuple[str, ...] = ()
    default_resolution: str = ""
    audio: bool = False
    media_types: frozenset[str] = frozenset()


def _build_models() -> dict[str, ModelRule]:
    """The model table: every name the emulator accepts."""
    models: dict[str, ModelRule] = {}
    vidu_res = ("540P", "720P", "1080P")
    for tier in ("viduq3-pro", "viduq3-turbo", "viduq2", "viduq2-pro", "viduq2-turbo"):
        q3 = tier.startswith("viduq3")
        durations = tuple(range(1, 17 if q3 else 11))
        modes: list[tuple[str, Mode]] = []
        if tier in ("viduq3-pro", "viduq3-turbo", "viduq2"):
            modes.append(("text2video", "t2v"))
        if tier != "viduq2":
            modes += [("img2video", "i2v"), ("start-end2video", "start-end")]
        if tier in ("viduq2", "viduq2-pro"):
            modes.append(("reference2video", "r2v"))
        for suffix, mode in modes:
            types = {"image", "video"} if (mode == "r2v" and tier == "viduq2-pro") else {"image"}
            models[f"vidu/{tier}_{suffix}"] = ModelRule(
                "vidu", mode, durations, vidu_res, "720P", audio=q3,
                media_types=frozenset() if mode == "t2v" else frozenset(types),
            )
    kling_frames = frozenset({"first_frame", "last_frame"})
    models["kling/kling-v3-video-generation"] = ModelRule(
        "kling", "any", tuple(range(3, 16)), audio=True, media_types=kling_frames
    )
    models["kling/kling-v3-omni-video-generation"] = ModelRule(
        "kling", "any", tuple(range(3, 16)), audio=True,
        media_types=kling_frames | {"refer", "base", "feature"},
    )
    two_to_15 = tuple(range(2, 16))
    wan: list[tuple[str, Mode, tuple[int, ...], tuple[str, ...], str, bool]] = [
        ("wanx2.1-t2v-turbo", "t2v", (5,), ("480P", "720P"), "720P", False),
        ("wanx2.1-t2v-plus", "t2v", (5,), ("720P",), "720P", False),
        ("wan2.2-t2v-plus", "t2v", (5,), ("480P", "1080P"), "1080P", False),
        ("wan2.2-t2v-flash", "t2v", (5,), ("480P", "720P", "1080P"), "720P", False),
        ("wan2.5-t2v-preview", "t2v", (5, 10), ("480P", "720P", "1080P"), "1080P", True),
        ("wan2.6-t2v", "t2v", two_to_15, ("720P", "1080P"), "1080P", True),
        ("wan2.6-t2v-us", "t2v", two_to_15, ("720P", "1080P"), "1080P", True),
        ("wan2.6-i2v", "i2v", two_to_15, ("720P", "1080P"), "1080P", True),
        ("wan2.6-i2v-flash", "i2v", two_to_15, ("720P", "1080P"), "1080P", True),
        ("wan2.6-i2v-us", "i2v", two_to_15, ("720P", "1080P"), "1080P", True),
        ("wan2.2-kf2v-flash", "kf2v", (5,), ("480P", "720P", "1080P"), "720P", False),
        ("wanx2.1-kf2v-plus", "kf2v", (5,), ("720P",), "720P", False),
    ]
    for name, mode, durations, tiers, default, audio in wan:
        models[name] = ModelRule("wan", mode, durations, tiers, default, audio)
    models["wan2.7-t2v"] = ModelRule("wan2.7", "t2v", two_to_15, ("720P", "1080P"), "1080P", True)
    models["wan2.7-i2v"] = ModelRule(
        "wan2.7", "i2v", two_to_15, ("720P", "1080P"), "1080P", True,
        frozenset({"first_frame", "last_frame", "driving_audio", "first_clip"}),
    )
    return models


MODELS: dict[str, ModelRule] = _build_models()


def nearest_ratio(width: int, height: int) -> str:
    """The clip aspect ratio closest to ``width:height``."""
    target = math.log(width / height)
    return min(CLIP_SIZES, key=lambda r: abs(math.log(CLIP_SIZES[r][0] / CLIP_SIZES[r][1]) - target))


@dataclass(frozen=True)
class ResultSpec:
    """What a successful task will report: drives the usage block and the clip choice."""

    family: Family
    duration: int
    size: str
    tier: str
    audio: bool
    prompt: str | None
    actual_prompt: str | None

    @property
    def ratio(self) -> str:
        """Aspect ratio of the requested output (picks the clip; Wan 2.7 echoes it)."""
        width, height = (int(v) for v in self.size.split("*"))
        return nearest_ratio(width, height)

    def usage(self) -> dict[str, Any]:
        """The ``usage`` block in this family's own shape."""
        sr = int(self.tier.rstrip("P"))
        if self.family == "wan":
            return {"video_duration": self.duration, "video_count": 1, "SR": sr}
        usage: dict[str, Any] = {
            "duration": self.duration,
            "output_video_duration": self.duration,
            "size": self.size,
            "fps": 24,
            "audio": self.audio,
            "SR": str(sr),
        }
        if self.family == "kling":
            usage["video_count"] = 1
        if self.family == "wan2.7":
            usage["ratio"] = self.ratio
        return usage


class _Submit:
    """One submit body being checked, with typed accessors that reject like the service."""

    def __init__(self, model: str, rule: ModelRule, inp: dict[str, Any], params: dict[str, Any]) -> None:
        self.model, self.rule, self.input, self.params = model, rule, inp, params

    def text(self, name: str, *, required: bool, limit: int | None = None) -> str | None:
        value = self.input.get(name)
        if value is None or value == "":
            if required:
                raise Rejection(f"Field required: input.{name}")
            return None
        if not isinstance(value, str):
            raise Rejection(f"input.{name} must be a string.")
        if limit is not None and len(value) > limit:
            raise Rejection(f"input.{name} is too long: {len(value)} characters, at most {limit} for {self.model}.")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name, default)
        if not isinstance(value, bool):
            raise Rejection(f"parameters.{name} must be a boolean, got {value!r}.")
        return value

    def duration(self, allowed: tuple[int, ...] | None = None) -> int:
        allowed = allowed or self.rule.durations
        value = self.params.get("duration", 5 if 5 in allowed else allowed[0])
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            if allowed == tuple(range(allowed[0], allowed[-1] + 1)) and len(allowed) > 1:
                span = f"an integer between {allowed[0]} and {allowed[-1]}"
            else:
                span = " or ".join(str(v) for v in allowed)
            raise Rejection(f"The duration {value!r} is not supported by {self.model}; it must be {span} seconds.")
        return value

    def choice(self, name: str, allowed: tuple[str, ...] | list[str], default: str) -> str:
        value = self.params.get(name, default)
        if value not in allowed:
            raise Rejection(f"The {name} {value!r} is not supported by {self.model}; use one of {', '.join(allowed)}.")
        return str(value)

    def size(self) -> str | None:
        value = self.params.get("size")
        if value is None:
            return None
        if not isinstance(value, str) or not _SIZE_RE.match(value):
            raise Rejection(f"The size {value!r} is invalid; use the form width*height, e.g. 1280*720.")
        return value

    def media(self) -> list[tuple[str, str]]:
        """``input.media`` as ``(type, url)`` pairs, each type allowed for this model."""
        items = self.input.get("media")
        if items is None:
            return []
        if not isinstance(items, list):
            raise Rejection("input.media must be a list of {type, url} objects.")
        pairs: list[tuple[str, str]] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("type"), str) or "url" not in item:
                raise Rejection(f"input.media[{index}] must be an object with string fields type and url.")
            kind, url = item["type"], item["url"]
            if kind not in self.rule.media_types:
                allowed = ", ".join(sorted(self.rule.media_types)) or "none"
                raise Rejection(f"The media type {kind!r} is not supported by {self.model}; allowed types: {allowed}.")
            check_url(url, f"input.media[{index}].url")
            pairs.append((kind, url))
        return pairs


def check_url(value: object, field: str) -> None:
    """URLs must be http(s), a data URI, or an ``oss://`` temporary upload."""
    if not isinstance(value, str) or not value.startswith(_URL_PREFIXES):
        raise Rejection(f"Invalid URL provided in your request: {field}={value!r}.", code="InvalidURL")


def _common(sub: _Submit) -> None:
    """Checks shared by every model: URL fields, seed, watermark."""
    for key, value in sub.input.items():
        if key.endswith("_url") and value is not None:
            check_url(value, f"input.{key}")
    sub.text("negative_prompt", required=False, limit=500)
    seed = sub.params.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX):
        raise Rejection(f"The seed {seed!r} is invalid; it must be an integer between 0 and {SEED_MAX}.")
    sub.flag("watermark", False)


def _wan_rewrite(sub: _Submit, prompt: str | None) -> str | None:
    """Wan's prompt_extend rewrite (on unless turned off)."""
    if not sub.flag("prompt_extend", True):
        return None
    return (prompt or "A scene brought to life from the reference.") + _EXTENSION


def _check_vidu(sub: _Submit) -> ResultSpec:
    mode, media = sub.rule.mode, sub.media()
    images = [url for kind, url in media if kind == "image"]
    videos = [url for kind, url in media if kind == "video"]
    if mode == "i2v" and (len(images) != 1 or videos):
        raise Rejection(f"{sub.model} takes exactly 1 image in input.media, got {len(media)} items.")
    if mode == "start-end" and (len(images) != 2 or videos):
        raise Rejection(f"{sub.model} takes exactly 2 images in input.media (first frame, then last frame).")
    if mode == "r2v":
        pro = "-pro" in sub.model
        most_images, most_videos = (4, 2) if pro else (7, 0)
        if not 1 <= len(images) <= most_images or len(videos) > most_videos:
            extra = f" and at most {most_videos} videos" if pro else " (no videos)"
            raise Rejection(f"{sub.model} takes 1 to {most_images} images{extra} in input.media.")
    prompt = sub.text("prompt", required=mode != "i2v", limit=5000)
    duration = sub.duration()
    resolution = sub.choice("resolution", sub.rule.resolutions, sub.rule.default_resolution)
    table = _VIDU_REFERENCE_SIZES if mode == "r2v" else _VIDU_SIZES
    size = sub.size()
    if size is None:
        if mode == "r2v":
            raise Rejection("Field required: parameters.size")
        size, tier = table[resolution]["16:9"], resolution
    else:
        tiers = [t for t, sizes in table.items() if size in sizes.values()]
        if not tiers:
            allowed = ", ".join(s for sizes in table.values() for s in sizes.values())
            raise Rejection(f"The size {size} is not supported by {sub.model}; use one of {allowed}.")
        tier = tiers[0]
    audio = sub.flag("audio", False)
    if audio and not sub.rule.audio:
        raise Rejection(f"parameters.audio is not supported by {sub.model}; only Vidu Q3 models generate audio.")
    return ResultSpec("vidu", duration, size, tier, audio, prompt, None)


def _check_kling(sub: _Submit) -> ResultSpec:
    media = sub.media()
    kinds = [kind for kind, _ in media]
    for single in ("first_frame", "last_frame", "base", "feature"):
        if kinds.count(single) > 1:
            raise Rejection(f"input.media may hold at most one {single}.")
    if "last_frame" in kinds and "first_frame" not in kinds:
        raise Rejection("A last_frame needs a first_frame in input.media.")
    if "base" in kinds and {"first_frame", "last_frame", "feature"} & set(kinds):
        raise Rejection("A base video (editing) cannot be combined with first_frame, last_frame or feature.")
    with_video = "base" in kinds or "feature" in kinds
    most_refer = 4 if with_video else 7
    if kinds.count("refer") > most_refer:
        raise Rejection(f"input.media may hold at most {most_refer} refer images here.")
    needs_prompt = not media and not sub.input.get("multi_prompt")
    prompt = sub.text("prompt", required=needs_prompt, limit=2500)
    duration = sub.duration(tuple(range(3, 11)) if with_video else None)
    mode = sub.choice("mode", list(_KLING_SIZES), "pro")
    tier, sizes = _KLING_SIZES[mode]
    ratio = sub.choice("aspect_ratio", list(sizes), "16:9")
    audio = sub.flag("audio", False)
    return ResultSpec("kling", duration, sizes[ratio], tier, audio, prompt, None)


def _check_wan(sub: _Submit) -> ResultSpec:
    rule = sub.rule
    if "audio_url" in sub.input and not rule.audio:
        raise Rejection(f"input.audio_url is not supported by {sub.model}; it makes silent videos.")
    shot_type = sub.params.get("shot_type")
    if shot_type is not None and shot_type not in ("single", "multi"):
        raise Rejection(f"The shot_type {shot_type!r} is invalid; use single or multi.")
    if rule.mode == "t2v":
        prompt = sub.text("prompt", required=True)
        sizes = {s: tier for tier in rule.resolutions for s in _WAN_SIZES[tier].values()}
        size = sub.size() or _WAN_SIZES[rule.default_resolution]["16:9"]
        if size not in sizes:
            raise Rejection(f"The size {size} is not supported by {sub.model}; use one of {', '.join(sizes)}.")
        tier = sizes[size]
    else:
        required = ("img_url",) if rule.mode == "i2v" else ("first_frame_url",)
        for name in required:
            if not sub.input.get(name):
                raise Rejection(f"Field required: input.{name}")
        prompt = sub.text("prompt", required=False)
        tier = sub.choice("resolution", rule.resolutions, rule.default_resolution)
        size = _WAN_SIZES[tier]["16:9"]
    duration = sub.duration()
    audio = sub.flag("audio", rule.audio)
    return ResultSpec("wan", duration, size, tier, audio, prompt, _wan_rewrite(sub, prompt))


def _check_wan27(sub: _Submit) -> ResultSpec:
    if "size" in sub.params:
        raise Rejection(f"parameters.size is not supported by {sub.model}; use resolution and ratio.")
    if sub.rule.mode == "i2v":
        if not sub.input.get("media"):
            raise Rejection("Field required: input.media")
        kinds = [kind for kind, _ in sub.media()]
        if len(set(kinds)) != len(kinds):
            raise Rejection("input.media must not repeat a media type.")
        allowed = [{"first_frame"}, {"first_frame", "last_frame"}, {"first_frame", "driving_audio"}, {"first_clip"}]
        if set(kinds) not in allowed:
            raise Rejection(
                "Unsupported media combination; use first_frame, first_frame+last_frame, "
                "first_frame+driving_audio, or first_clip."
            )
    prompt = sub.text("prompt", required=sub.rule.mode == "t2v", limit=5000)
    tier = sub.choice("resolution", sub.rule.resolutions, sub.rule.default_resolution)
    ratio = sub.choice("ratio", list(_WAN_SIZES[tier]), "16:9")
    duration = sub.duration()
    audio = sub.flag("audio", True)
    return ResultSpec("wan2.7", duration, _WAN_SIZES[tier][ratio], tier, audio, prompt, _wan_rewrite(sub, prompt))


_CHECKS = {"vidu": _check_vidu, "kling": _check_kling, "wan": _check_wan, "wan2.7": _check_wan27}


def check_submit(body: object, image2video_path: bool) -> ResultSpec:
    """Check a submit body like the service; return what the task will produce or raise ``Rejection``."""
    if not isinstance(body, dict):
        raise Rejection("The request body must be a JSON object.")
    model = body.get("model")
    if model is None or model == "":
        raise Rejection('Required parameter "model" missing from request.', code="BadRequest.EmptyModel")
    if not isinstance(model, str) or model not in MODELS:
        raise Rejection("Model not exist.")
    rule = MODELS[model]
    if (rule.mode == "kf2v") != image2video_path:
        where = "image2video" if rule.mode == "kf2v" else "video-generation"
        raise Rejection(f"Model {model} is served at /services/aigc/{where}/video-synthesis.")
    inp = body.get("input")
    if inp is None:
        raise Rejection('Required parameter "input" missing from request.', code="BadRequest.EmptyInput")
    params = body.get("parameters", {})
    if not isinstance(inp, dict) or not isinstance(params, dict):
        raise Rejection("input and parameters must be JSON objects.")
    sub = _Submit(model, rule, inp, params)
    _common(sub)
    return _CHECKS[rule.family](sub)


def oss_urls(value: object) -> list[str]:
    """Every ``oss://`` string anywhere in a JSON value (they need the resolve header)."""
    if isinstance(value, str):
        return [value] if value.startswith("oss://") else []
    if isinstance(value, dict):
        return [url for item in value.values() for url in oss_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in oss_urls(item)]
    return []
