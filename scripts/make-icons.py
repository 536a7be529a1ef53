#!/usr/bin/env python3
"""Draws the app icons (server/public/icons/*.png) with nothing but the standard library.

The mark: three stacked, offset snapshot "sheets" on the accent blue. `icon-maskable-512.png` keeps
the mark inside the centre 80 % (the safe zone of maskable icons). Run it after changing the design:
    scripts/make-icons.py
"""
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "server" / "public" / "icons"
BG = (11, 92, 173)       # --accent
SHEET = (255, 255, 255)
EDGE = (191, 214, 240)


def png(path, size, pixels):
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path.write_bytes(data)


def draw(size, scale):
    """scale: the fraction of the icon the mark may use (1.0 = all, 0.8 = maskable safe zone)."""
    px = [[BG for _ in range(size)] for _ in range(size)]
    margin = size * (1 - scale) / 2
    unit = size * scale / 10
    # Three sheets, back to front, each offset up-left by one unit.
    for i, colour in enumerate([EDGE, EDGE, SHEET]):
        x0 = margin + unit * (1.5 + (2 - i))
        y0 = margin + unit * (1.5 + (2 - i))
        x1, y1 = x0 + unit * 5, y0 + unit * 5
        for y in range(int(y0), int(y1)):
            for x in range(int(x0), int(x1)):
                edge = x < x0 + unit * 0.35 or x > x1 - unit * 0.35 - 1 or y < y0 + unit * 0.35 or y > y1 - unit * 0.35 - 1
                px[y][x] = BG if (edge and i < 2) else colour
    # Lines of "text" on the front sheet.
    x0 = margin + unit * 2.3
    for k in range(3):
        y = margin + unit * (2.6 + k * 1.2)
        for yy in range(int(y), int(y + unit * 0.45)):
            for xx in range(int(x0), int(x0 + unit * (3.4 - k * 0.8))):
                px[yy][xx] = BG
    return px


OUT.mkdir(parents=True, exist_ok=True)
for size in (192, 512):
    png(OUT / f"icon-{size}.png", size, draw(size, 1.0))
png(OUT / "icon-maskable-512.png", 512, draw(512, 0.8))
png(OUT / "apple-touch-icon.png", 180, draw(180, 0.9))
print("icons written to", OUT)
