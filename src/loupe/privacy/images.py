"""Image privacy: pixelate faces (and optionally licence plates), strip metadata.

Needs the ``loupe[images]`` extra (``opencv-python-headless``, ``Pillow``).
Faces are found with the Haar cascades that ship inside OpenCV, so nothing is
downloaded. Detection runs on a copy scaled to ``detect_width`` pixels wide
(about 150 ms for 1280x720 on one core); boxes are scaled back, grown by a
margin, and replaced by a coarse mosaic of ``blocks`` x ``blocks`` cells, which
removes the detail a person or a face matcher needs.

Haar cascades miss profile, tilted, small and occluded faces; callers that
need a guarantee should withhold images instead of relying on pixelation.

:func:`probe_image` checks that bytes are a whole JPEG, PNG or WebP image. The
gate every imported image passes (:func:`gate_image`: metadata, frontal and
profile faces, plates, text by OCR) lives in :mod:`loupe.privacy.image_gate`
and is re-exported here.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from loupe.errors import InvalidInput

if TYPE_CHECKING:
    from loupe.privacy.image_gate import GatedImage, gate_image, ocr_available

__all__ = [
    "IMAGE_MIMES",
    "GatedImage",
    "ImageRedaction",
    "Region",
    "bare_image",
    "decode_image",
    "detect_faces",
    "gate_image",
    "ocr_available",
    "pixelate",
    "probe_image",
    "redact_image",
    "strip_metadata",
    "to_srgb",
]

IMAGE_MIMES: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""The accepted formats: Pillow's format name -> MIME type."""
MAX_PIXELS = 50_000_000

Pixels = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Region:
    """A box in pixel coordinates: ``image[y : y + height, x : x + width]``."""

    x: int
    y: int
    width: int
    height: int
    type: str


@dataclass(frozen=True, slots=True)
class ImageRedaction:
    """The pixelated image and the regions that were pixelated."""

    image: Pixels
    regions: tuple[Region, ...]


@cache
def _cascade(name: str) -> Any:
    folder: str = cv2.data.haarcascades  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(folder + name)
    if cascade.empty():  # pragma: no cover - only on a broken OpenCV install
        raise RuntimeError(f"OpenCV cascade {name} is missing from this installation")
    return cascade


