"""The model catalog: one declarative table of every model and its documented rules.

Adding a model means adding a row to ``MODELS``; no other code branches on model names.
Rules come from the source documents (Vidu, Kling and Wan skill pages and the DashScope
API reference); ``uncertain`` on a row names the rules whose source is weak, so a reader
knows which limits to double-check against the live documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

VIDEO_SYNTHESIS = "/services/aigc/video-generation/video-synthesis"
IMAGE2VIDEO_SYNTHESIS = "/services/aigc/image2video/video-synthesis"

REGIONS = ("cn-beijing", "ap-southeast-1", "us-east-1")
BEIJING = ("cn-beijing",)
BEIJING_SINGAPORE = ("cn-beijing", "ap-southeast-1")
US_ONLY = ("us-east-1",)

# Media kinds a local or remote file can be, by extension.
IMAGE_TYPES = ("jpg", "jpeg", "png", "webp", "bmp")
VIDEO_TYPES = ("mp4", "mov", "avi")
AUDIO_TYPES = ("wav", "mp3")


def _sizes(**by_ratio: str) -> Mapping[str, str]:
    """A ratio -> ``W*H`` table; keyword names are ratios with ``_`` for ``:``."""
    return MappingProxyType({k.lstrip("_").replace("_", ":"): v for k, v in by_ratio.items()})


# Vidu: text-to-video and reference-to-video use different size tables (seed 000 / 001).
VIDU_T2V_SIZES = MappingProxyType({
    "540P": _sizes(_16_9="960*528", _9_16="528*960", _1_1="720*720", _4_3="816*608", _3_4="608*816"),
    "720P": _sizes(_16_9="1280*720", _9_16="720*1280", _1_1="960*960", _4_3="1104*816", _3_4="816*1104"),
    "1080P": _sizes(_16_9="1920*1080", _9_16="1080*1920", _1_1="1440*1440", _4_3="1674*1238", _3_4="1238*1674"),
})
VIDU_REF_SIZES = MappingProxyType({
    "540P": _sizes(_16_9="960*540", _9_16="540*960", _1_1="540*540", _4_3="720*540", _3_4="540*720"),
    "720P": _sizes(_16_9="1280*720", _9_16="720*1280", _1_1="720*720", _4_3="960*720", _3_4="720*960"),
    "1080P": _sizes(_16_9="1920*1080", _9_16="1080*1920", _1_1="1080*1080", _4_3="1440*1080", _3_4="1080*1440"),
})
# Wan legacy protocol (2.1-2.6) text-to-video sizes (API reference §12.1).
WAN_T2V_SIZES = MappingProxyType({
    "480P": _sizes(_16_9="832*480", _9_16="480*832", _1_1="624*624"),
    "720P": _sizes(_16_9="1280*720", _9_16="720*1280", _1_1="960*960", _4_3="1088*832", _3_4="832*1088"),
    "1080P": _sizes(_16_9="1920*1080", _9_16="1080*1920", _1_1="1440*1440", _4_3="1632*1248", _3_4="1248*1632"),
})


def _tiers(table: Mapping[str, Mapping[str, str]], *tiers: str) -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({t: table[t] for t in tiers})


@dataclass(frozen=True)
class MediaRule:
    """One allowed combination of media slots and how many of each (inclusive bounds)."""

    counts: Mapping[str, tuple[int, int]]
    label: str

    def accepts(self, given: Mapping[str, int]) -> bool:
        if any(n and slot not in self.counts for slot, n in given.items()):
            return False
        return all(lo <= given.get(slot, 0) <= hi for slot, (lo, hi) in self.counts.items())


def _combo(label: str, **counts: tuple[int, int] | int) -> MediaRule:
    return MediaRule(
        MappingProxyType({k: v if isinstance(v, tuple) else (v, v) for k, v in counts.items()}), label
    )


@dataclass(frozen=True)
class MediaLimits:
    """What a local input file may be (checked before upload; URLs are the service's to check)."""

    max_mb: float
    min_side: int | None = None  # pixels, images only
    max_side: int | None = None
    max_aspect: float | None = None  # longer side / shorter side, images only


@dataclass(frozen=True)
class ModelSpec:
    """Everything the request builder needs to know about one exact model name."""

    name: str
    magic: str  # which cell magic offers it: vidu, kling or wan
    mode: str  # t2v, i2v, start-end, reference, kf2v; Kling rows cover several
    protocol: str  # media (input.media[]), legacy (img_url/size), kf2v (first_frame_url)
    regions: tuple[str, ...]
    durations: tuple[int, int]  # inclusive range in seconds
    default_duration: int
    duration_choices: tuple[int, ...] = ()  # when only some values in the range are allowed
    resolutions: tuple[str, ...] = ()
    size_table: Mapping[str, Mapping[str, str]] | None = None  # resolution -> ratio -> W*H
    ratios: tuple[str, ...] = ()  # values for a ratio field (Kling aspect_ratio, Wan 2.7 ratio)
    ratio_field: str | None = None
    audio: str = "none"  # none | flag (parameters.audio) | dub (input.audio_url or automatic)
    prompt_max: int | None = None
    negative_max: int | None = None  # None: the model takes no negative prompt
    prompt_required: bool = False
    prompt_extend: bool = False
    media: tuple[MediaRule, ...] = ()  # allowed combinations; empty means no media
    media_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slot -> file types
    short: str | None = None  # short name within its magic (q3-pro, v3-omni ...)
    rank: int = 0  # higher is newer; the default for a mode is the highest ranked row
    endpoint: str = VIDEO_SYNTHESIS
    slots: Mapping[str, str] = field(default_factory=dict)  # what the user gave -> API media slot
    limits: Mapping[str, MediaLimits] = field(default_factory=dict)  # API media slot -> local file limits
    frame_pixel_ratio: tuple[float, float] | None = None  # first/last frame pixel-count ratio bounds
    storyboard: bool = False  # Kling multi_shot / Wan 2.6 shot_type
    fps: int | None = None
    uncertain: str = ""  # which rules rest on a weak source

    @property
    def has_media(self) -> bool:
        return bool(self.media)


VIDU_IMAGE = {"image": ("jpg", "jpeg", "png", "webp")}
VIDU_REF_MEDIA = {"image": ("jpg", "jpeg", "png", "webp"), "video": ("mp4", "avi", "mov")}
KLING_MEDIA = {
    "first_frame": ("jpg", "jpeg", "png"),
    "last_frame": ("jpg", "jpeg", "png"),
    "refer": ("jpg", "jpeg", "png"),
    "base": ("mp4", "mov"),
    "feature": ("mp4", "mov"),
}
WAN27_MEDIA = {
    "first_frame": ("jpg", "jpeg", "png", "bmp", "webp"),
    "last_frame": ("jpg", "jpeg", "png", "bmp", "webp"),
    "driving_audio": AUDIO_TYPES,
    "first_clip": ("mp4", "mov"),
}
WAN_LEGACY_I2V_MEDIA = {"img_url": ("jpg", "jpeg", "png", "bmp", "webp"), "audio_url": AUDIO_TYPES}
WAN_LEGACY_T2V_MEDIA = {"audio_url": AUDIO_TYPES}
WAN_KF2V_MEDIA = {"first_frame_url": ("jpg", "jpeg", "png", "bmp", "webp"), "last_frame_url": ("jpg", "jpeg", "png", "bmp", "webp")}

VIDU_LIMITS = {"image": MediaLimits(50, max_aspect=4.0), "video": MediaLimits(50)}  # seed 000
_KLING_IMAGE = MediaLimits(10, min_side=300, max_side=8000)  # seed 002
KLING_LIMITS = {"first_frame": _KLING_IMAGE, "last_frame": _KLING_IMAGE, "refer": _KLING_IMAGE,
                "base": MediaLimits(200), "feature": MediaLimits(200)}
_WAN27_IMAGE = MediaLimits(20, min_side=240, max_side=8000, max_aspect=8.0)  # seed 004
WAN27_LIMITS = {"first_frame": _WAN27_IMAGE, "last_frame": _WAN27_IMAGE, "driving_audio": MediaLimits(15),
                "first_clip": MediaLimits(100), "audio_url": MediaLimits(15)}
WAN_LEGACY_LIMITS = {"img_url": MediaLimits(10, min_side=360, max_side=2000), "audio_url": MediaLimits(15)}  # §12.2

# How what the user gives (first/last frame, reference image/video, a video, an audio track)
# lands in each protocol. A slot ending in ``_url`` is an ``input`` field; others are
# ``input.media[]`` entries with that ``type``.
VIDU_FRAME_SLOTS = {"first": "image", "last": "image"}
VIDU_REF_SLOTS = {"ref_image": "image", "ref_video": "video"}
KLING_STANDARD_SLOTS = {"first": "first_frame", "last": "last_frame"}
KLING_OMNI_SLOTS = {**KLING_STANDARD_SLOTS, "ref_image": "refer", "ref_video": "feature", "video": "base"}
WAN27_I2V_SLOTS = {"first": "first_frame", "last": "last_frame", "video": "first_clip", "audio": "driving_audio"}
WAN_LEGACY_I2V_SLOTS = {"first": "img_url", "audio": "audio_url"}
WAN_T2V_SLOTS = {"audio": "audio_url"}
WAN_KF2V_SLOTS = {"first": "first_frame_url", "last": "last_frame_url"}

KLING_STANDARD_COMBOS = (
    _combo("first_frame", first_frame=1),
    _combo("first_frame + last_frame", first_frame=1, last_frame=1),
)
KLING_OMNI_COMBOS = KLING_STANDARD_COMBOS + (
    _combo("feature (1 video)", feature=1),
    _combo("refer (1-7 images)", refer=(1, 7)),
    _combo("feature + refer (1 video + 1-4 images)", feature=1, refer=(1, 4)),
    _combo("feature + first_frame (1 video + 1 image)", feature=1, first_frame=1),
    _combo("base (1 video)", base=1),
    _combo("base + refer (1 video + 1-4 images)", base=1, refer=(1, 4)),
)
T2V_AUDIO_TRACK = (_combo("an audio track", audio_url=1),)
WAN27_I2V_COMBOS = (
    _combo("first_frame", first_frame=1),
    _combo("first_frame + last_frame", first_frame=1, last_frame=1),
    _combo("first_frame + driving_audio", first_frame=1, driving_audio=1),
    _combo("first_clip", first_clip=1),
)


def _vidu(tier: str, mode: str, suffix: str, **rules: object) -> ModelSpec:
    q3 = tier.startswith("q3")
    base: dict[str, object] = dict(
        name=f"vidu/vidu{tier}_{suffix}",
        magic="vidu",
        mode=mode,
        protocol="media",
        regions=BEIJING,
        durations=(1, 16) if q3 else (1, 10),
        default_duration=5,
        resolutions=("540P", "720P", "1080P"),
        audio="flag" if q3 else "none",
        prompt_max=5000,
        prompt_required=mode != "i2v",
        short=tier,
        rank=3 if q3 else 2,
        fps=24,
        media_types=VIDU_IMAGE,
        limits=VIDU_LIMITS,
        frame_pixel_ratio=(0.8, 1.25) if mode == "start-end" else None,
    )
    base.update(rules)
    return ModelSpec(**base)  # type: ignore[arg-type]


def _kling(name: str, short: str, media: tuple[MediaRule, ...], slots: Mapping[str, str], rank: int) -> ModelSpec:
    """Kling v3 rows differ only in the media they take (the omni model adds references and editing)."""
    return ModelSpec(
        name=name, magic="kling", mode="kling", protocol="media", regions=BEIJING, durations=(3, 15),
        default_duration=5, resolutions=("720P", "1080P"), ratios=("16:9", "9:16", "1:1"),
        ratio_field="aspect_ratio", audio="flag", prompt_max=2500, negative_max=2500, media=media,
        media_types=KLING_MEDIA, slots=slots, limits=KLING_LIMITS, short=short, rank=rank, storyboard=True,
        uncertain="negative prompt limit (not documented; assumed as the prompt's)",
    )


def _wan_legacy(name: str, mode: str, **rules: object) -> ModelSpec:
    base: dict[str, object] = dict(
        name=name,
        magic="wan",
        mode=mode,
        protocol="legacy",
        regions=BEIJING_SINGAPORE,
        durations=(5, 5),
        default_duration=5,
        negative_max=500,
        prompt_required=mode == "t2v",
        prompt_extend=True,
        media_types=WAN_LEGACY_T2V_MEDIA if mode == "t2v" else WAN_LEGACY_I2V_MEDIA,
        slots=WAN_T2V_SLOTS if mode == "t2v" else WAN_LEGACY_I2V_SLOTS,
        limits=WAN_LEGACY_LIMITS,
    )
    base.update(rules)
    return ModelSpec(**base)  # type: ignore[arg-type]


_WAN26_COMMON: dict[str, object] = dict(
    durations=(2, 15),
    audio="dub",
    prompt_max=2000,
    storyboard=True,
    fps=30,
    uncertain="prompt limit (1500 or 2000 in the sources; the service truncates rather than rejects)",
)

MODELS: tuple[ModelSpec, ...] = (
    # ---- Vidu (Beijing; seeds 000 and 001) ----
    _vidu("q3-pro", "t2v", "text2video", size_table=VIDU_T2V_SIZES),
    _vidu("q3-turbo", "t2v", "text2video", size_table=VIDU_T2V_SIZES, rank=4),
    _vidu("q2", "t2v", "text2video", size_table=VIDU_T2V_SIZES),
    _vidu("q3-pro", "i2v", "img2video", slots=VIDU_FRAME_SLOTS, media=(_combo("1 image", image=1),)),
    _vidu("q3-turbo", "i2v", "img2video", slots=VIDU_FRAME_SLOTS, media=(_combo("1 image", image=1),), rank=4),
    _vidu("q2-pro", "i2v", "img2video", slots=VIDU_FRAME_SLOTS, media=(_combo("1 image", image=1),), resolutions=("720P", "1080P")),
    _vidu("q2-turbo", "i2v", "img2video", slots=VIDU_FRAME_SLOTS, media=(_combo("1 image", image=1),), resolutions=("720P", "1080P")),
    _vidu("q3-pro", "start-end", "start-end2video", slots=VIDU_FRAME_SLOTS, media=(_combo("2 images (first, last)", image=2),)),
    _vidu("q3-turbo", "start-end", "start-end2video", slots=VIDU_FRAME_SLOTS, media=(_combo("2 images (first, last)", image=2),), rank=4),
    _vidu("q2-pro", "start-end", "start-end2video", slots=VIDU_FRAME_SLOTS, media=(_combo("2 images (first, last)", image=2),)),
    _vidu("q2-turbo", "start-end", "start-end2video", slots=VIDU_FRAME_SLOTS, media=(_combo("2 images (first, last)", image=2),)),
    _vidu("q2", "reference", "reference2video", size_table=VIDU_REF_SIZES, slots=VIDU_REF_SLOTS,
          media=(_combo("1-7 images", image=(1, 7)),)),
    _vidu("q2-pro", "reference", "reference2video", size_table=VIDU_REF_SIZES, rank=3, slots=VIDU_REF_SLOTS,
          media=(_combo("1-4 images + 0-2 videos", image=(1, 4), video=(0, 2)),), media_types=VIDU_REF_MEDIA),
    # ---- Kling v3 (Beijing; seed 002) ----
    _kling("kling/kling-v3-video-generation", "v3", KLING_STANDARD_COMBOS, KLING_STANDARD_SLOTS, rank=1),
    _kling("kling/kling-v3-omni-video-generation", "v3-omni", KLING_OMNI_COMBOS, KLING_OMNI_SLOTS, rank=0),
    # ---- Wan 2.7, new protocol (Beijing and Singapore; seed 004, API reference §12.5) ----
    ModelSpec(
        name="wan2.7-i2v", magic="wan", mode="i2v", protocol="media", regions=BEIJING_SINGAPORE,
        durations=(2, 15), default_duration=5, resolutions=("720P", "1080P"), prompt_max=5000,
        negative_max=500, prompt_extend=True, media=WAN27_I2V_COMBOS, media_types=WAN27_MEDIA, slots=WAN27_I2V_SLOTS, rank=27,
        limits=WAN27_LIMITS,
    ),
    ModelSpec(
        name="wan2.7-t2v", magic="wan", mode="t2v", protocol="media", regions=BEIJING_SINGAPORE,
        durations=(2, 15), default_duration=5, resolutions=("720P", "1080P"),
        ratios=("16:9", "9:16", "1:1", "4:3", "3:4"), ratio_field="ratio", audio="dub", prompt_max=5000,
        negative_max=500, prompt_required=True, prompt_extend=True, media_types=WAN_LEGACY_T2V_MEDIA, rank=27,
        media=T2V_AUDIO_TRACK,
        slots=WAN_T2V_SLOTS, limits=WAN27_LIMITS,
        uncertain="from the official text-to-video page (Jun 2026), not the seeds",
    ),
    # ---- Wan 2.1-2.6, legacy protocol (seed 003, API reference §12.1-12.3) ----
    _wan_legacy("wan2.6-t2v", "t2v", resolutions=("720P", "1080P"),
                size_table=_tiers(WAN_T2V_SIZES, "720P", "1080P"), rank=26, media=T2V_AUDIO_TRACK,
                **_WAN26_COMMON),
    _wan_legacy("wan2.6-t2v-us", "t2v", regions=US_ONLY, resolutions=("720P", "1080P"),
                size_table=_tiers(WAN_T2V_SIZES, "720P", "1080P"), rank=26, media=T2V_AUDIO_TRACK,
                **_WAN26_COMMON),
    _wan_legacy("wan2.5-t2v-preview", "t2v", durations=(5, 10), duration_choices=(5, 10),
                resolutions=("480P", "720P", "1080P"), size_table=WAN_T2V_SIZES, audio="dub", prompt_max=2000,
                rank=25, fps=24, media=T2V_AUDIO_TRACK),
    _wan_legacy("wan2.2-t2v-plus", "t2v", resolutions=("480P", "1080P"),
                size_table=_tiers(WAN_T2V_SIZES, "480P", "1080P"), prompt_max=800, rank=22, fps=30),
    _wan_legacy("wan2.2-t2v-flash", "t2v", resolutions=("480P", "1080P"),
                size_table=_tiers(WAN_T2V_SIZES, "480P", "1080P"), prompt_max=800, rank=21, fps=30,
                uncertain="named in the seeds only; rules assumed as wan2.2-t2v-plus"),
    _wan_legacy("wanx2.1-t2v-turbo", "t2v", resolutions=("480P", "720P"),
                size_table=_tiers(WAN_T2V_SIZES, "480P", "720P"), prompt_max=800, rank=20, fps=30),
    _wan_legacy("wanx2.1-t2v-plus", "t2v", resolutions=("720P",),
                size_table=_tiers(WAN_T2V_SIZES, "720P"), prompt_max=800, rank=19, fps=30),
    _wan_legacy("wan2.6-i2v", "i2v", resolutions=("720P", "1080P"), rank=26,
                media=(_combo("1 image", img_url=1), _combo("1 image + audio", img_url=1, audio_url=1)),
                **_WAN26_COMMON),
    _wan_legacy("wan2.6-i2v-flash", "i2v", resolutions=("720P", "1080P"), rank=25,
                media=(_combo("1 image", img_url=1), _combo("1 image + audio", img_url=1, audio_url=1)),
                **{**_WAN26_COMMON, "audio": "flag"}),
    _wan_legacy("wan2.6-i2v-us", "i2v", regions=US_ONLY, resolutions=("720P", "1080P"), rank=26,
                media=(_combo("1 image", img_url=1), _combo("1 image + audio", img_url=1, audio_url=1)),
                **_WAN26_COMMON),
    _wan_legacy("wan2.2-kf2v-flash", "kf2v", protocol="kf2v", endpoint=IMAGE2VIDEO_SYNTHESIS,
                resolutions=("480P", "720P", "1080P"), prompt_max=800, rank=22, media_types=WAN_KF2V_MEDIA, slots=WAN_KF2V_SLOTS,
                media=(_combo("first + last frame", first_frame_url=1, last_frame_url=1),),
                uncertain="from the official kf2v page, not the seeds"),
    _wan_legacy("wanx2.1-kf2v-plus", "kf2v", protocol="kf2v", endpoint=IMAGE2VIDEO_SYNTHESIS,
                resolutions=("720P",), prompt_max=800, rank=20, media_types=WAN_KF2V_MEDIA, slots=WAN_KF2V_SLOTS,
                media=(_combo("first + last frame", first_frame_url=1, last_frame_url=1),),
                uncertain="from the official kf2v page, not the seeds"),
)

BY_NAME: Mapping[str, ModelSpec] = MappingProxyType({m.name: m for m in MODELS})
MAGICS = ("vidu", "kling", "wan")


def models_for(magic: str) -> tuple[ModelSpec, ...]:
    return tuple(m for m in MODELS if m.magic == magic)
