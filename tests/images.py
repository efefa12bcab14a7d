"""Real image files for tests, written by hand so no image library is needed."""

from __future__ import annotations

import struct
import zlib


def png_bytes(width: int = 1, height: int = 1, note: bytes = b"") -> bytes:
    """A valid black RGB PNG of this size; ``note`` (a tEXt chunk) makes files differ by content."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00" * 3 * width for _ in range(height)))
    text = chunk(b"tEXt", b"Comment\x00" + note) if note else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
