"""Make the emulator's result clips and sample inputs (run once; the outputs are committed).

The emulator answers every successful task with one of these clips, chosen by the
request's aspect ratio, so a rehearsal shows a real, playable video without any model.
They must play in Chromium: H.264 baseline, yuv420p, moov atom first (``+faststart``).
``sample.png`` and ``sample.wav`` are small valid local inputs for demos and tests
(400 px meets Kling's 300 px minimum; 3 s meets Wan's 3 s audio minimum).

Deterministic: same PyAV/x264 versions give the same bytes (one encoder thread).

    python -m aliyun_video_magics.emulator.make_clips
"""

from __future__ import annotations

import math
import struct
import wave
import zlib
from pathlib import Path

import av

from aliyun_video_magics.emulator.media import CLIP_SIZES, CLIPS_DIR, clip_name

FPS = 24
SECONDS = 2


def _plane_bytes(rows: list[bytes], line_size: int) -> bytes:
    """Pad each row to the plane's line size, as ``VideoPlane.update`` expects."""
    return b"".join(row.ljust(line_size, b"\0") for row in rows)


def _frame(width: int, height: int, index: int) -> av.VideoFrame:
    """One yuv420p frame: scrolling diagonal stripes, a drifting hue and a bouncing square."""
    frame = av.VideoFrame(width, height, "yuv420p")
    shift = index * 4
    box = max(16, min(width, height) // 5)
    span_x, span_y = width - box, height - box
    bx = abs((index * 7) % (2 * span_x) - span_x)
    by = abs((index * 5) % (2 * span_y) - span_y)
    luma: list[bytes] = []
    for y in range(height):
        inside_y = by <= y < by + box
        luma.append(
            bytes(
                235 if inside_y and bx <= x < bx + box else 60 + ((x + y + shift) // 12 % 2) * 70
                for x in range(width)
            )
        )
    cw, ch = width // 2, height // 2
    u_rows = [bytes((96 + (x * 128 // cw) + index) % 256 for x in range(cw)) for _ in range(ch)]
    v_rows = [bytes((160 - (y * 96 // ch) + 2 * index) % 256 for _ in range(cw)) for y in range(ch)]
    for plane, rows in zip(frame.planes, (luma, u_rows, v_rows), strict=True):
        plane.update(_plane_bytes(rows, plane.line_size))
    return frame


def make_clip(path: Path, width: int, height: int) -> None:
    """Encode one 2 s, 24 fps H.264 clip that browsers play inline."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(
            "libx264",
            rate=FPS,
            options={"profile": "baseline", "preset": "medium", "crf": "30", "threads": "1"},
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(FPS * SECONDS):
            for packet in stream.encode(_frame(width, height, index)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_png(path: Path, size: int = 400) -> None:
    """A size x size RGB gradient PNG (no alpha: Wan rejects transparency)."""
    rows = b""
    for y in range(size):
        raw = bytes(c for x in range(size) for c in (x * 255 // size, y * 255 // size, 160))
        # Filter type 1 ("Sub": each byte minus the one a pixel left) makes a gradient tiny.
        rows += b"\1" + bytes((raw[i] - (raw[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(raw)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def make_wav(path: Path, seconds: float = 3.0, rate: int = 16000, hz: float = 440.0) -> None:
    """A 16 kHz mono 16-bit sine tone."""
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * n / rate)))
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)


def main() -> None:
    """Write every clip and sample into ``clips/``."""
    CLIPS_DIR.mkdir(exist_ok=True)
    for ratio, (width, height) in CLIP_SIZES.items():
        make_clip(CLIPS_DIR / clip_name(ratio), width, height)
    make_png(CLIPS_DIR / "sample.png")
    make_wav(CLIPS_DIR / "sample.wav")
    for path in sorted(CLIPS_DIR.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
