"""Procedurally drawn camera frames for the demo's image requests (SIMULATED, not photos).

What smart glasses see when the wearer says "take a photo", "what am I looking at" or
"buy this": a room or a street with people in it, a product on a shelf or a street sign,
a product and a payment card lying on a table. Every frame is drawn here with numpy and
Pillow from a seed (the same seed gives the same bytes), so nothing third-party is
shipped or downloaded, and each comes with its ground truth: the boxes an annotator
should draw (``objects``) and where the personal data is (``pii``: each face, and the
number printed on each card).

The faces are drawn for the privacy gate's detector (OpenCV's frontal Haar cascade,
:func:`loupe.privacy.images.detect_faces`): a Haar cascade compares light and dark
rectangles, so a face here has eye sockets and brows darker than the cheeks below
them, a lighter nose bridge between the eyes, highlights on the forehead and cheek
bones (which keeps the contrast on darker skin tones), a mouth shadow and a hair line.
``tests/demo/test_scenes.py`` holds the hit rate up; ``bench/loop/bench_scenes.py``
measures it (docs/benchmarks-loop.md). The card numbers are published test numbers (they
pass the Luhn check, so the text detectors flag them, but pay nothing), printed dark on
a light card, large enough for Tesseract.

>>> scene = draw_scene(3, kind="buy", face=False)
>>> scene.pixels.shape, scene.kind, sorted({box.label for box in scene.objects})
((720, 1280, 3), 'buy', ['card', 'product'])
>>> [box.label for box in scene.pii][-1]
'CREDIT_CARD'
>>> draw_scene(3, kind="buy", face=False).jpeg() == scene.jpeg()
True
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "HEIGHT",
    "KINDS",
    "LABELS",
    "TEST_CARD_NUMBERS",
    "WIDTH",
    "Box",
    "Kind",
    "Scene",
    "draw_face",
    "draw_scene",
    "scenes",
]

WIDTH, HEIGHT = 1280, 720
Kind = Literal["photo", "look", "buy"]
KINDS: tuple[Kind, ...] = ("photo", "look", "buy")
# What annotators box, in the order of the boxes task's labels (a digit picks one).
LABELS = ("product", "sign", "card", "face", "person")
# Published test card numbers (Visa, Mastercard): Luhn-valid, never chargeable.
TEST_CARD_NUMBERS = (
    "4111 1111 1111 1111",
    "5555 5555 5555 4444",
    "4012 8888 8888 1881",
    "5105 1051 0510 5100",
    "4242 4242 4242 4242",
)
REQUESTS: dict[Kind, tuple[str, ...]] = {
    "photo": ("take a photo", "take a picture of this", "snap this for me", "save this moment"),
    "look": ("what am I looking at?", "what does that sign say?", "what is this product?",
             "read this for me"),
    "buy": ("buy this", "order this for me", "pay for this with my card", "add this to my cart"),
}  # fmt: skip
# Fitzpatrick-like spread, light to dark (RGB).
SKINS = ((255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36),
         (120, 70, 40))  # fmt: skip
HAIR = ((40, 30, 25), (20, 16, 14), (95, 60, 30), (150, 110, 60), (70, 70, 72))
WORDS = {
    "sign": ("PLATFORM 4", "EXIT", "SALIDA", "AUSGANG", "PHARMACY", "MUSEUM", "RUE DE LA PAIX",
             "GATE B12", "NO ENTRY", "CALLE MAYOR"),
    "brand": ("ARLO", "OATLY", "SOLEIL", "VOLTA", "NORDA", "KAIZEN", "LUMA", "PERO"),
    "goods": ("OAT MILK", "BATTERIES", "SUNSCREEN", "CHARGER", "COFFEE", "TEA", "CEREAL"),
}  # fmt: skip

Pixels = NDArray[np.uint8]
Canvas = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in pixels: ``image[y : y + h, x : x + w]``.

    ``label`` is one of :data:`LABELS` for objects, or the privacy gate's region type
    (``FACE``, ``CREDIT_CARD``) for the personal data in a scene.
    """

    label: str
    x: float
    y: float
    w: float
    h: float

    def clipped(self) -> Box:
        """The part of the box inside the frame."""
        x0, y0 = max(0.0, self.x), max(0.0, self.y)
        x1, y1 = min(float(WIDTH), self.x + self.w), min(float(HEIGHT), self.y + self.h)
        return Box(self.label, x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


@dataclass(frozen=True)
class Scene:
    """One drawn frame and its ground truth."""

    kind: Kind
    seed: int
    request: str  # what the wearer said
    pixels: Pixels = field(repr=False)  # HEIGHT x WIDTH x 3, RGB
    objects: tuple[Box, ...]  # the boxes a careful annotator draws
    pii: tuple[Box, ...]  # where the personal data is: FACE, CREDIT_CARD (the number)

    @property
    def faces(self) -> int:
        return sum(box.label == "FACE" for box in self.pii)

    @property
    def cards(self) -> int:
        return sum(box.label == "CREDIT_CARD" for box in self.pii)

    def jpeg(self, quality: int = 92) -> bytes:
        """The frame as the glasses' camera sends it."""
        out = io.BytesIO()
        Image.fromarray(self.pixels).save(out, format="JPEG", quality=quality)
        return out.getvalue()

    def png(self) -> bytes:
        out = io.BytesIO()
        Image.fromarray(self.pixels).save(out, format="PNG", compress_level=1)
        return out.getvalue()


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (no system font needed)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(low, high, 3))
    return r, g, b


