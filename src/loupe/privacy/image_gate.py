"""The image gate: what every imported image passes before any person sees it.

:func:`gate_image` takes the uploaded bytes and returns the bytes to serve:

1. **metadata**: the picture is decoded (:func:`~loupe.privacy.images.probe_image`
   first), turned upright by its EXIF orientation, converted to sRGB if it carries
   an ICC profile, and re-encoded in the same format from bare pixels, so no EXIF
   (GPS, serial numbers), XMP, IPTC, ICC profile or comment survives. Only the first
   frame of an animated PNG/WebP is kept, and transparency is flattened onto white (the
   detectors read colour only: text on a transparent background would pass unseen).
2. **faces** and **profiles**: OpenCV's frontal Haar cascade on a grey copy
   ``DETECT_WIDTH`` pixels wide, and its profile cascade on a copy ``PROFILE_WIDTH``
   wide and on its mirror image (the cascade knows faces turned one way only; the
   boxes are mirrored back); overlapping boxes are merged into their union.
3. **plates**: OpenCV's licence-plate cascade (trained on Russian plates: it finds
   many European plates, not all).
4. **text**: Tesseract reads the words and their boxes; each line is rebuilt and the
   text :class:`~loupe.privacy.Scanner` runs over it (also over a copy with digit
   groups joined, as OCR often splits a card number, and one with upper-case lines
   in title case, as on payment cards). Every word inside a detected span is
   pixelated, typed like the span (``CREDIT_CARD``, ``EMAIL``...). If the scan
   itself withholds (a detector failed), every word is pixelated (type ``TEXT``).

Every region found is replaced by a coarse mosaic. :attr:`GatedImage.missing`
names the checks that were asked for and could not run (``"text"`` without
Tesseract, or when it failed): the caller decides whether to withhold.

The gate is deterministic: no clock is read except Tesseract's ``OCR_TIMEOUT_S``,
a safety net for a hung process that fails closed (``"text"`` in ``missing``).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from loupe.privacy.images import (
    IMAGE_MIMES,
    MAX_PIXELS,
    Pixels,
    Region,
    _cascade,
    decode_image,
    to_srgb,
)

if TYPE_CHECKING:
    from loupe.privacy.scanner import Scanner

__all__ = [
    "DETECT_WIDTH",
    "PROFILE_WIDTH",
    "GatedImage",
    "find_faces",
    "gate_image",
    "merge_boxes",
    "ocr_available",
]

DETECT_WIDTH = 640
"""Faces and plates are looked for on a copy this wide (faces >= 48 px at 1280x720)."""
OCR_MAX_SIDE = 4096
"""Longer pictures are read by OCR on a copy scaled to this long side."""
OCR_TIMEOUT_S = 120
FACE_MARGIN, FACE_BLOCKS = 0.2, 6
TEXT_MARGIN = 0.3
PROFILE_WIDTH = 512
"""The slower profile cascade runs on a copy this wide (faces >= 60 px at 1280x720)."""


@dataclass(frozen=True, slots=True)
class _Cascade:
    file: str
    type: str
    neighbours: int  # more neighbours, fewer false alarms (and fewer faces)
    step: float  # scale step between the window sizes tried
    mirror: bool = False  # also look at the mirror image (and mirror the boxes back)


# Chosen on the bench set (bench/privacy/bench_image_gate.py): alt2 with 3 neighbours
# found more faces than the default cascade with 5 and no more false alarms; the
# profile cascade knows faces turned one way only, hence the mirror; its coarser step
# keeps the three passes within ~300 ms at 1280x720 on one core.
_FRONTAL = _Cascade("haarcascade_frontalface_alt2.xml", "FACE", 3, 1.1)
_PROFILE = _Cascade("haarcascade_profileface.xml", "FACE", 4, 1.2, mirror=True)
_PLATE = _Cascade("haarcascade_russian_plate_number.xml", "LICENSE_PLATE", 4, 1.1)


@dataclass(frozen=True, slots=True)
class GatedImage:
    """What :func:`gate_image` serves: bytes without metadata, every finding pixelated.

    ``regions`` are the pixelated boxes (grown by a margin, clipped to the picture);
    ``checks`` the detectors that ran; ``missing`` those asked for that could not run.
    """

    data: bytes
    mime: str
    width: int
    height: int
    regions: tuple[Region, ...]
    checks: tuple[str, ...]
    missing: tuple[str, ...]


def gate_image(
    data: bytes,
    *,
    scanner: Scanner | None = None,
    ocr: bool = True,
    plates: bool = True,
    max_pixels: int = MAX_PIXELS,
) -> GatedImage:
    """Strip metadata and pixelate faces, plates and personal text in a JPEG/PNG/WebP.

    Raises :class:`~loupe.errors.InvalidInput` for anything :func:`probe_image` refuses.

    >>> import io; from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (64, 48), "white").save(buf, "PNG")
    >>> gated = gate_image(buf.getvalue(), ocr=False)
    >>> gated.mime, gated.width, gated.height, gated.regions, gated.checks
    ('image/png', 64, 48, (), ('metadata', 'faces', 'profiles', 'plates'))
    """
    with decode_image(data, max_pixels=max_pixels) as src:
        fmt = str(src.format)
        pixels = _upright_pixels(src)
    rgb = pixels
    height, width = rgb.shape[:2]
    checks = ["metadata", "faces", "profiles"]
    missing: list[str] = []
    found = [_grow(r, FACE_MARGIN, width, height) for r in find_faces(rgb)]
    if plates:
        checks.append("plates")
        found += [_grow(r, FACE_MARGIN, width, height) for r in _detect(rgb, _PLATE, DETECT_WIDTH)]
    found = merge_boxes(found)
    text: list[Region] = []
    if ocr:
        read = _text_regions(rgb, scanner) if ocr_available() else None
        if read is None:
            missing.append("text")
        else:
            checks.append("text")
            text = read
    for region in found:
        _mosaic(pixels, region, FACE_BLOCKS, FACE_BLOCKS)
    for region in text:  # cells about as wide as the line is high: no glyph survives
        _mosaic(pixels, region, max(1, round(region.width / max(1, region.height))), 1)
    found += text
    return GatedImage(
        _encode(pixels, fmt),
        IMAGE_MIMES[fmt],
        width,
        height,
        tuple(found),
        tuple(checks),
        tuple(missing),
    )


@cache
def ocr_available() -> bool:
    """Whether Tesseract (binary, English data, and ``pytesseract``) can run; checked once."""
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract

        return "eng" in pytesseract.get_languages(config="")
    except Exception:
        return False


def find_faces(rgb: Pixels) -> list[Region]:
    """Frontal and profile faces (both ways) in an RGB picture, overlapping boxes merged."""
    return merge_boxes(_detect(rgb, _FRONTAL, DETECT_WIDTH) + _detect(rgb, _PROFILE, PROFILE_WIDTH))


def merge_boxes(regions: Sequence[Region], *, min_iou: float = 0.3) -> list[Region]:
    """Replace boxes of one type that overlap (IoU >= ``min_iou``, or one mostly inside
    the other) by their union, until none do. Sorted, so the result is deterministic."""
    boxes = sorted(regions, key=lambda r: (r.type, r.x, r.y, r.width, r.height))
    changed = True
    while changed:
        changed = False
        out: list[Region] = []
        for box in boxes:
            for i, kept in enumerate(out):
                if kept.type == box.type and _overlap(kept, box, min_iou):
                    out[i], changed = _union(kept, box), True
                    break
            else:
                out.append(box)
        boxes = out
    return sorted(boxes, key=lambda r: (r.y, r.x, r.type, r.width, r.height))


def _upright_pixels(src: Image.Image) -> Pixels:
    """RGB pixels, EXIF orientation applied, sRGB, transparency flattened onto white.

    The detectors read colour only, so what they read must be what a viewer sees: a PNG or
    WebP with an alpha channel is shown over whatever lies behind it, and text or a face
    drawn on a transparent background (often black or white under the alpha) is invisible
    to them yet plain on a page. Flattening it serves exactly the pixels that were checked.
    """
    upright = ImageOps.exif_transpose(src)
    alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    upright = to_srgb(upright, src.info.get("icc_profile"))
    if alpha and src.format != "JPEG":
        rgba = upright.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        upright = Image.alpha_composite(white, rgba)
    return np.array(upright.convert("RGB"), dtype=np.uint8)


def _encode(pixels: Pixels, fmt: str) -> bytes:
    """Re-encode bare pixels: a new image has no EXIF, XMP, ICC profile or comment."""
    if fmt == "PNG":
        # OpenCV's libpng with zlib's RLE strategy: about half the time of Pillow at level 3
        # (and a fifth of its default 6) at 1280x720, for a file no larger. No ancillary
        # chunks are written.
        order = cv2.COLOR_RGBA2BGRA if pixels.shape[-1] == 4 else cv2.COLOR_RGB2BGR
        ok, png = cv2.imencode(
            ".png",
            cv2.cvtColor(pixels, order),
            [
                cv2.IMWRITE_PNG_COMPRESSION,
                3,
                cv2.IMWRITE_PNG_STRATEGY,
                cv2.IMWRITE_PNG_STRATEGY_RLE,
            ],
        )
        if not ok:  # pragma: no cover - only on a broken OpenCV build
            raise RuntimeError("OpenCV could not encode a PNG")
        return bytes(png.tobytes())
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt, quality=90)
    return out.getvalue()


def _detect(rgb: Pixels, cascade: _Cascade, detect_width: int) -> list[Region]:
    """Boxes ``cascade`` finds on a grey copy ``detect_width`` wide, in ``rgb``'s pixels.

    No histogram equalisation: on whole scenes it lost faces on the bench set.
    """
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    scale = min(1.0, detect_width / grey.shape[1])
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    views = [(grey, False)]
    if cascade.mirror:
        views.append((np.ascontiguousarray(grey[:, ::-1]), True))
    found: list[Region] = []
    for view, mirrored in views:
        boxes = _cascade(cascade.file).detectMultiScale(
            view, scaleFactor=cascade.step, minNeighbors=cascade.neighbours, minSize=(24, 24)
        )
        for x, y, w, h in boxes:
            left = grey.shape[1] - int(x) - int(w) if mirrored else int(x)
            found.append(
                Region(
                    round(left / scale),
                    round(y / scale),
                    round(w / scale),
                    round(h / scale),
                    cascade.type,
                )
            )
    return found


def _overlap(a: Region, b: Region, min_iou: float) -> bool:
    w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return False
    inter = w * h
    small = min(a.width * a.height, b.width * b.height)
    union = a.width * a.height + b.width * b.height - inter
    return inter >= min_iou * union or inter >= 0.6 * small


def _union(a: Region, b: Region) -> Region:
    x, y = min(a.x, b.x), min(a.y, b.y)
    right = max(a.x + a.width, b.x + b.width)
    bottom = max(a.y + a.height, b.y + b.height)
    return Region(x, y, right - x, bottom - y, a.type)


def _grow(r: Region, margin: float, width: int, height: int) -> Region:
    """``r`` grown by ``margin`` of its size on every side (at least 2 px), clipped."""
    return _pad(r, max(2, round(r.width * margin)), max(2, round(r.height * margin)), width, height)


def _pad(r: Region, dx: int, dy: int, width: int, height: int) -> Region:
    x0, y0 = max(0, r.x - dx), max(0, r.y - dy)
    x1, y1 = min(width, r.x + r.width + dx), min(height, r.y + r.height + dy)
    return Region(x0, y0, max(0, x1 - x0), max(0, y1 - y0), r.type)


def _mosaic(pixels: Pixels, r: Region, cols: int, rows: int) -> None:
    """Replace ``r`` in place by ``cols`` x ``rows`` flat cells (each its mean colour)."""
    if r.width <= 0 or r.height <= 0:
        return
    patch = pixels[r.y : r.y + r.height, r.x : r.x + r.width]
    tiny = cv2.resize(
        patch, (min(cols, r.width), min(rows, r.height)), interpolation=cv2.INTER_AREA
    )
    big = cv2.resize(tiny, (r.width, r.height), interpolation=cv2.INTER_NEAREST)
    pixels[r.y : r.y + r.height, r.x : r.x + r.width] = big.reshape(patch.shape)


# --- text -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    box: Region
    line: int


@cache
def _default_scanner() -> Scanner:
    from loupe.privacy.scanner import Scanner

    return Scanner()


def _tesseract_tsv(grey: np.ndarray[Any, Any]) -> dict[str, list[str]] | None:
    """Tesseract's TSV of ``grey``, by column, or None if it failed.

    The picture goes in on stdin and the TSV comes back on stdout: no file is written.
    ``pytesseract`` would write both to the shared temporary directory, readable by every
    local account (0644) while Tesseract runs and left there if the process is killed:
    the picture before pixelation, and the personal text read from it.
    """
    import pytesseract

    encoded, png = cv2.imencode(".png", grey)
    if not encoded:
        return None
    # --psm 11: sparse text, as found in a photograph rather than on a page.
    command = [pytesseract.pytesseract.tesseract_cmd, "stdin", "stdout"]
    command += ["-l", "eng", "--psm", "11", "-c", "tessedit_create_tsv=1"]
    try:
        done = subprocess.run(
            command, input=png.tobytes(), capture_output=True, timeout=OCR_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    rows = [line.split("\t") for line in done.stdout.decode("utf-8", "replace").splitlines()]
    if not rows:
        return None
    header = rows[0]
    columns: dict[str, list[str]] = {name: [] for name in header}
    for row in rows[1:]:
        row += [""] * (len(header) - len(row))  # an empty last cell may be cut off
        for name, cell in zip(header, row, strict=False):
            columns[name].append(cell)
    return columns


def _read_words(rgb: Pixels) -> list[_Word] | None:
    """Tesseract's words with their boxes in reading order, or None if it failed."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    scale = min(1.0, OCR_MAX_SIDE / max(grey.shape))
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    got = _tesseract_tsv(grey)
    if got is None or "text" not in got:
        return None
    words: list[_Word] = []
    lines: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(got["text"]):
        if got["level"][i] != "5" or not text.strip():
            continue
        key = (int(got["block_num"][i]), int(got["par_num"][i]), int(got["line_num"][i]))
        line = lines.setdefault(key, len(lines))
        box = Region(
            int(int(got["left"][i]) / scale),
            int(int(got["top"][i]) / scale),
            max(1, round(int(got["width"][i]) / scale)),
            max(1, round(int(got["height"][i]) / scale)),
            "TEXT",
        )
        words.append(_Word(text.strip(), box, line))
    return words