def detect_faces(image: Pixels, *, detect_width: int = 640, plates: bool = False) -> list[Region]:
    """Frontal faces (and, if ``plates``, licence plates) in an RGB or grey ``image``."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, detect_width / grey.shape[1])
    small = (
        cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else grey
    )
    small = cv2.equalizeHist(small)
    found: list[Region] = []
    jobs = [("haarcascade_frontalface_default.xml", "FACE", 5)]
    if plates:
        jobs.append(("haarcascade_russian_plate_number.xml", "LICENSE_PLATE", 4))
    for name, kind, neighbours in jobs:
        boxes = _cascade(name).detectMultiScale(
            small, scaleFactor=1.1, minNeighbors=neighbours, minSize=(24, 24)
        )
        for x, y, w, h in boxes:
            found.append(
                Region(int(x / scale), int(y / scale), int(w / scale), int(h / scale), kind)
            )
    return found


def pixelate(image: Pixels, region: Region, *, blocks: int = 6, margin: float = 0.2) -> None:
    """Replace ``region`` (grown by ``margin``) in place with a ``blocks`` x ``blocks`` mosaic."""
    height, width = image.shape[:2]
    dx, dy = int(region.width * margin), int(region.height * margin)
    x0, y0 = max(0, region.x - dx), max(0, region.y - dy)
    x1 = min(width, region.x + region.width + dx)
    y1 = min(height, region.y + region.height + dy)
    if x1 <= x0 or y1 <= y0:
        return
    patch = image[y0:y1, x0:x1]
    tiny = cv2.resize(patch, (blocks, blocks), interpolation=cv2.INTER_AREA)
    image[y0:y1, x0:x1] = cv2.resize(tiny, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)


def redact_image(
    image: Pixels, *, blocks: int = 6, plates: bool = False, detect_width: int = 640
) -> ImageRedaction:
    """A copy of ``image`` with every detected face (and plate) pixelated.

    >>> import numpy as np
    >>> redact_image(np.zeros((120, 160, 3), np.uint8)).regions
    ()
    """
    regions = detect_faces(image, detect_width=detect_width, plates=plates)
    out = image.copy()
    for region in regions:
        pixelate(out, region, blocks=blocks)
    return ImageRedaction(out, tuple(regions))


def strip_metadata(data: bytes, *, max_pixels: int = MAX_PIXELS) -> bytes:
    """Re-encode a JPEG, PNG or WebP without EXIF (GPS, camera serials), XMP, IPTC,
    comments, text chunks or ICC profile; the pixels are otherwise kept.

    What a project whose gate is off serves (the gate, :func:`gate_image`, also pixelates).
    The EXIF orientation is applied to the pixels first so the picture does not turn
    sideways once the tag is gone, and colours are converted to sRGB when a profile is
    dropped. The format is kept: a palette and its transparency stay, PNG and lossless
    WebP stay lossless, a JPEG is re-encoded with its own quantisation tables (no visible
    loss, no larger file). Only the first frame of an animation or a multi-picture JPEG is
    kept. :class:`InvalidInput` for anything :func:`probe_image` refuses.
    """
    with decode_image(data, max_pixels=max_pixels) as src:
        fmt = str(src.format)
        params = _save_params(src, data)
        clean = bare_image(to_srgb(ImageOps.exif_transpose(src), src.info.get("icc_profile")))
    out = io.BytesIO()
    try:
        clean.save(out, format=fmt, **params)
    except (OSError, ValueError) as exc:  # a mode or table this encoder does not take
        raise InvalidInput(
            f"cannot re-encode this {fmt} image without its metadata ({str(exc)[:120]})",
            details={"reason": "reencode"},
        ) from None
    return out.getvalue()


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` converted from its ICC profile ``icc`` to sRGB (RGB, RGBA or CMYK; CMYK
    becomes RGB), or ``image`` itself when there is no profile or it cannot be read."""
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        from PIL import ImageCms

        converted = ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if image.mode == "RGBA" else "RGB",
        )
    except Exception:  # a broken or unusual profile: the pixels as they are
        return image
    return converted or image


def bare_image(image: Image.Image) -> Image.Image:
    """A new image of ``image``'s pixels (and palette and transparency) with no ``info``:
    Pillow writes what ``info`` holds (an ICC profile, a comment, EXIF, XMP) when saving."""
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    if image.mode in ("P", "PA") and image.palette is not None:
        rawmode = image.palette.mode
        clean.putpalette(image.getpalette(rawmode) or [], rawmode)
    if "transparency" in image.info:
        clean.info["transparency"] = image.info["transparency"]
    return clean


def _save_params(src: Image.Image, data: bytes) -> dict[str, Any]:
    """How to re-encode ``src`` without visible loss: a JPEG with its own quantisation
    tables and chroma subsampling, a lossless WebP losslessly."""
    if src.format == "JPEG":
        from PIL import JpegImagePlugin

        tables = getattr(src, "quantization", None)
        if not tables:
            return {"quality": 95}
        sampling = JpegImagePlugin.get_sampling(src)
        return {"qtables": tables} | ({"subsampling": sampling} if sampling >= 0 else {})
    if src.format == "WEBP":
        return {"lossless": True} if _webp_lossless(data) else {"quality": 95}
    return {}


def _webp_lossless(data: bytes) -> bool:
    """Whether a WebP's (first) picture is lossless: a ``VP8L`` chunk rather than ``VP8 ``."""
    at = 12
    while at + 8 <= len(data):
        name, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        if name in (b"VP8 ", b"VP8L"):
            return name == b"VP8L"
        # An animation frame's chunks follow its 16-byte header; skip any other chunk.
        at += 8 + (16 if name == b"ANMF" else size + (size & 1))
    return False


