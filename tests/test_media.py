"""Image sizes from headers, and the local-file limits the source documents set per model."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from aliyun_video_magics.cell import parse_cell
from aliyun_video_magics.emulator import CLIPS_DIR
from aliyun_video_magics.errors import VideoUsageError
from aliyun_video_magics.media import image_size
from aliyun_video_magics.request import build_request
from images import png_bytes


def jpeg_bytes(width: int, height: int) -> bytes:
    """SOI, an APP0 segment to walk past, then a baseline SOF0 holding the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp_vp8x_bytes(width: int, height: int) -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (
        height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def bmp_bytes(width: int, height: int) -> bytes:
    return b"BM" + b"\x00" * 16 + struct.pack("<ii", width, -height) + b"\x00" * 28


@pytest.mark.parametrize(("name", "data", "size"), [
    ("a.png", png_bytes(640, 360), (640, 360)),
    ("a.jpg", jpeg_bytes(1280, 720), (1280, 720)),
    ("a.webp", webp_vp8x_bytes(300, 900), (300, 900)),
    ("a.bmp", bmp_bytes(500, 250), (500, 250)),
    ("a.png", b"not an image at all", None),
])
def test_image_size_reads_headers(tmp_path: Path, name: str, data: bytes, size: tuple[int, int] | None) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert image_size(path) == size


def test_the_shipped_sample_image_is_read() -> None:
    assert image_size(CLIPS_DIR / "sample.png") == (400, 400)


def _build(tmp_path: Path, magic: str, line: str, files: dict[str, bytes]) -> object:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return build_request(magic, parse_cell(line.format(d=tmp_path), "a prompt"))


@pytest.mark.parametrize(("magic", "line", "files", "message"), [
    ("kling", "--image {d}/small.png", {"small.png": png_bytes(200, 200)}, "sides of 300 to 8000 px"),
    ("vidu", "--image {d}/thin.png", {"thin.png": png_bytes(100, 500)}, "aspect ratios from 1:4 to 4:1"),
    ("wan", "--image {d}/tiny.png", {"tiny.png": png_bytes(100, 100)}, "sides of 240 to 8000 px"),
    ("wan", "--model wan2.6-i2v --image {d}/big.png", {"big.png": png_bytes(2400, 1200)}, "sides of 360 to 2000 px"),
    ("vidu", "--image {d}/a.png --image {d}/b.png", {"a.png": png_bytes(400, 400), "b.png": png_bytes(400, 600)},
     "pixel-count ratio between 0.8 and 1.25 (it is 0.67)"),
    ("vidu", "--image {d}/fake.png", {"fake.png": b"\x89PNG but not really"}, "is not a readable PNG image"),
])
def test_local_files_outside_the_documented_limits_are_refused(tmp_path: Path, magic: str, line: str,
                                                              files: dict[str, bytes], message: str) -> None:
    with pytest.raises(VideoUsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _build(tmp_path, magic, line, files)


def test_a_file_over_the_size_limit_is_refused_before_upload(tmp_path: Path) -> None:
    big = tmp_path / "speech.wav"
    with open(big, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)  # 16 MB, sparse
    with pytest.raises(VideoUsageError, match=r"16.0 MB; wan2.7-i2v takes at most 15 MB for driving_audio"):
        _build(tmp_path, "wan", "--image {d}/face.png --driving-audio {d}/speech.wav", {"face.png": png_bytes(400, 400)})


def test_files_within_the_limits_pass(tmp_path: Path) -> None:
    request = _build(tmp_path, "vidu", "--image {d}/a.png --image {d}/b.png",
                     {"a.png": png_bytes(400, 400), "b.png": png_bytes(420, 400)})
    assert request.model.name == "vidu/viduq3-turbo_start-end2video"  # type: ignore[attr-defined]
