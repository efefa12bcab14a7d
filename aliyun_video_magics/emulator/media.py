"""Where the result clips and sample inputs live, and which clip answers which ratio.

Standard library only: the server reads the committed files; ``make_clips.py`` (PyAV)
writes them from the same table.
"""

from __future__ import annotations

from pathlib import Path

CLIPS_DIR = Path(__file__).resolve().parent / "clips"

#: aspect ratio -> (width, height) of its clip; even sizes, as yuv420p requires.
CLIP_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (320, 180),
    "9:16": (180, 320),
    "1:1": (240, 240),
    "4:3": (320, 240),
    "3:4": (240, 320),
}
DEFAULT_RATIO = "16:9"


def clip_name(ratio: str) -> str:
    """File name of the clip for an aspect ratio, e.g. ``clip_16x9.mp4``."""
    return "clip_" + ratio.replace(":", "x") + ".mp4"


def load_clips() -> dict[str, bytes]:
    """Every clip's bytes by aspect ratio (each well under 100 KB, so kept in memory)."""
    return {ratio: (CLIPS_DIR / clip_name(ratio)).read_bytes() for ratio in CLIP_SIZES}
