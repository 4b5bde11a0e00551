from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

cv2 = pytest.importorskip("cv2")
skimage_data = pytest.importorskip("skimage.data")
Image = pytest.importorskip("PIL.Image")
from PIL import ImageDraw, ImageFont  # noqa: E402

from loupe.errors import InvalidInput  # noqa: E402
from loupe.privacy import Scanner, image_gate  # noqa: E402
from loupe.privacy.image_gate import find_faces, gate_image, merge_boxes, ocr_available  # noqa: E402
from loupe.privacy.images import Region  # noqa: E402
from loupe.privacy.scanner import Scan  # noqa: E402

W, H = 1280, 720
CARD = "4111 1111 1111 1111"
CARD_AT = (650, 470)
needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract (tesseract-ocr) is not installed"
)


def _scene(seed: int = 7) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """A face-free 1280x720 backdrop: a gradient and a few flat shapes."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, H)[:, None, None]
    base = ((1 - t) * np.array([70, 110, 150]) + t * np.array([180, 170, 120])).repeat(W, axis=1)
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x, y = int(rng.integers(0, W)), int(rng.integers(0, H))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.rectangle(
            [x, y, x + int(rng.integers(20, 120)), y + int(rng.integers(20, 120))], fill=fill
        )
    return np.asarray(img).copy()


def _faces_scene() -> tuple[np.ndarray[Any, np.dtype[np.uint8]], list[tuple[int, int, int, int]]]:
    """The astronaut (face ~80 px) and an LFW face (150 px) at known places."""
    canvas = _scene()
    canvas[100:560, 80:540] = cv2.resize(
        skimage_data.astronaut(), (460, 460), interpolation=cv2.INTER_AREA
    )
    k = 460 / 512
    astronaut_face = (80 + round(180 * k), 100 + round(65 * k), round(88 * k), round(95 * k))
    lfw = (skimage_data.lfw_subset()[0] * 255).astype(np.uint8)
    canvas[300:450, 850:1000] = np.stack(
        [cv2.resize(lfw, (150, 150), interpolation=cv2.INTER_CUBIC)] * 3, axis=-1
    )
    return canvas, [astronaut_face, (850, 300, 150, 150)]


def _encode(pixels: np.ndarray[Any, np.dtype[np.uint8]], fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **params)
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray[Any, np.dtype[np.uint8]]:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB")).copy()


def _cell_spread(pixels: np.ndarray[Any, np.dtype[np.uint8]], r: Region, cells: int = 6) -> float:
    """Mean standard deviation inside the cells of the gate's ``cells`` x ``cells`` mosaic
    over region ``r`` (3 px in from each cell edge, away from JPEG ringing)."""
    spreads = []
    for i in range(cells):
        for j in range(cells):
            x0, x1 = r.x + r.width * i // cells + 3, r.x + r.width * (i + 1) // cells - 3
            y0, y1 = r.y + r.height * j // cells + 3, r.y + r.height * (j + 1) // cells - 3
            cell = pixels[y0:y1, x0:x1].reshape(-1, pixels.shape[-1]).astype(float)
            spreads.append(float(cell.std(axis=0).mean()))  # per channel
    return float(np.mean(spreads))


def _inside(box: tuple[int, int, int, int], r: Region) -> bool:
    x, y, w, h = box
    return r.x <= x and r.y <= y and x + w <= r.x + r.width and y + h <= r.y + r.height


def _touches(box: tuple[int, int, int, int], r: Region) -> bool:
    x, y, w, h = box
    return r.x < x + w and x < r.x + r.width and r.y < y + h and y < r.y + r.height


def test_faces_are_pixelated_and_gps_is_gone_in_a_1280x720_jpeg() -> None:
    canvas, faces = _faces_scene()
    assert all(any(_touches(f, r) for r in find_faces(canvas)) for f in faces)  # found before
    exif = Image.Exif()
    exif[0x0131] = "PhoneCam 2.1"  # Software
    exif[0xA431] = "SERIAL-998877"  # BodySerialNumber
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPSLatitude
    exif.get_ifd(0x8825)[1] = "N"
    raw = _encode(canvas, "JPEG", quality=95, exif=exif)
    assert b"SERIAL-998877" in raw

    gated = gate_image(raw, ocr=False)

    assert (gated.mime, gated.width, gated.height) == ("image/jpeg", W, H)
    assert gated.checks == ("metadata", "faces", "profiles", "plates")
    assert gated.missing == ()
    assert b"SERIAL-998877" not in gated.data
    assert b"PhoneCam" not in gated.data
    with Image.open(io.BytesIO(gated.data)) as out:
        assert out.format == "JPEG"
        assert dict(out.getexif()) == {}
        assert "icc_profile" not in out.info
        assert "exif" not in out.info
    after = _decode(gated.data)
    for face in faces:
        region = next(r for r in gated.regions if r.type == "FACE" and _inside(face, r))
        assert _cell_spread(canvas, region) > 20  # a face: plenty of detail
        assert _cell_spread(after, region) < 2  # flat cells (JPEG noise only)
        assert not any(_touches(face, r) for r in find_faces(after))  # nothing left to find


def test_profile_faces_are_found_facing_either_way() -> None:
    photo = cv2.resize(skimage_data.camera(), (600, 600), interpolation=cv2.INTER_AREA)
    k = 600 / 512
    canvas = _scene(3)
    canvas[60:660, 600:1200] = np.stack([photo] * 3, axis=-1)
    face = (600 + round(180 * k), 60 + round(118 * k), round(78 * k), round(80 * k))
    mirrored = np.ascontiguousarray(canvas[:, ::-1])
    mirrored_face = (W - face[0] - face[2], face[1], face[2], face[3])
    for pixels, box in ((canvas, face), (mirrored, mirrored_face)):
        gated = gate_image(_encode(pixels, "PNG"), ocr=False)
        region = next(r for r in gated.regions if r.type == "FACE" and _touches(box, r))
        assert _cell_spread(pixels, region) > 20
        assert _cell_spread(_decode(gated.data), region) == 0  # PNG: exactly flat cells


def test_profile_boxes_are_mirrored_back() -> None:
    canvas = _scene(3)
    canvas[60:660, 600:1200] = np.stack(
        [cv2.resize(skimage_data.camera(), (600, 600), interpolation=cv2.INTER_AREA)] * 3, axis=-1
    )
    mirrored = np.ascontiguousarray(canvas[:, ::-1])
    here = image_gate._detect(canvas, image_gate._PROFILE, image_gate.PROFILE_WIDTH)
    there = image_gate._detect(mirrored, image_gate._PROFILE, image_gate.PROFILE_WIDTH)
    assert here
    back = sorted((W - r.x - r.width, r.y, r.width, r.height) for r in there)
    assert len(back) == len(here)
    for a, b in zip(sorted((r.x, r.y, r.width, r.height) for r in here), back, strict=True):
        assert max(abs(p - q) for p, q in zip(a, b, strict=True)) <= 2  # rounding only


def test_no_face_no_region_and_the_picture_is_kept() -> None:
    canvas = _scene()
    gated = gate_image(_encode(canvas, "PNG"), ocr=False)
    assert gated.regions == ()
    assert np.array_equal(_decode(gated.data), canvas)  # PNG: lossless, untouched


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_metadata_is_stripped_and_the_format_kept(fmt: str) -> None:
    pixels = np.zeros((40, 60, 4), np.uint8)
    pixels[..., 0], pixels[..., 3] = 200, 128  # half-transparent red
    exif = Image.Exif()
    exif[0xA431] = "SERIAL-4242"
    img = Image.fromarray(pixels, "RGBA")
    buf = io.BytesIO()
    if fmt == "PNG":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "shot at 12 Elm Street")
        info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 48.85</x:xmpmeta>")
        img.save(buf, format="PNG", pnginfo=info, exif=exif)
    else:
        img.save(
            buf, format="WEBP", lossless=True, exif=exif, xmp=b"<x:xmpmeta>GPS 48.85</x:xmpmeta>"
        )
    raw = buf.getvalue()
    assert b"SERIAL-4242" in raw

    gated = gate_image(raw, ocr=False)

    assert gated.mime == f"image/{fmt.lower()}"
    for secret in (b"SERIAL-4242", b"Elm Street", b"xmpmeta", b"48.85"):
        assert secret not in gated.data
    with Image.open(io.BytesIO(gated.data)) as out:
        assert out.format == fmt
        assert out.mode == "RGB"  # flattened onto white: served as it was checked
        assert dict(out.getexif()) == {}


@needs_ocr
@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_text_on_a_transparent_background_is_read_as_shown(fmt: str) -> None:
    # Black text on a transparent black background (what many tools write): the colour
    # channels alone are blank, the picture on a page is not. It used to pass the
    # gate unseen (no region) and be served with its card number readable.
    img = Image.new("RGBA", (900, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).text(
        (20, 60),
        "Card 4111 1111 1111 1111",
        font=ImageFont.load_default(size=40),
        fill=(0, 0, 0, 255),
    )
    buf = io.BytesIO()
    img.save(buf, format=fmt, lossless=True)

    gated = gate_image(buf.getvalue())

    assert "CREDIT_CARD" in {r.type for r in gated.regions}
    with Image.open(io.BytesIO(gated.data)) as out:
        assert out.mode == "RGB"


def test_exif_orientation_is_applied_before_the_tag_goes() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees
    raw = _encode(np.full((20, 50, 3), 90, np.uint8), "JPEG", exif=exif)
    gated = gate_image(raw, ocr=False, plates=False)
    assert (gated.width, gated.height) == (20, 50)
    assert gated.checks == ("metadata", "faces", "profiles")
    with Image.open(io.BytesIO(gated.data)) as out:
        assert out.size == (20, 50)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "unsupported image format GIF"),
        (b"hello, world", "not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "corrupt or truncated JPEG"),
    ],
)
def test_bad_input_is_refused_before_anything_is_gated(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        gate_image(data)


def test_without_tesseract_text_is_listed_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_gate, "ocr_available", lambda: False)
    gated = gate_image(_encode(_scene(), "PNG"))
    assert gated.missing == ("text",)
    assert "text" not in gated.checks
    assert gate_image(_encode(_scene(), "PNG"), ocr=False).missing == ()  # not asked for


def test_a_failing_ocr_run_is_listed_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_gate, "ocr_available", lambda: True)

    def hung(*args: object, **kwargs: object) -> object:
        raise subprocess.TimeoutExpired("tesseract", image_gate.OCR_TIMEOUT_S)

    monkeypatch.setattr(subprocess, "run", hung)
    gated = gate_image(_encode(_scene(), "PNG"))
    assert gated.missing == ("text",)
    assert "text" not in gated.checks


def _card_scene() -> np.ndarray[Any, np.dtype[np.uint8]]:
    img = Image.fromarray(_scene(11))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([620, 300, 1180, 640], radius=24, fill=(25, 55, 135))
    draw.text(CARD_AT, CARD, font=ImageFont.load_default(size=40), fill=(245, 245, 245))
    draw.text(
        (60, 60), "Opening hours 9 to 5", font=ImageFont.load_default(size=36), fill=(0, 0, 0)
    )
    return np.asarray(img).copy()


def _ocr_text(pixels: np.ndarray[Any, np.dtype[np.uint8]]) -> str:
    import pytesseract

    grey = Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY))
    return str(pytesseract.image_to_string(grey, config="--psm 11"))


@needs_ocr
def test_ocr_writes_no_file_that_others_could_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The picture Tesseract reads is the one before pixelation, and what it reads is the
    personal text: neither may sit in the shared temporary directory, where the image and
    the words were written 0644 during each run (and stayed if the process was killed)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "absent"))  # no file can go there
    gated = gate_image(_encode(_card_scene(), "PNG"))
    assert "text" in gated.checks and gated.missing == ()
    assert [r.type for r in gated.regions if r.type == "CREDIT_CARD"] == ["CREDIT_CARD"]


@needs_ocr
def test_a_card_number_in_the_picture_is_read_and_pixelated() -> None:
    canvas = _card_scene()
    scanner = Scanner()
    gated = gate_image(_encode(canvas, "PNG"), scanner=scanner)
    assert "text" in gated.checks
    cards = [r for r in gated.regions if r.type == "CREDIT_CARD"]
    assert len(cards) == 1
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (W, H))).textbbox(
        CARD_AT, CARD, font=ImageFont.load_default(size=40)
    )
    assert _inside((x0, y0, x1 - x0, y1 - y0), cards[0])  # the whole number
    assert not any(r.type == "CREDIT_CARD" and r.y < 200 for r in gated.regions)
    after = _decode(gated.data)
    read_after = _ocr_text(after)
    assert "4111" not in read_after and "1111" not in read_after
    assert not [s for s in scanner.scan(read_after).spans if s.type == "CREDIT_CARD"]
    assert "hours" in read_after  # harmless text stays readable


@needs_ocr
def test_when_the_text_scan_withholds_every_word_is_pixelated() -> None:
    class Failing:
        def scan(self, text: str) -> Scan:
            return Scan((), "withhold", "error")

    gated = gate_image(_encode(_card_scene(), "PNG"), scanner=Failing())  # type: ignore[arg-type]
    assert "text" in gated.checks
    assert {r.type for r in gated.regions} == {"TEXT"}
    assert len(gated.regions) >= 2
    read_after = _ocr_text(_decode(gated.data))
    assert "4111" not in read_after and "hours" not in read_after


def test_overlapping_face_boxes_are_merged() -> None:
    boxes = [
        Region(100, 100, 50, 50, "FACE"),
        Region(110, 105, 50, 50, "FACE"),  # same face, seen by another cascade
        Region(400, 100, 50, 50, "FACE"),
        Region(105, 100, 50, 20, "LICENSE_PLATE"),  # another type: kept apart
    ]
    assert merge_boxes(boxes) == [
        Region(100, 100, 60, 55, "FACE"),
        Region(105, 100, 50, 20, "LICENSE_PLATE"),
        Region(400, 100, 50, 50, "FACE"),
    ]


_boxes = st.lists(
    st.builds(
        Region,
        st.integers(0, 300),
        st.integers(0, 300),
        st.integers(1, 120),
        st.integers(1, 120),
        st.sampled_from(["FACE", "LICENSE_PLATE"]),
    ),
    max_size=12,
)


@given(_boxes, st.randoms(use_true_random=False))
def test_merging_covers_every_box_and_ignores_order(boxes: list[Region], rnd: Any) -> None:
    merged = merge_boxes(boxes)
    shuffled = list(boxes)
    rnd.shuffle(shuffled)
    assert merge_boxes(shuffled) == merged
    for b in boxes:
        assert any(m.type == b.type and _inside((b.x, b.y, b.width, b.height), m) for m in merged)
    assert merge_boxes(merged) == merged  # idempotent: nothing left to merge


def test_a_multi_picture_jpeg_keeps_its_first_picture_only() -> None:
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    buf = io.BytesIO()
    first.save(buf, format="MPO", save_all=True, append_images=[second])
    gated = gate_image(buf.getvalue(), ocr=False)
    assert gated.mime == "image/jpeg"
    with Image.open(io.BytesIO(gated.data)) as out:
        assert out.format == "JPEG"
        assert getattr(out, "n_frames", 1) == 1
        assert out.getpixel((10, 10))[0] > 200  # red, the first picture


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animation_keeps_its_first_frame_only(fmt: str) -> None:
    frames = [Image.new("RGB", (64, 48), c) for c in ("red", "blue", "green")]
    buf = io.BytesIO()
    frames[0].save(
        buf, format=fmt, save_all=True, append_images=frames[1:], duration=100, lossless=True
    )
    gated = gate_image(buf.getvalue(), ocr=False)
    with Image.open(io.BytesIO(gated.data)) as out:
        assert getattr(out, "n_frames", 1) == 1  # later frames were never checked: dropped
        assert out.convert("RGB").getpixel((10, 10))[0] > 200


def test_an_icc_profile_is_applied_then_dropped() -> None:
    ImageCms = pytest.importorskip("PIL.ImageCms")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    raw = _encode(np.full((30, 40, 3), 120, np.uint8), "JPEG", icc_profile=icc)
    with Image.open(io.BytesIO(raw)) as src:
        assert src.info.get("icc_profile") == icc
    gated = gate_image(raw, ocr=False)
    with Image.open(io.BytesIO(gated.data)) as out:
        assert "icc_profile" not in out.info
        assert abs(int(np.asarray(out)[15, 20, 0]) - 120) <= 3  # sRGB to sRGB: colours kept
