"""Draw the toolbar icons (PNG, no dependencies): python3 tools/make_icons.py

A red rounded square (arXiv's red) holding a white page and its paler mirror image.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

RED = (179, 27, 27)
WHITE = (255, 255, 255)
PALE = (236, 170, 170)


def _inside_rounded(x: float, y: float, size: int, radius: float) -> bool:
    cx = min(max(x, radius), size - radius)
    cy = min(max(y, radius), size - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def pixel(x: int, y: int, size: int) -> tuple[int, int, int, int]:
    u, v = (x + 0.5) / size, (y + 0.5) / size
    if not _inside_rounded(x + 0.5, y + 0.5, size, size * 0.18):
        return (0, 0, 0, 0)
    # The page (left) and its reflection (right), separated by a gap.
    if 0.16 <= v <= 0.84:
        if 0.14 <= u <= 0.46:
            lines = 0.3 <= v <= 0.76 and 0.2 <= u <= 0.4 and int(v * size / max(size / 10, 1)) % 2
            return (*(RED if lines and size >= 32 else WHITE), 255)
        if 0.54 <= u <= 0.86:
            return (*PALE, 255)
    return (*RED, 255)


def png(size: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "icons"
    out.mkdir(exist_ok=True)
    for size in (16, 32, 48, 128):
        (out / f"icon-{size}.png").write_bytes(png(size))


if __name__ == "__main__":
    main()