# Magic numbers of formats people send by mistake, only to name them in the error:
# Pillow is never asked to parse anything but JPEG, PNG and WebP.
_OTHER_FORMATS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GIF8", "GIF"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"%PDF", "PDF"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (4, b"ftypavif", "AVIF"),
    (4, b"ftyphei", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (0, b"\xff\x4f\xff\x51", "JPEG 2000"),
    (0, b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (0, b"<svg", "SVG"),
    (0, b"<?xml", "SVG/XML"),
)


def _unsupported(data: bytes) -> InvalidInput:
    claimed = _claimed_format(data)
    if claimed != "image":  # the right signature, then a header Pillow cannot read
        return InvalidInput(
            f"corrupt or truncated {claimed} image (unreadable header)",
            details={"reason": "corrupt"},
        )
    head = data[:32].lstrip() if data[:1] == b"<" or data[:1].isspace() else data[:32]
    for offset, magic, name in _OTHER_FORMATS:
        if head[offset : offset + len(magic)] == magic:
            return InvalidInput(
                f"unsupported image format {name}; convert it to JPEG, PNG or WebP",
                details={"format": name, "allowed": sorted(IMAGE_MIMES.values())},
            )
    return InvalidInput(
        "not a JPEG, PNG or WebP image (unrecognised or corrupt header)",
        details={"allowed": sorted(IMAGE_MIMES.values())},
    )


def probe_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> tuple[str, int, int]:
    """``(mime, width, height)`` of a whole JPEG, PNG or WebP image, or :class:`InvalidInput`.

    The header is checked, then ``verify()`` and a full decode catch corrupt and
    truncated files. Width and height are those of the picture once its EXIF
    orientation is applied (as :func:`gate_image` serves it). More than
    ``max_pixels`` pixels is refused before anything is decoded (decompression
    bombs), and so is anything over Pillow's own ``Image.MAX_IMAGE_PIXELS``.

    >>> probe_image(b"GIF89a...")
    Traceback (most recent call last):
    loupe.errors.InvalidInput: unsupported image format GIF; convert it to JPEG, PNG or WebP
    """
    with decode_image(data, max_pixels=max_pixels) as img:
        width, height = img.size
        orientation = img.getexif().get(0x0112, 1)
        mime = IMAGE_MIMES[str(img.format)]
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn
        width, height = height, width
    return mime, width, height


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The decoded (loaded) first frame of a JPEG/PNG/WebP, or :class:`InvalidInput`.

    What :func:`probe_image` checks; the caller closes the image.
    """
    formats = list(IMAGE_MIMES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=formats) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise _too_big(width, height, max_pixels)
                img.verify()
            img = Image.open(io.BytesIO(data), formats=formats)
            try:
                img.load()
            except BaseException:
                img.close()
                raise
            if img.format == "MPO":  # a phone JPEG with extra pictures: the first is kept
                img.format = "JPEG"
            return img
    except InvalidInput:
        raise
    except UnidentifiedImageError:
        raise _unsupported(data) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_big(0, 0, min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError...
        raise InvalidInput(
            f"corrupt or truncated {_claimed_format(data)} image ({str(exc)[:120]})",
            details={"reason": "corrupt"},
        ) from None


def _claimed_format(data: bytes) -> str:
    """The accepted format the header claims (for messages), or ``"image"``."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return "image"


def _too_big(width: int, height: int, limit: int) -> InvalidInput:
    size = f"{width}x{height} = {width * height:,} pixels" if width else "too many pixels"
    return InvalidInput(
        f"image too large ({size}; at most {limit:,} pixels): scale it down",
        details={"reason": "too_many_pixels", "max_pixels": limit},
    )


def __getattr__(name: str) -> object:
    """The gate (:mod:`loupe.privacy.image_gate`) is re-exported here, imported on first use."""
    if name in ("GatedImage", "gate_image", "ocr_available"):
        from loupe.privacy import image_gate

        return getattr(image_gate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
