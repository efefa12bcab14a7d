"""Cell text -> options + prompt. Pure: no IPython, no network.

The magic line and the option lines at the top of the body use one syntax, ``--name value``
with shell-style quoting. The first body line that does not start with ``--`` begins the
prompt, which is kept verbatim (a prompt line that must start with ``--`` is written
``\\--``). A line holding only ``---`` separates storyboard shots. Where options end is
never guessed.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass, field
from typing import Any

from .errors import VideoUsageError

SHOT_SEPARATOR = "---"


@dataclass(frozen=True)
class OptionSpec:
    """One option of the vocabulary: how it is written and what kind of value it takes."""

    name: str
    kind: str  # value | int | float | flag | bool (takes --no-NAME) | list (repeatable)
    help: str
    aliases: tuple[str, ...] = ()
    metavar: str = ""


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("model", "value", "exact catalog name or short form (q3-pro, v3-omni ...)", ("m",), "NAME"),
    OptionSpec("duration", "int", "video length in seconds", (), "N"),
    OptionSpec("resolution", "value", "480P, 540P, 720P or 1080P, as the model allows", (), "TIER"),
    OptionSpec("size", "value", "exact pixels W*H", (), "W*H"),
    OptionSpec("ratio", "value", "aspect ratio A:B (Kling aspect_ratio, Wan 2.7 ratio, Vidu size table)",
               ("aspect-ratio",), "A:B"),
    OptionSpec("mode", "value", "Kling quality: std (720P) or pro (1080P)", (), "std|pro"),
    OptionSpec("seed", "int", "0 to 2147483647", (), "N"),
    OptionSpec("audio", "bool", "generate an audio track (--no-audio: silent)"),
    OptionSpec("watermark", "bool", "add the 'AI generated' watermark"),
    OptionSpec("negative", "value", "negative prompt", ("negative-prompt",), "TEXT"),
    OptionSpec("prompt-extend", "bool", "Wan prompt rewriting (on by default)"),
    OptionSpec("image", "list", "input image; the first is the first frame, a second the last frame",
               ("img-url", "img"), "X"),
    OptionSpec("first-frame", "value", "explicit first frame image", ("first-frame-url",), "X"),
    OptionSpec("last-frame", "value", "explicit last frame image", ("last-frame-url",), "X"),
    OptionSpec("ref", "list", "reference image or video (by file type)", ("refer", "reference"), "X"),
    OptionSpec("video", "value", "video to edit or continue (Kling omni base, Wan 2.7 first_clip)",
               ("base", "first-clip"), "X"),
    OptionSpec("driving-audio", "value", "Wan 2.7 driving_audio; Wan 2.5/2.6 input.audio_url",
               ("audio-url",), "X"),
    OptionSpec("multi-shot", "flag", "storyboard: Kling multi_shot, Wan 2.6 shot_type multi"),
    OptionSpec("shot-type", "value", "Kling intelligence|customize (customize takes the --- shots); Wan single|multi",
               (), "T"),
    OptionSpec("shot-durations", "value", "seconds per --- shot, comma separated (default: split evenly)",
               (), "N,N,..."),
    OptionSpec("keep-original-sound", "bool", "Kling omni: keep the input video's sound"),
    OptionSpec("prompt", "value", "the prompt, when it is not written in the cell body", (), "TEXT"),
    OptionSpec("region", "value", "cn-beijing (default), ap-southeast-1 or us-east-1", (), "R"),
    OptionSpec("dry-run", "flag", "show the request (model, URL, headers, JSON, curl) and send nothing"),
    OptionSpec("force", "flag", "submit a new task even if this exact request already ran", ("new",)),
    OptionSpec("timeout", "float", "give up waiting after this many seconds (the task goes on)", (), "S"),
    OptionSpec("out", "value", "store the result object in this notebook variable", ("o",), "NAME"),
)

_BY_SPELLING: dict[str, OptionSpec] = {}
for _spec in OPTIONS:
    for _spelling in (_spec.name, *_spec.aliases):
        _BY_SPELLING[_spelling] = _spec
        _BY_SPELLING[_spelling.replace("-", "_")] = _spec


@dataclass
class ParsedCell:
    """What the user wrote, with option spellings normalised but nothing validated yet."""

    options: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    shots: list[str] = field(default_factory=list)  # storyboard shots, when --- lines are present


def _lookup(token: str) -> tuple[OptionSpec, bool]:
    """Find the spec for ``--name`` / ``-o`` / ``--no-name``; the bool says negated."""
    if token.startswith("--"):
        name = token[2:]
    elif len(token) == 2 and token[0] == "-" and token[1].isalpha():
        name = token[1]
    else:
        raise VideoUsageError(f"expected an option like --duration 5, got {token!r}")
    spec = _BY_SPELLING.get(name)
    if spec is not None:
        return spec, False
    for prefix in ("no-", "no_"):
        if name.startswith(prefix):
            spec = _BY_SPELLING.get(name[len(prefix):])
            if spec is not None and spec.kind == "bool":
                return spec, True
    close = difflib.get_close_matches(name, list(_BY_SPELLING), n=1, cutoff=0.6)
    hint = f"; did you mean --{close[0]}?" if close else "; see the magic's help (%%vidu?)"
    raise VideoUsageError(f"unknown option {token!r}{hint}")


def _is_option(token: str) -> bool:
    """A token that names a known option, so it cannot be the previous option's value."""
    if not token.startswith("-"):
        return False
    try:
        _lookup(token.split("=", 1)[0])
    except VideoUsageError:
        return False
    return True


