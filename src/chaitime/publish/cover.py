"""Cover art: read a JPEG or PNG's size and colour model (no imaging library needed), and draw
the placeholder cover `chaitime init` gives a new show (3000x3000 RGB PNG with its title)."""

from __future__ import annotations

import struct
import textwrap
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..fsutil import write_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLACEHOLDER_PX = 3000
BACKGROUND = (92, 52, 32)  # a strong-tea brown
INK = (246, 232, 205)  # milk
# PNG colour types (PNG spec, IHDR): 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
PNG_MODES = {0: "grayscale", 2: "RGB", 3: "palette", 4: "grayscale+alpha", 6: "RGBA"}
JPEG_MODES = {1: "grayscale", 3: "RGB", 4: "CMYK"}


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png" or "jpeg"
    width: int
    height: int
    mode: str  # "RGB", "RGBA", "grayscale", "palette", "CMYK", ...

    @property
    def mime(self) -> str:
        return f"image/{self.format}"


def image_info(path: Path) -> ImageInfo:
    """Format, size and colour model of a PNG or JPEG, read from its header."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: cover art missing. Put a square 1400-3000 px PNG or JPEG there, or fix [show] image.") from exc
    if data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR":
        width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
        return ImageInfo("png", width, height, PNG_MODES.get(colour, f"type {colour}"))
    if data.startswith(b"\xff\xd8"):
        return _jpeg_info(path, data)
    raise InputError(f"{path}: cover art is not a PNG or JPEG. Export it as PNG or JPEG (RGB).")


def _jpeg_info(path: Path, data: bytes) -> ImageInfo:
    """Walk JPEG segments to the first start-of-frame marker (SOF0-SOF15 except DHT/JPG/DAC)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width, components = struct.unpack(">HHB", data[i + 5 : i + 10])
            return ImageInfo("jpeg", width, height, JPEG_MODES.get(components, f"{components} components"))
        i += 2 + length
    raise InputError(f"{path}: JPEG without a readable frame header. Export the cover again as PNG or JPEG.")


# --- Placeholder cover --------------------------------------------------------------------------

def make_placeholder_cover(path: Path, title: str) -> Path:
    """Write a 3000x3000 RGB PNG showing ``title``: valid artwork until the host replaces it."""
    lines = _title_lines(title)
    rows = _render_rows(lines, PLACEHOLDER_PX)
    write_bytes(Path(path), encode_png(PLACEHOLDER_PX, PLACEHOLDER_PX, rows))
    return Path(path)


def is_placeholder_cover(path: Path) -> bool:
    """Whether ``path`` is still the cover make_placeholder_cover drew: a 3000x3000 RGB PNG whose
    first row is the plain tea-brown background (no real artwork starts so). Reads one row."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    if not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return False
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if (width, height, depth, colour) != (PLACEHOLDER_PX, PLACEHOLDER_PX, 8, 2):
        return False
    at, idat = 8, b""
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    row = b"\x00" + bytes(BACKGROUND) * PLACEHOLDER_PX
    try:
        first = zlib.decompressobj().decompress(idat, len(row))
    except zlib.error:
        return False
    return first == row


def text_canvas(width: int, height: int, texts: list[tuple[str, tuple[int, int, int, int], int]]) -> bytes:
    """A ``width`` x ``height`` RGB PNG on the placeholder's background with each text in the bitmap
    font, as large as fits its box (x, y, w, h) in at most its number of lines, centred in the box."""
    rows = [bytearray(bytes(BACKGROUND) * width) for _ in range(height)]
    for text, (x0, y0, w, h), max_lines in texts:
        plain = " ".join(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper().split())
        if not plain:
            continue
        best: tuple[bool, int, list[str]] | None = None
        for chars in range(8, 61):
            lines = textwrap.wrap(plain, width=chars, break_long_words=True)
            whole = len(lines) <= max_lines
            if not whole:
                lines = lines[:max_lines]
                lines[-1] = lines[-1][: max(1, chars - 3)].rstrip() + "..."
            scale = min(w // (max(len(line) for line in lines) * 6), h // (len(lines) * 9))
            score = (whole and scale >= 4, scale, lines)  # the whole text while it reads, else the largest
            if best is None or score[:2] > best[:2]:
                best = score
        _, scale, lines = best
        if scale < 1:
            continue
        top = y0 + (h - (len(lines) * 9 - 2) * scale) // 2
        ink = bytes(INK) * scale
        for n, line in enumerate(lines):
            left = x0 + (w - (len(line) * 6 - 1) * scale) // 2
            for gy in range(7):
                for i, ch in enumerate(line):
                    bits = FONT.get(ch, FONT["?"] if ch != " " else FONT[" "])[gy]
                    for gx, bit in enumerate(bits):
                        if bit == "#":
                            x = left + (i * 6 + gx) * scale
                            for y in range(top + (n * 9 + gy) * scale, top + (n * 9 + gy + 1) * scale):
                                rows[y][x * 3 : (x + scale) * 3] = ink
    return encode_png(width, height, [bytes(r) for r in rows])


def _title_lines(title: str) -> list[str]:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    text = " ".join(ascii_title.upper().split()) or "PODCAST"
    return textwrap.wrap(text, width=12, break_long_words=True)[:5]


def _render_rows(lines: list[str], size: int) -> list[bytes]:
    """Raw RGB rows: background, the title centred in the bitmap font, a band under it."""
    longest = max(len(line) for line in lines)
    scale = max(4, min(int(size * 0.84) // (longest * 6), int(size * 0.6) // (len(lines) * 9)))
    blank = bytes(BACKGROUND) * size
    rows = [blank] * size
    top = (size - len(lines) * 9 * scale) // 2
    for n, line in enumerate(lines):
        for gy in range(7):
            row = _glyph_row(line, gy, scale, size, blank)
            start = top + (n * 9 + gy) * scale
            rows[start : start + scale] = [row] * scale
    band = bytearray(blank)
    band[size // 3 * 3 : size * 2 // 3 * 3] = bytes(INK) * (size * 2 // 3 - size // 3)
    band_top = top + len(lines) * 9 * scale + scale
    rows[band_top : band_top + scale] = [bytes(band)] * min(scale, size - band_top)
    return rows


def _glyph_row(line: str, gy: int, scale: int, size: int, blank: bytes) -> bytes:
    row = bytearray(blank)
    left = (size - (len(line) * 6 - 1) * scale) // 2
    ink = bytes(INK) * scale
    for i, ch in enumerate(line):
        bits = FONT.get(ch, FONT["?"] if ch != " " else FONT[" "])[gy]
        for gx, bit in enumerate(bits):
            if bit == "#":
                x = left + (i * 6 + gx) * scale
                row[x * 3 : (x + scale) * 3] = ink
    return bytes(row)


def encode_png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG (colour type 2) from raw rows, each filtered with filter type 0."""
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_MAGIC + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


# A 5x7 bitmap font: enough for titles (letters, digits, common punctuation).
FONT: dict[str, tuple[str, ...]] = {
    " ": (".....",) * 7,
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    "!": ("..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    "&": (".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"),
}