# --- faces -------------------------------------------------------------------------------


def _blob(u: Canvas, v: Canvas, uc: float, vc: float, ru: float, rv: float) -> Canvas:
    out: Canvas = np.exp(-1.5 * (((u - uc) / ru) ** 2 + ((v - vc) / rv) ** 2)).astype(np.float32)
    return out


def draw_face(
    canvas: Canvas, x: int, y: int, width: int, *, skin: tuple[int, int, int],
    hair: tuple[int, int, int] = HAIR[0],
) -> Box:  # fmt: skip
    """Paint a frontal face ``width`` pixels wide whose box starts at (x, y); its box.

    In the face's own coordinates (u, v in [-1, 1] across its ellipse), the features sit
    where the cascade's rectangles look for them; the numbers were tuned by measuring
    the detector's hit rate over seeds, sizes, skins and backgrounds.
    """
    height = round(width * 1.2)
    pad_x, pad_y = width // 5, height // 5
    bw, bh = width + 2 * pad_x, height + 2 * pad_y
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    u = (xx - bw / 2) / (width / 2)
    v = (yy - bh / 2) / (height / 2)
    eye_y = -0.11
    dark = np.zeros_like(u)
    light = _blob(u, v, 0, eye_y - 0.45, 0.45, 0.15) + _blob(u, v, 0, eye_y + 0.15, 0.09, 0.3)
    for side in (-1, 1):
        dark += 0.8 * _blob(u, v, side * 0.37, eye_y, 0.24, 0.09)  # eye sockets
        dark += 0.6 * _blob(u, v, side * 0.37, eye_y - 0.2, 0.26, 0.05)  # brows
        dark += 0.35 * _blob(u, v, side * 0.12, eye_y + 0.42, 0.07, 0.06)  # nostrils
        light += _blob(u, v, side * 0.42, eye_y + 0.35, 0.18, 0.12)  # cheek bones
    dark += 0.9 * _blob(u, v, 0, eye_y + 0.7, 0.28, 0.06)  # mouth
    tone = np.asarray(skin, np.float32)
    shade = (1.0 - 0.07 * np.clip(u * u, 0, 1))[..., None] * tone
    lit = np.clip(0.65 * light, 0, 1)[..., None]
    shade = shade * (1 - lit) + np.minimum(255.0, shade * 1.25 + 45) * lit
    deep = np.clip(dark, 0, 1)[..., None]
    rgb = shade * (1 - deep) + np.asarray((25, 18, 14), np.float32) * deep
    r2 = u * u + v * v
    alpha = (r2 <= 1).astype(np.float32)
    top = (r2 <= 1.12) & (v < -0.75 + 0.2 * u * u)
    rgb[top] = hair
    alpha[top] = 1.0
    # Soft edges and features, as a camera's optics would give them.
    radius = max(1.0, width / 60)
    patch = Image.fromarray(np.dstack([rgb, alpha * 255]).clip(0, 255).astype(np.uint8), "RGBA")
    soft = np.asarray(patch.filter(ImageFilter.GaussianBlur(radius)), np.float32)
    _paste(canvas, soft[..., :3], (soft[..., 3] / 255).astype(np.float32), x - pad_x, y - pad_y)
    return Box("FACE", float(x), float(y), float(width), float(height))


