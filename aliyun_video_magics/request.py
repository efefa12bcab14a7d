"""Options + catalog -> a validated request -> the exact payload the service expects.

Every documented rule is checked here, before anything is sent, so a wrong request is
never billed. Each failure is one ``VideoUsageError`` naming the option, the value and what
is allowed. The rules themselves live in ``catalog.MODELS``; this module only reads them.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import catalog
from .catalog import MediaLimits, ModelSpec
from .cell import ParsedCell
from .errors import VideoUsageError
from .media import image_size

SEED_MAX = 2147483647
MAX_SHOTS = 6  # Kling storyboard; third-party docs say up to 6 shots (uncertain)
KLING_MODE_BY_RESOLUTION = {"720P": "std", "1080P": "pro"}
VIDEO_REF_MAX_SECONDS = 10  # Kling: 3-10 s when a reference or base video is given

# What the user gave, in payload order, with the option that gives it (for messages).
INPUT_ORDER = ("first", "last", "ref_image", "ref_video", "video", "audio")
INPUT_OPTION = {
    "first": "--image/--first-frame",
    "last": "--last-frame (or a second --image)",
    "ref_image": "--ref (image)",
    "ref_video": "--ref (video)",
    "video": "--video",
    "audio": "--driving-audio",
}


@dataclass(frozen=True)
class MediaInput:
    """One input file or URL and where it goes."""

    role: str  # one of INPUT_ORDER
    source: str  # as the user wrote it
    option: str  # the option that gave it, for messages

    @property
    def is_local(self) -> bool:
        return not self.source.startswith(("http://", "https://", "oss://"))

    @property
    def extension(self) -> str:
        tail = self.source.split("?", 1)[0].rsplit("/", 1)[-1]
        return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


@dataclass
class VideoRequest:
    """A validated request: the exact model, the payload, and what to upload first.

    ``payload`` holds local paths where URLs will go; ``payload_with`` swaps in the
    uploaded ``oss://`` URLs. Nothing here holds or shows the API key.
    """

    magic: str
    model: ModelSpec
    region: str
    prompt: str
    payload: dict[str, Any]
    media: list[MediaInput] = field(default_factory=list)
    dry_run: bool = False
    force: bool = False
    out: str | None = None
    timeout: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def endpoint_path(self) -> str:
        return self.model.endpoint

    @property
    def local_files(self) -> list[str]:
        return [m.source for m in self.media if m.is_local]

    @property
    def duration(self) -> int:
        """Requested seconds (the model's default when unset): the billing estimate."""
        return int(self.payload.get("parameters", {}).get("duration", self.model.default_duration))

    @property
    def resolution(self) -> str | None:
        params = self.payload.get("parameters", {})
        if "resolution" in params:
            return str(params["resolution"])
        if "mode" in params:
            return {v: k for k, v in KLING_MODE_BY_RESOLUTION.items()}[params["mode"]]
        return None

    def payload_with(self, urls: Mapping[str, str]) -> dict[str, Any]:
        """The payload with each local path replaced by its uploaded URL."""
        return _replace_strings(self.payload, urls)

    def canonical(self) -> dict[str, Any]:
        """The request as a cache key: local files by content hash, defaults filled, keys sorted."""
        hashed = {path: "sha256:" + file_sha256(path) for path in self.local_files}
        payload = _replace_strings(self.payload, hashed)
        payload.setdefault("parameters", {}).setdefault("duration", self.model.default_duration)
        return {"region": self.region, "endpoint": self.endpoint_path, "payload": payload}

    def request_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replace_strings(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace_strings(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, mapping) for v in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


def _fail(message: str) -> VideoUsageError:
    return VideoUsageError(message)


def _one_of(values: Iterable[str]) -> str:
    values = list(values)
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else "".join(values)


# ---------------------------------------------------------------------------------------
# Inputs: which files and URLs the user gave, in which role


def _collect_media(options: Mapping[str, Any]) -> list[MediaInput]:
    images: list[str] = list(options.get("image", []))
    first, last = options.get("first-frame"), options.get("last-frame")
    if first is not None and images:
        raise _fail("--first-frame and --image both set the first frame; use one of them")
    if len(images) > 2:
        raise _fail(f"--image is given {len(images)} times; at most 2 (first frame, then last frame). "
                    "Use --ref for reference images")
    if len(images) == 2:
        if last is not None:
            raise _fail("--last-frame and a second --image both set the last frame; use one of them")
        first, last = images
    elif images:
        first = images[0]
    if last is not None and first is None:
        raise _fail("--last-frame needs a first frame too (--first-frame or --image)")
    media: list[MediaInput] = []
    if first is not None:
        media.append(MediaInput("first", first, "--first-frame" if "first-frame" in options else "--image"))
    if last is not None:
        media.append(MediaInput("last", last, "--last-frame" if "last-frame" in options else "--image"))
    for ref in options.get("ref", []):
        probe = MediaInput("ref_image", ref, "--ref")
        role = "ref_video" if probe.extension in catalog.VIDEO_TYPES else "ref_image"
        media.append(MediaInput(role, ref, "--ref"))
    if options.get("video") is not None:
        media.append(MediaInput("video", options["video"], "--video"))
    if options.get("driving-audio") is not None:
        media.append(MediaInput("audio", options["driving-audio"], "--driving-audio"))
    return [_checked_source(item) for item in media]


def _checked_source(item: MediaInput) -> MediaInput:
    """A local path must be an existing file; ``~`` is expanded once, here, for every later use."""
    if not item.is_local:
        return item
    problem = "no such file"
    try:
        path = Path(item.source).expanduser()
        if path.is_file():
            return MediaInput(item.role, str(path), item.option)
    except (OSError, RuntimeError) as exc:  # unknown ~user, a name too long for the file system
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a usable path"
    raise _fail(f"{item.option} {item.source!r}: {problem}. Give a local file, an http(s) URL or an oss:// URL")


def _roles(media: Iterable[MediaInput]) -> set[str]:
    return {m.role for m in media}


# ---------------------------------------------------------------------------------------
# Which model: the exact name meant, inferred from what the user gave


def _wanted_mode(magic: str, roles: set[str]) -> str:
    """The mode a magic's default model must serve, given the inputs."""
    if magic == "vidu":
        if roles & {"ref_image", "ref_video"}:
            return "reference"
        if "last" in roles:
            return "start-end"
        return "i2v" if "first" in roles else "t2v"
    if magic == "kling":
        return "kling"
    return "i2v" if roles & {"first", "last", "video"} else "t2v"


def _fits(model: ModelSpec, mode: str, roles: set[str], region: str) -> bool:
    return model.mode == mode and region in model.regions and roles <= set(model.slots)


def _names(models: Iterable[ModelSpec]) -> str:
    return ", ".join(m.name for m in models)


def resolve_model(magic: str, name: str | None, media: list[MediaInput], region: str,
                  default: str | None = None) -> tuple[ModelSpec, list[str]]:
    """The exact catalog row meant by ``--model`` (exact, short or absent) for these inputs."""
    roles = _roles(media)
    mode = _wanted_mode(magic, roles)
    own = catalog.models_for(magic)
    notes: list[str] = []
    if name is None and default:
        try:
            return resolve_model(magic, default, media, region)[0], [f"model from the {magic} default setting"]
        except VideoUsageError:
            notes.append(f"the configured default {default!r} does not fit this cell; chose automatically")
    if name is None:
        candidates = [m for m in own if _fits(m, mode, roles, region)]
        elsewhere = sorted({r for m in own if m.mode == mode for r in m.regions})
        if not candidates and region not in elsewhere and elsewhere:
            raise _fail(f"--region {region}: {magic} {mode} models are available in {_one_of(elsewhere)} only")
        if not candidates:
            raise _fail(f"no {magic} model takes {_describe_roles(roles) or 'text only'} in region {region}; "
                        f"models: {_names(own)}")
        return max(candidates, key=lambda m: m.rank), notes
    exact = catalog.BY_NAME.get(name)
    if exact is not None:
        if exact.magic != magic:
            raise _fail(f"--model {name}: that is a {exact.magic} model; use %%{exact.magic}")
        return exact, notes
    short = [m for m in own if m.short == name]
    if not short:
        shorts = sorted({m.short for m in own if m.short})
        allowed = f"{_names(own)}" + (f"; short forms: {', '.join(shorts)}" if shorts else "")
        raise _fail(f"--model {name!r} is not a {magic} model. Valid: {allowed}")
    for model in short:
        if model.mode == mode or magic == "kling":
            return model, notes
    raise _fail(f"--model {name}: there is no {name} model for {mode} ({_describe_roles(roles) or 'text only'}); "
                f"{mode} models: {_names(m for m in own if m.mode == mode)}")


def _describe_roles(roles: set[str]) -> str:
    return " + ".join(INPUT_OPTION[r] for r in INPUT_ORDER if r in roles)


# ---------------------------------------------------------------------------------------
# Rules


def _check_media(model: ModelSpec, media: list[MediaInput]) -> dict[str, int]:
    roles = _roles(media)
    extra = roles - set(model.slots)
    if extra:
        role = next(r for r in INPUT_ORDER if r in extra)
        hint = ""
        if model.magic == "kling" and role in ("ref_image", "ref_video", "video"):
            hint = "; references and video editing need --model v3-omni"
        elif model.magic == "vidu" and role in ("ref_image", "ref_video"):
            hint = "; references need a _reference2video model"
        raise _fail(f"{INPUT_OPTION[role]} is not accepted by {model.name}{hint}")
    counts: dict[str, int] = {}
    for item in media:
        slot = model.slots[item.role]
        counts[slot] = counts.get(slot, 0) + 1
        allowed = model.media_types.get(slot, ())
        if item.extension and allowed and item.extension not in allowed:
            raise _fail(f"{item.option} {item.source!r}: {model.name} takes {_one_of(allowed)} files for {slot}")
        if item.is_local and not item.extension:
            raise _fail(f"{item.option} {item.source!r}: cannot tell the file type; "
                        f"{model.name} takes {_one_of(allowed)} for {slot}")
        if item.is_local and slot in model.limits:
            _check_local_file(model, item, slot, model.limits[slot])
    _check_frame_pair(model, media)
    if not counts and model.mode in ("t2v", "kling"):
        return counts
    if not any(rule.accepts(counts) for rule in model.media):
        given = ", ".join(f"{n} {slot}" for slot, n in counts.items()) or "no media"
        allowed = "; ".join(rule.label for rule in model.media) or "no input media"
        raise _fail(f"{model.name} got {given}; it takes {allowed}")
    return counts


def _check_local_file(model: ModelSpec, item: MediaInput, slot: str, limits: MediaLimits) -> None:
    """File size, and for images pixel sides and aspect ratio, as the source documents limit them."""
    megabytes = os.path.getsize(item.source) / (1024 * 1024)
    if megabytes > limits.max_mb:
        raise _fail(f"{item.option} {item.source!r} is {megabytes:.1f} MB; {model.name} takes at most "
                    f"{limits.max_mb:g} MB for {slot}")
    if item.extension not in catalog.IMAGE_TYPES:
        return
    size = image_size(item.source)
    if size is None:
        raise _fail(f"{item.option} {item.source!r} is not a readable {item.extension.upper()} image")
    width, height = size
    short_side, long_side = sorted(size)
    if limits.min_side and short_side < limits.min_side or limits.max_side and long_side > limits.max_side:
        raise _fail(f"{item.option} {item.source!r} is {width}x{height} px; {model.name} takes sides of "
                    f"{limits.min_side or 1} to {limits.max_side or 'any'} px")
    if limits.max_aspect and long_side / max(short_side, 1) > limits.max_aspect:
        raise _fail(f"{item.option} {item.source!r} is {width}x{height} px; {model.name} takes aspect ratios "
                    f"from 1:{limits.max_aspect:g} to {limits.max_aspect:g}:1")


def _check_frame_pair(model: ModelSpec, media: list[MediaInput]) -> None:
    """Vidu start-end: the first and last frame's pixel counts must be close (ratio 0.8-1.25)."""
    frames = {m.role: m for m in media if m.role in ("first", "last") and m.is_local}
    if model.frame_pixel_ratio is None or len(frames) < 2:
        return
    sizes = [image_size(frames[role].source) for role in ("first", "last")]
    if None in sizes:
        return
    (w1, h1), (w2, h2) = sizes  # type: ignore[misc]
    ratio = (w1 * h1) / max(w2 * h2, 1)
    low, high = model.frame_pixel_ratio
    if not low <= ratio <= high:
        raise _fail(f"the first frame ({w1}x{h1}) and last frame ({w2}x{h2}) differ too much in size: "
                    f"{model.name} needs their pixel-count ratio between {low:g} and {high:g} (it is {ratio:.2f})")


def _check_range(option: str, value: int, lo: int, hi: int, model: ModelSpec, unit: str = "") -> None:
    if not lo <= value <= hi:
        allowed = f"{lo}{unit}" if lo == hi else f"{lo} to {hi}{unit}"
        raise _fail(f"--{option} {value}: {model.name} allows {allowed}")


def _check_text(option: str, text: str, limit: int | None, model: ModelSpec) -> None:
    if limit is not None and len(text) > limit:
        raise _fail(f"{option} is {len(text)} characters; {model.name} allows at most {limit}")


def _resolve_size(model: ModelSpec, options: Mapping[str, Any], resolution: str | None,
                  needed: bool) -> str | None:
    """The ``size`` parameter from --size, or --resolution + --ratio via the model's tier table."""
    table = model.size_table
    assert table is not None
    size, ratio = options.get("size"), options.get("ratio")
    if size is not None:
        if ratio is not None:
            raise _fail("--size and --ratio both set the shape; use one of them")
        tiers = [resolution] if resolution else list(table)
        for tier in tiers:
            if size in table[tier].values():
                return size
        where = f"the {resolution} tier" if resolution else "its tiers"
        allowed = ", ".join(v for t in tiers for v in table[t].values())
        raise _fail(f"--size {size}: {model.name} allows, in {where}: {allowed}")
    if ratio is None and not needed:
        return None
    tier = resolution or ("720P" if "720P" in table else list(table)[-1])
    ratio = ratio or "16:9"
    if ratio not in table[tier]:
        raise _fail(f"--ratio {ratio}: {model.name} at {tier} allows {_one_of(table[tier])}")
    return table[tier][ratio]


def _storyboard(model: ModelSpec, parsed: ParsedCell, options: Mapping[str, Any],
                duration: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Storyboard fields: Kling ``input.multi_shot/shot_type/multi_prompt``, Wan 2.6 ``shot_type``."""
    multi = bool(options.get("multi-shot")) or bool(parsed.shots)
    shot_type = options.get("shot-type")
    if not (multi or shot_type or options.get("shot-durations")):
        return {}, {}
    if not model.storyboard:
        raise _fail(f"storyboards (--multi-shot, --shot-type, --- shots) are not supported by {model.name}; "
                    "they are for Kling v3 and Wan 2.6")
    if model.magic == "wan":
        if parsed.shots:
            raise _fail(f"{model.name} writes all shots in one prompt; remove the --- lines "
                        "(Wan plans the shots itself with --shot-type multi)")
        shot_type = shot_type or "multi"
        if shot_type not in ("single", "multi"):
            raise _fail(f"--shot-type {shot_type}: {model.name} allows single or multi")
        if options.get("prompt-extend") is False:
            raise _fail(f"--shot-type {shot_type} works only with prompt rewriting; remove --no-prompt-extend")
        return {}, {"shot_type": shot_type}
    shot_type = shot_type or ("customize" if parsed.shots else None)
    if shot_type not in ("intelligence", "customize"):
        raise _fail(f"--shot-type {shot_type}: Kling allows intelligence or customize"
                    if shot_type else "--multi-shot needs --shot-type intelligence or customize "
                    "(customize takes the shots separated by --- lines)")
    fields: dict[str, Any] = {"multi_shot": True, "shot_type": shot_type}
    if shot_type == "intelligence":
        if not parsed.prompt:
            raise _fail("--shot-type intelligence needs a prompt: Kling splits it into shots itself")
        if parsed.shots:
            raise _fail("--shot-type intelligence splits one prompt by itself; remove the --- lines "
                        "or use --shot-type customize")
        return fields, {}
    shots = parsed.shots
    if len(shots) < 2 or any(not s for s in shots):
        raise _fail("--shot-type customize needs at least 2 non-empty shots separated by lines holding only ---")
    if len(shots) > MAX_SHOTS:
        raise _fail(f"{len(shots)} shots given; Kling allows at most {MAX_SHOTS}")
    total = duration or model.default_duration
    fields["multi_prompt"] = [
        {"index": i + 1, "prompt": text, "duration": seconds}
        for i, (text, seconds) in enumerate(zip(shots, _shot_seconds(options, len(shots), total, model)))
    ]
    return fields, {}


def _shot_seconds(options: Mapping[str, Any], count: int, total: int, model: ModelSpec) -> list[int]:
    raw = options.get("shot-durations")
    if raw is None:
        if total < count:
            raise _fail(f"{count} shots need at least {count} seconds; --duration is {total}")
        return [total // count + (1 if i < total % count else 0) for i in range(count)]
    try:
        seconds = [int(part) for part in str(raw).split(",")]
    except ValueError:
        raise _fail(f"--shot-durations {raw!r}: write whole seconds separated by commas, e.g. 3,4,3") from None
    if len(seconds) != count or min(seconds) < 1 or sum(seconds) != total:
        raise _fail(f"--shot-durations {raw}: give {count} positive numbers adding up to the duration ({total} s)")
    return seconds


def build_request(magic: str, parsed: ParsedCell, *, region: str = "cn-beijing",
                  default_model: str | None = None) -> VideoRequest:
    """Resolve the model, check every rule, and build the payload for one cell."""
    options = dict(parsed.options)
    region = options.get("region", region)
    if region not in catalog.REGIONS:
        raise _fail(f"--region {region}: allowed {_one_of(catalog.REGIONS)}")
    media = _collect_media(options)
    model, notes = resolve_model(magic, options.get("model"), media, region, default_model)
    if region not in model.regions:
        raise _fail(f"{model.name} is available in {_one_of(model.regions)} only, not {region} "
                    f"(--region {model.regions[0]})")
    _check_media(model, media)

    prompt = parsed.prompt
    has_media = bool(media)
    if not prompt and not parsed.shots and (model.prompt_required or not has_media):
        raise _fail(f"{model.name} needs a prompt: write it in the cell body below the options")
    _check_text("the prompt", prompt, model.prompt_max, model)
    negative = options.get("negative")
    if negative is not None:
        if model.negative_max is None:
            raise _fail(f"--negative is not supported by {model.name}")
        _check_text("--negative", negative, model.negative_max, model)

    params: dict[str, Any] = {}
    duration = options.get("duration")
    if duration is not None:
        lo, hi = model.durations
        if model.magic == "kling" and _roles(media) & {"ref_video", "video"}:
            hi = VIDEO_REF_MAX_SECONDS
        _check_range("duration", duration, lo, hi, model, " seconds")
        if model.duration_choices and duration not in model.duration_choices:
            raise _fail(f"--duration {duration}: {model.name} allows "
                        f"{_one_of(str(d) for d in model.duration_choices)} seconds")

    resolution = options.get("resolution")
    if resolution is not None and resolution not in model.resolutions:
        raise _fail(f"--resolution {resolution}: {model.name} allows {_one_of(model.resolutions)}")
    if model.magic == "kling":
        kling_mode = options.get("mode")
        if kling_mode is not None and kling_mode not in ("std", "pro"):
            raise _fail(f"--mode {kling_mode}: Kling allows std (720P) or pro (1080P)")
        if resolution is not None:
            implied = KLING_MODE_BY_RESOLUTION[resolution]
            if kling_mode is not None and kling_mode != implied:
                raise _fail(f"--resolution {resolution} means --mode {implied}, but --mode {kling_mode} is given")
            kling_mode = implied
        if kling_mode is not None:
            params["mode"] = kling_mode
    else:
        if options.get("mode") is not None:
            raise _fail(f"--mode is Kling's quality setting; {model.name} uses --resolution "
                        f"({_one_of(model.resolutions)})")
        if resolution is not None and model.size_table is None:
            params["resolution"] = resolution

    if model.size_table is not None:
        needed = model.mode == "reference" or (model.protocol == "legacy" and resolution is not None)
        size = _resolve_size(model, options, resolution, needed=needed)
        if resolution is not None and model.protocol == "media":
            params["resolution"] = resolution
        if size is not None:
            params["size"] = size
    elif model.ratio_field is not None:
        if options.get("size") is not None:
            raise _fail(f"--size is not supported by {model.name}; use --ratio ({_one_of(model.ratios)})")
        ratio = options.get("ratio")
        if ratio is not None and ratio not in model.ratios:
            raise _fail(f"--ratio {ratio}: {model.name} allows {_one_of(model.ratios)}")
        if model.magic == "kling" and ratio is not None and _roles(media) & {"first", "video"}:
            raise _fail("--ratio is not used with a first frame or a base video; the output follows the input")
        if ratio is None and model.magic == "kling" and not _roles(media) & {"first", "video"}:
            ratio = "16:9"  # required by Kling for text-to-video and references
        if ratio is not None:
            params[model.ratio_field] = ratio
    else:
        for option in ("size", "ratio"):
            if options.get(option) is not None:
                raise _fail(f"--{option} is not supported by {model.name}: the output shape follows the input image")

    if duration is not None:
        params["duration"] = duration

    audio = options.get("audio")
    if audio is not None:
        if model.audio == "none":
            raise _fail(f"--{'audio' if audio else 'no-audio'}: {model.name} makes silent video only"
                        + (" (audio is a Vidu Q3 feature)" if model.magic == "vidu" else ""))
        if model.audio == "flag":
            params["audio"] = audio
        elif audio is False:
            raise _fail(f"--no-audio: {model.name} always adds sound (automatic dubbing); "
                        "wan2.6-i2v-flash can make silent video")
    if options.get("watermark") is not None:
        params["watermark"] = options["watermark"]
    seed = options.get("seed")
    if seed is not None:
        if model.magic == "kling":
            raise _fail("--seed is not supported by Kling")
        _check_range("seed", seed, 0, SEED_MAX, model)
        params["seed"] = seed
    if options.get("prompt-extend") is not None:
        if not model.prompt_extend:
            raise _fail(f"--prompt-extend is a Wan setting; {model.name} has no prompt rewriting")
        params["prompt_extend"] = options["prompt-extend"]

    story_input, story_params = _storyboard(model, parsed, options, duration)
    params.update(story_params)

    input_fields: dict[str, Any] = {}
    if prompt and not story_input.get("multi_prompt"):
        input_fields["prompt"] = prompt
    if negative is not None:
        input_fields["negative_prompt"] = negative
    entries = [{"type": model.slots[m.role], "url": m.source} for m in media
               if not model.slots[m.role].endswith("_url")]
    for m in media:
        if model.slots[m.role].endswith("_url"):
            input_fields[model.slots[m.role]] = m.source
    if entries:
        input_fields["media"] = entries
    input_fields.update(story_input)
    sound = options.get("keep-original-sound")
    if sound is not None:
        if "video" not in _roles(media) and "ref_video" not in _roles(media) or model.magic != "kling":
            raise _fail("--keep-original-sound applies to Kling omni with a --video or video --ref")
        input_fields["keep_original_sound"] = "yes" if sound else "no"

    payload: dict[str, Any] = {"model": model.name, "input": input_fields}
    if params:
        payload["parameters"] = params
    out = options.get("out")
    if out is not None and (not out.isidentifier() or keyword.iskeyword(out)):
        raise _fail(f"-o {out!r}: give a Python variable name, e.g. -o clip")
    if options.get("timeout") is not None and options["timeout"] <= 0:
        raise _fail(f"--timeout {options['timeout']}: give a number of seconds above 0")
    return VideoRequest(
        magic=magic, model=model, region=region, prompt=prompt, payload=payload, media=media,
        dry_run=bool(options.get("dry-run")), force=bool(options.get("force")), out=out,
        timeout=options.get("timeout"), notes=notes,
    )