def _is_number(word: str) -> bool:
    return any(c.isdigit() for c in word) and all(c.isdigit() or c in "-./" for c in word)


def _compose(
    words: Sequence[_Word], glue: Callable[[_Word, _Word], str], case: Callable[[str], str]
) -> tuple[str, list[tuple[int, int, int]]]:
    """One text of all lines (``\\n`` between them) and each word's ``(start, end, index)``."""
    parts: list[str] = []
    offsets: list[tuple[int, int, int]] = []
    at = 0
    for i, word in enumerate(words):
        if i:
            sep = "\n" if words[i - 1].line != word.line else glue(words[i - 1], word)
            parts.append(sep)
            at += len(sep)
        parts.append(word.text)
        offsets.append((at, at + len(word.text), i))
        at += len(word.text)
    return case("".join(parts)), offsets


def _title_upper_lines(text: str) -> str:
    """``MARIA SCHMIDT`` -> ``Maria Schmidt`` (the name detectors want capitals), offsets kept."""
    lines = text.split("\n")
    titled = [ln.title() if ln.isupper() else ln for ln in lines]
    return "\n".join(t if len(t) == len(ln) else ln for t, ln in zip(titled, lines, strict=True))


_VARIANTS: tuple[tuple[Callable[[_Word, _Word], str], Callable[[str], str]], ...] = (
    (lambda a, b: " ", lambda t: t),
    (lambda a, b: "" if _is_number(a.text) and _is_number(b.text) else " ", lambda t: t),
    (lambda a, b: " ", _title_upper_lines),
)