def _paste(canvas: Canvas, rgb: Canvas, alpha: Canvas, x: int, y: int) -> None:
    h, w = alpha.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(canvas.shape[1], x + w), min(canvas.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x, None]
    region = canvas[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1] = region * (1 - a) + rgb[y0 - y : y1 - y, x0 - x : x1 - x] * a


def _person(
    canvas: Canvas, rng: np.random.Generator, x: int, face_width: int, *, floor: int = HEIGHT
) -> list[Box]:
    """A person facing the camera (shoulders, neck and face), cut off at ``floor``."""
    skin = SKINS[int(rng.integers(len(SKINS)))]
    face_h = round(face_width * 1.2)
    top = int(rng.integers(30, max(31, min(HEIGHT - 3 * face_h, floor - 2 * face_h))))
    body_w = int(face_width * 2.4)
    body_x = x + face_width // 2 - body_w // 2
    neck = face_h * 0.85
    shirt = np.asarray(_colour(rng, 30, 230), np.float32)
    neck_x0, neck_x1 = x + int(face_width * 0.3), x + int(face_width * 0.7)
    y_neck = top + int(neck)
    canvas[y_neck : top + face_h + face_h // 4, neck_x0:neck_x1] = np.asarray(skin) * 0.8
    body_top = top + face_h + face_h // 5
    body_bottom = min(floor, body_top + int(face_h * 2.2))
    for row in range(body_top, body_bottom):  # shoulders widen over the first few rows
        grow = min(1.0, (row - body_top) / max(1, face_h * 0.3))
        half = int(body_w / 2 * (0.55 + 0.45 * grow))
        cx = body_x + body_w // 2
        canvas[row, max(0, cx - half) : min(WIDTH, cx + half)] = shirt
    face = draw_face(canvas, x, top, face_width, skin=skin, hair=HAIR[int(rng.integers(len(HAIR)))])
    hair_top = top - face_h * 0.06
    person = Box("person", float(body_x), hair_top, float(body_w), body_bottom - hair_top)
    return [person, Box("face", face.x, face.y, face.w, face.h), face]


# --- scenery -------------------------------------------------------------------------------


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int], rows: int) -> Canvas:
    t = np.linspace(0, 1, rows, dtype=np.float32)[:, None, None]
    band: Canvas = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return np.broadcast_to(band, (rows, WIDTH, 3)).copy()


def _room(rng: np.random.Generator) -> tuple[Canvas, int]:
    horizon = int(rng.integers(380, 480))
    canvas = np.empty((HEIGHT, WIDTH, 3), np.float32)
    canvas[:horizon] = _gradient(_colour(rng, 150, 240), _colour(rng, 110, 200), horizon)
    canvas[horizon:] = _gradient(_colour(rng, 60, 140), _colour(rng, 30, 100), HEIGHT - horizon)
    return canvas, horizon


def _street(rng: np.random.Generator) -> tuple[Canvas, int]:
    horizon = int(rng.integers(330, 420))
    canvas = np.empty((HEIGHT, WIDTH, 3), np.float32)
    canvas[:horizon] = _gradient((120, 170, 230), (200, 220, 240), horizon)
    canvas[horizon:] = _gradient((95, 95, 100), (60, 60, 66), HEIGHT - horizon)
    x = 0
    while x < WIDTH:  # a row of buildings with windows
        w = int(rng.integers(120, 260))
        h = int(rng.integers(150, horizon - 20))
        wall = np.asarray(_colour(rng, 90, 220), np.float32)
        canvas[horizon - h : horizon, x : x + w] = wall
        for wy in range(horizon - h + 20, horizon - 50, 60):
            for wx in range(x + 15, x + w - 35, 45):
                canvas[wy : wy + 35, wx : wx + 25] = wall * 0.45
        x += w + int(rng.integers(0, 30))
    for lane in range(40, WIDTH, 200):
        canvas[HEIGHT - 60 : HEIGHT - 50, lane : lane + 100] = 230
    return canvas, horizon


def _clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, horizon: int) -> None:
    """Unlabelled things (a window, a picture, a plant) for annotators to leave alone."""
    x = int(rng.integers(40, 400))
    draw.rectangle([x, 60, x + 180, 230], fill=(215, 235, 250), outline=(90, 70, 50), width=8)
    draw.line([x + 90, 60, x + 90, 230], fill=(90, 70, 50), width=6)
    px = int(rng.integers(800, 1100))
    draw.rectangle([px, 90, px + 120, 180], fill=_colour(rng, 40, 200), outline=(40, 30, 20),
                   width=6)  # fmt: skip
    gx = int(rng.integers(1050, 1200))
    draw.rectangle([gx, horizon + 40, gx + 50, horizon + 110], fill=(150, 80, 40))
    draw.ellipse([gx - 30, horizon - 60, gx + 80, horizon + 50], fill=(40, 120, 50))


