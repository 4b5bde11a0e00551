"""Pictures made at test time that carry every kind of metadata a camera or an editor
writes (EXIF with GPS and a serial number, XMP, a comment, an ICC profile, PNG text
chunks), and the check that none of it is left in served bytes."""

from __future__ import annotations

import io

import numpy as np

SECRET = "Call Ana on +44 20 7946 0958"  # what metadata must never carry out
SERIAL = "SERIAL-8812-7731"
GPS_LATITUDE = (51.0, 30.0, 26.0)
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="{SECRET}"/>'
    "</rdf:RDF></x:xmpmeta>"
)


def blocks(seed: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """RGB pixels of 8x8 random blocks (seeded), ``size`` = (width, height)."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 255, size=(size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    return np.kron(cells, np.ones((8, 8, 1), dtype=np.uint8))


def _exif(orientation: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "GlassesMaker"  # Make
    exif[0x0131] = SECRET  # Software, used by some apps for a free-text note
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # BodySerialNumber
    exif.get_ifd(0x8825).update({1: "N", 2: GPS_LATITUDE, 3: "W", 4: (0.0, 7.0, 39.0)})
    return exif.tobytes()


def _icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def with_metadata(fmt: str, *, seed: int = 1, orientation: int = 1) -> bytes:
    """A 64x48 picture in ``fmt`` (JPEG, PNG or WEBP) with EXIF (GPS, serial, ``SECRET``
    and ``orientation``), XMP, an ICC profile, and a comment or PNG text chunks."""
    from PIL import Image, PngImagePlugin

    image = Image.fromarray(blocks(seed))
    params: dict[str, object] = {"exif": _exif(orientation), "icc_profile": _icc()}
    if fmt == "JPEG":
        params |= {"comment": SECRET.encode(), "xmp": XMP.encode(), "quality": 90}
    elif fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", SECRET)
        info.add_text("Author", SECRET, zip=True)
        info.add_itxt("XML:com.adobe.xmp", XMP)
        params["pnginfo"] = info
    else:
        params |= {"xmp": XMP.encode(), "lossless": True}
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def assert_no_metadata(data: bytes) -> None:
    """``data`` is a picture without EXIF, XMP, comment, ICC profile or text chunk."""
    from PIL import Image

    for needle in (SECRET.encode(), SERIAL.encode(), b"GlassesMaker", b"Exif\x00\x00", b"xmpmeta"):
        assert needle not in data, needle
    with Image.open(io.BytesIO(data)) as image:
        assert dict(image.getexif()) == {}
        assert not image.getexif().get_ifd(0x8825)  # GPS
        leaked = {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "Author"}
        assert leaked.isdisjoint(image.info), sorted(image.info)
        assert not image.info.get("icc_profile")
