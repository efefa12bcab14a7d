"""The finished video as an object: what a cell returns and what ``-o NAME`` stores.

Its rich display is the player plus a compact metadata table. The video is embedded
(base64) when small enough, so a saved or shared notebook plays anywhere after the
service's 24-hour URL has expired; otherwise the player points at the local file by a
path relative to the notebook, and says so.
"""

from __future__ import annotations

import base64
import html
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_EMBED_MAX_MB = 20.0


@dataclass
class VideoResult:
    """One generated video: where it is, what made it, and what it cost."""

    path: Path
    task_id: str
    model: str
    status: str
    prompt: str
    usage: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)  # the payload sent (no key in it)
    url: str | None = None  # the service's signed URL; expires about 24 h after the task
    actual_prompt: str | None = None  # Wan's rewritten prompt
    evidence_path: Path | None = None
    region: str = ""
    submitted_at: float | None = None
    finished_at: float | None = None
    wall_seconds: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    cached_from: float | None = None  # set when shown again from the journal, with its date
    embed_max_mb: float = DEFAULT_EMBED_MAX_MB

    @property
    def billable_seconds(self) -> float | None:
        value = self.usage.get("duration", self.usage.get("video_duration"))
        return float(value) if value is not None else None

    def metadata_rows(self) -> list[tuple[str, str]]:
        """The table beside the player; only what is known."""
        usage = self.usage
        rows: list[tuple[str, Any]] = [
            ("model", self.model),
            ("task id", self.task_id),
            ("status", self.status + (f" (cached result from {_date(self.cached_from)})" if self.cached_from else "")),
            ("duration", _seconds(usage.get("output_video_duration", usage.get("video_duration",
                                                                               usage.get("duration"))))),
            ("size", usage.get("size") or self.request.get("parameters", {}).get("size")),
            ("resolution", usage.get("SR") and f"{usage['SR']}".rstrip("Pp") + "P"),
            ("ratio", usage.get("ratio") or usage.get("video_ratio")),
            ("fps", usage.get("fps")),
            ("audio", None if usage.get("audio") is None else ("yes" if usage["audio"] else "no")),
            ("billable seconds", _seconds(self.billable_seconds)),
            ("wall time", _seconds(self.wall_seconds)),
            ("file", self.relative_path()),
            ("prompt", self.prompt),
            ("rewritten prompt", self.actual_prompt),
        ]
        return [(name, str(value)) for name, value in rows if value not in (None, "")]

    def relative_path(self) -> str:
        try:
            return os.path.relpath(self.path)
        except ValueError:  # another drive on Windows
            return str(self.path)

    def embeds(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size <= self.embed_max_mb * 1024 * 1024

    def _player_html(self) -> str:
        if not self.path.is_file():
            return f"<p><b>The video file is missing:</b> {html.escape(str(self.path))}</p>"
        if self.embeds():
            data = base64.b64encode(self.path.read_bytes()).decode("ascii")
            source = f"data:video/mp4;base64,{data}"
            note = ""
        else:
            source = html.escape(self.relative_path().replace(os.sep, "/"))
            note = (f"<div style='font-size:smaller'>Not embedded (larger than embed_max_mb = {self.embed_max_mb:g} MB): "
                    f"the player reads {source}, relative to the notebook.</div>")
        return (f"<video controls playsinline style='max-width:100%;max-height:480px' "
                f"src='{source}'></video>{note}")

    def _table_html(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
            f"<td style='text-align:left;white-space:pre-wrap'>{html.escape(v)}</td></tr>"
            for k, v in self.metadata_rows()
        )
        return f"<table class='aliyun-video-meta'>{rows}</table>"

    def _repr_html_(self) -> str:
        return (f"<div class='aliyun-video-result' style='display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start'>"
                f"<div>{self._player_html()}</div><div>{self._table_html()}</div></div>")

    def _repr_markdown_(self) -> str:
        lines = ["| | |", "|---|---|"] + [f"| {k} | {v.replace('|', '/')} |" for k, v in self.metadata_rows()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"VideoResult(task_id={self.task_id!r}, model={self.model!r}, status={self.status!r}, "
                f"path={self.relative_path()!r})")

    def metadata(self) -> dict[str, Any]:
        """Provenance stored with the output in the notebook (never the key)."""
        return {"aliyun_video_magics": {
            "task_id": self.task_id, "model": self.model, "region": self.region, "usage": self.usage,
            "file": self.relative_path(), "sha256": self.sha256,
        }}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        data = {"text/html": self._repr_html_(), "text/markdown": self._repr_markdown_(), "text/plain": repr(self)}
        return data, self.metadata()


def _seconds(value: Any) -> str | None:
    if value is None:
        return None
    number = float(value)
    return f"{number:.0f} s" if number == int(number) or number >= 10 else f"{number:.1f} s"


def _date(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp or 0))