def _product(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y_bottom: int, scale: float
) -> Box:
    """A box or a bottle standing on a surface, with a brand on its label."""
    w = int(rng.integers(90, 150) * scale)
    h = int(rng.integers(130, 220) * scale)
    y = y_bottom - h
    colour = _colour(rng, 30, 230)
    if rng.random() < 0.5:
        draw.rectangle([x, y, x + w, y_bottom], fill=colour, outline=(30, 30, 30), width=2)
    else:  # a bottle: neck, cap and body
        neck = w // 3
        draw.rectangle([x + neck, y, x + w - neck, y + h // 5], fill=colour)
        draw.rectangle([x + neck - 2, y - 10, x + w - neck + 2, y + 4], fill=(30, 30, 30))
        draw.rounded_rectangle([x, y + h // 5, x + w, y_bottom], radius=w // 5, fill=colour)
        y -= 10
        h += 10
    draw.rectangle([x + 6, y_bottom - h // 2, x + w - 6, y_bottom - h // 5],
                   fill=(245, 240, 230))  # fmt: skip
    brand = WORDS["brand"][int(rng.integers(len(WORDS["brand"])))]
    size = max(10, int(18 * scale))
    draw.text((x + 10, y_bottom - h // 2 + 4), brand, font=_font(size), fill=(20, 20, 20))
    return Box("product", float(x), float(y), float(w + 1), float(h + 1))


def _sign(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int) -> Box:
    """A street sign on a pole, its words large enough to read."""
    words = WORDS["sign"][int(rng.integers(len(WORDS["sign"])))]
    font = _font(int(rng.integers(34, 52)))
    left, top, right, bottom = draw.textbbox((0, 0), words, font=font)
    w, h = right - left + 40, bottom - top + 30
    background, ink = ((20, 90, 50), (250, 250, 250)) if rng.random() < 0.5 else \
        ((250, 250, 250), (20, 30, 90))  # fmt: skip
    draw.rectangle([x + w // 2 - 5, y + h, x + w // 2 + 5, y + h + 160], fill=(110, 110, 115))
    draw.rectangle([x, y, x + w, y + h], fill=background, outline=(40, 40, 40), width=3)
    draw.text((x + 20 - left, y + 15 - top), words, font=font, fill=ink)
    return Box("sign", float(x), float(y), float(w + 1), float(h + 1))


def _card(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int) -> list[Box]:
    """A payment card lying flat: light plastic, a chip and a dark printed test number."""
    number = TEST_CARD_NUMBERS[int(rng.integers(len(TEST_CARD_NUMBERS)))]
    font = _font(int(rng.integers(32, 38)))
    left, top, right, bottom = draw.textbbox((0, 0), number, font=font)
    w = right - left + 70
    h = int(w / 1.586)  # ISO/IEC 7810 ID-1
    draw.rounded_rectangle([x, y, x + w, y + h], radius=22, fill=_colour(rng, 200, 250),
                           outline=(120, 120, 120), width=2)  # fmt: skip
    draw.rounded_rectangle([x + 35, y + 55, x + 95, y + 100], radius=6, fill=(205, 170, 80))
    nx, ny = x + 35, y + int(h * 0.52)
    draw.text((nx - left, ny - top), number, font=font, fill=(25, 25, 35))
    draw.text((x + 35, y + h - 50), "VALID THRU 12/29", font=_font(22), fill=(40, 40, 60))
    digits = Box("CREDIT_CARD", float(nx), float(ny), float(right - left), float(bottom - top))
    return [Box("card", float(x), float(y), float(w + 1), float(h + 1)), digits]


# --- the three kinds of request ----------------------------------------------------------------


def _photo(rng: np.random.Generator, face: bool) -> tuple[Canvas, list[Box]]:
    street = rng.random() < 0.5
    canvas, horizon = _street(rng) if street else _room(rng)
    image = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    boxes: list[Box] = []
    if street:
        boxes.append(_sign(draw, rng, int(rng.integers(40, 260)), int(rng.integers(60, 160))))
    else:
        _clutter(draw, rng, horizon)
        table_y = horizon + 80
        draw.rectangle([60, table_y, 520, table_y + 24], fill=(120, 80, 50))
        boxes.append(_product(draw, rng, int(rng.integers(90, 330)), table_y, 0.8))
    canvas = np.asarray(image, np.float32).copy()
    if face:
        width = int(rng.integers(90, 200))
        boxes += _person(canvas, rng, int(rng.integers(640, WIDTH - 2 * width)), width)
    return canvas, boxes


def _look(rng: np.random.Generator, face: bool) -> tuple[Canvas, list[Box]]:
    boxes: list[Box] = []
    if rng.random() < 0.5:  # a shop shelf
        canvas, _ = _room(rng)
        image = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        shelves = (300, 560)
        for level in shelves:
            draw.rectangle([0, level, 760, level + 22], fill=(170, 150, 120))
        for level in shelves:
            x = int(rng.integers(20, 80))
            while x < 620:
                product = _product(draw, rng, x, level, 1.0)
                if product.y > 30:
                    boxes.append(product)
                x = int(product.x + product.w) + int(rng.integers(15, 50))
    else:
        canvas, _ = _street(rng)
        image = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        boxes.append(_sign(draw, rng, int(rng.integers(60, 300)), int(rng.integers(120, 260))))
    canvas = np.asarray(image, np.float32).copy()
    if face:
        width = int(rng.integers(80, 160))
        boxes += _person(canvas, rng, int(rng.integers(820, WIDTH - 2 * width)), width)
    return canvas, boxes


def _buy(rng: np.random.Generator, face: bool) -> tuple[Canvas, list[Box]]:
    canvas, _ = _room(rng)
    table = int(rng.integers(250, 320))
    boxes: list[Box] = []
    if face:  # a shop assistant behind the counter
        width = int(rng.integers(100, 130))
        boxes += _person(canvas, rng, int(rng.integers(960, WIDTH - 2 * width)), width,
                         floor=table)  # fmt: skip
    wood = np.asarray(_colour(rng, 60, 130), np.float32)
    planks = 1 - 0.08 * (np.arange(WIDTH) // 40 % 2).astype(np.float32)
    canvas[table:] = wood[None, None, :] * planks[None, :, None]
    image = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    boxes.append(_product(draw, rng, int(rng.integers(60, 240)), int(rng.integers(560, 660)), 1.4))
    boxes += _card(draw, rng, int(rng.integers(520, 700)), int(rng.integers(table + 30, 400)))
    return np.asarray(image, np.float32).copy(), boxes


_DRAW: dict[Kind, Callable[[np.random.Generator, bool], tuple[Canvas, list[Box]]]] = {
    "photo": _photo,
    "look": _look,
    "buy": _buy,
}
FACE_SHARE: dict[Kind, float] = {"photo": 0.75, "look": 0.35, "buy": 0.35}


def draw_scene(seed: int, *, kind: Kind | None = None, face: bool | None = None) -> Scene:
    """The frame for ``seed``: its kind and whether a face is in it are drawn from the seed
    unless given. Deterministic: the same arguments give the same pixels."""
    rng = np.random.default_rng(seed)
    chosen: Kind = kind if kind is not None else KINDS[int(rng.integers(len(KINDS)))]
    with_face = bool(rng.random() < FACE_SHARE[chosen]) if face is None else face
    canvas, boxes = _DRAW[chosen](rng, with_face)
    canvas += 3.0 * rng.standard_normal((HEIGHT, WIDTH, 1), dtype=np.float32)  # sensor noise
    pixels = canvas.clip(0, 255).astype(np.uint8)
    clipped = [box.clipped() for box in boxes]
    options = REQUESTS[chosen]
    return Scene(
        kind=chosen,
        seed=seed,
        request=options[int(rng.integers(len(options)))],
        pixels=pixels,
        objects=tuple(b for b in clipped if b.label in LABELS and b.w > 0 and b.h > 0),
        pii=tuple(b for b in clipped if b.label not in LABELS and b.w > 0 and b.h > 0),
    )


def scenes(n: int, *, seed: int, first: int = 0) -> list[Scene]:
    """``n`` frames, the kinds in turn from the ``first``-th (photo, look, buy, photo...)."""
    return [draw_scene(seed * 10_007 + i, kind=KINDS[(first + i) % len(KINDS)]) for i in range(n)]