def _text_regions(rgb: Pixels, scanner: Scanner | None) -> list[Region] | None:
    """Boxes of the words that hold personal data, or None when OCR could not run."""
    words = _read_words(rgb)
    if words is None:
        return None
    scanner = scanner or _default_scanner()
    hit: dict[int, str] = {}
    for glue, case in _VARIANTS:
        text, offsets = _compose(words, glue, case)
        scan = scanner.scan(text)
        if scan.verdict == "withhold":  # fail toward redaction: hide every word
            hit = dict.fromkeys(range(len(words)), "TEXT")
            break
        for span in scan.spans:
            for start, end, i in offsets:
                if start < span.end and span.start < end:
                    hit.setdefault(i, span.type)
    height, width = rgb.shape[:2]
    # The words of one span on one line become one box, so the gaps between them go too.
    groups: dict[tuple[int, str], list[Region]] = {}
    for i in sorted(hit):
        groups.setdefault((words[i].line, hit[i]), []).append(words[i].box)
    out: list[Region] = []
    for (_, kind), boxes in groups.items():
        box = boxes[0]
        for other in boxes[1:]:
            box = _union(box, other)
        margin = max(2, round(box.height * TEXT_MARGIN))
        out.append(
            _pad(Region(box.x, box.y, box.width, box.height, kind), margin, margin, width, height)
        )
    return merge_boxes(out)