def _convert(spec: OptionSpec, raw: str) -> Any:
    if spec.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise VideoUsageError(f"--{spec.name} takes a whole number, got {raw!r}") from None
    if spec.kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise VideoUsageError(f"--{spec.name} takes a number of seconds, got {raw!r}") from None
    return raw


def parse_options(tokens: list[str], into: dict[str, Any]) -> None:
    """Fold ``--name value`` tokens into ``into``; repeated single-value options are an error."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        inline: str | None = None
        if token.startswith("--") and "=" in token:
            token, inline = token.split("=", 1)
        spec, negated = _lookup(token)
        if spec.kind in ("flag", "bool"):
            value: Any = not negated
            if inline is not None:  # --prompt_extend=false, as the API field would be written
                if spec.kind != "bool" or negated or inline.lower() not in ("true", "false"):
                    raise VideoUsageError(f"--{spec.name} is a switch and takes no value (got {inline!r})")
                value = inline.lower() == "true"
            i += 1
        else:
            if inline is None:
                if i + 1 >= len(tokens) or _is_option(tokens[i + 1]):
                    raise VideoUsageError(f"--{spec.name} needs a value ({spec.metavar or 'VALUE'})")
                inline = tokens[i + 1]
                i += 2
            else:
                i += 1
            value = _convert(spec, inline)
        if spec.kind == "list":
            into.setdefault(spec.name, []).append(value)
        elif spec.name in into:
            raise VideoUsageError(f"--{spec.name} is given twice ({into[spec.name]!r} and {value!r})")
        else:
            into[spec.name] = value


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as exc:  # unbalanced quotes
        raise VideoUsageError(f"cannot read the options {text.strip()!r}: {exc}") from None


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\--") else line


def _body_lines(cell: str) -> list[str]:
    """Split on newlines only: other Unicode line breaks belong to the prompt, verbatim."""
    return [line[:-1] if line.endswith("\r") else line for line in cell.split("\n")]


def parse_cell(line: str, cell: str | None) -> ParsedCell:
    """Split a magic line and cell body into options, prompt and storyboard shots."""
    parsed = ParsedCell()
    parse_options(_split(line), parsed.options)
    lines = _body_lines(cell or "")
    start = 0
    while start < len(lines):
        stripped = lines[start].strip()
        if stripped == "":
            start += 1
        elif stripped.startswith("--") and stripped != SHOT_SEPARATOR:
            parse_options(_split(stripped), parsed.options)
            start += 1
        else:
            break
    body = lines[start:]
    if any(text.strip() == SHOT_SEPARATOR for text in body):
        shots: list[str] = []
        current: list[str] = []
        for text in body:
            if text.strip() == SHOT_SEPARATOR:
                shots.append("\n".join(current).strip())
                current = []
            else:
                current.append(_unescape(text))
        shots.append("\n".join(current).strip())
        parsed.shots = shots
        parsed.prompt = "\n".join(_unescape(t) for t in body if t.strip() != SHOT_SEPARATOR).strip()
    else:
        parsed.prompt = "\n".join(_unescape(t) for t in body).strip()
    prompt_option = parsed.options.pop("prompt", None)
    if prompt_option is not None:
        if parsed.prompt:
            raise VideoUsageError("the prompt is given twice: as --prompt and in the cell body; keep one")
        parsed.prompt = prompt_option
    return parsed


def options_from_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the Python API (``negative_prompt="blur"``) -> cell options."""
    tokens: list[str] = []
    for key, value in kwargs.items():
        spec, _ = _lookup("--" + key)
        if spec.kind == "bool" and value is not None:
            tokens.append(f"--{spec.name}" if value else f"--no-{spec.name}")
        elif spec.kind == "flag" and value:
            tokens.append(f"--{spec.name}")
        elif spec.kind not in ("flag", "bool"):
            for item in (value if isinstance(value, (list, tuple)) else [value]):
                tokens += [f"--{spec.name}", str(item)]
    options: dict[str, Any] = {}
    parse_options(tokens, options)
    return options


def usage_text(magic: str) -> str:
    """The option reference shown by ``%%vidu?`` and ``--help``."""
    rows = []
    for spec in OPTIONS:
        spelled = f"--{spec.name}" + (f" {spec.metavar}" if spec.metavar else "")
        if spec.kind == "bool":
            spelled = f"--{spec.name} / --no-{spec.name}"
        aliases = ", ".join(("-" if len(a) == 1 else "--") + a for a in spec.aliases)
        rows.append(f"  {spelled:<34} {spec.help}" + (f" (also {aliases})" if aliases else ""))
    return (
        f"%%{magic} [options]\n[--option lines]\nprompt...\n\n"
        "Options go on the magic line or on lines starting with -- at the top of the cell.\n"
        "API field names are accepted too, in snake_case or kebab-case (--aspect_ratio, --negative-prompt).\n"
        "The prompt is kept verbatim; write \\-- to start a prompt line with --. A line holding only ---\n"
        "separates storyboard shots.\n\n" + "\n".join(rows)
    )
