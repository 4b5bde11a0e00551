"""COCO JSON for boxes and image classes: pure conversion, no database.

A COCO document (Lin et al. 2014, https://cocodataset.org/#format-data) is one JSON
object::

    {"info": {...}, "licenses": [],
     "images": [{"id": 1, "file_name": "a.png", "width": 640, "height": 480}],
     "categories": [{"id": 1, "name": "cup", "supercategory": ""}],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                      "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}]}

``bbox`` is ``[x, y, width, height]`` in pixels from the top-left corner, as Loupe's box
answers are; category ids count from 1 in the order of the project's labels (COCO
reserves 0 for the background). Extra keys of an image (``sha256``, a URL) are carried
as they are: readers ignore keys they do not know.

**Image-level classes** (an image classification task) have no box. COCO has no field
for them; Loupe writes each as an annotation with ``image_id`` and ``category_id`` and
*no* ``bbox``, ``area`` ``0`` and ``"iscrowd": 0`` — the form pycocotools indexes
(``COCO.getAnnIds(imgIds=..., catIds=...)`` finds them) and detection training code
skips once it checks for ``bbox``. :func:`read_coco` reads both kinds back.

>>> doc = coco_document(
...     [{"id": 1, "file_name": "a.png", "width": 640, "height": 480}], ["cup", "sign"],
...     boxes={1: [{"x": 10.0, "y": 20.0, "w": 30.0, "h": 40.0, "label": "sign"}]},
...     created="2026-12-06T00:00:00Z")
>>> [(a["category_id"], a["bbox"], a["area"]) for a in doc["annotations"]]
[(2, [10.0, 20.0, 30.0, 40.0], 1200.0)]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loupe.errors import InvalidInput

__all__ = ["CocoContent", "coco_document", "read_coco"]

_IMAGE_KEYS = ("id", "file_name", "width", "height")


def coco_document(
    images: Sequence[Mapping[str, Any]],
    categories: Sequence[str],
    boxes: Mapping[Any, Sequence[Mapping[str, Any]]],
    classes: Mapping[Any, Sequence[str]] | None = None,
    *,
    description: str = "Loupe export",
    created: str | None = None,
    version: str = "1.0",
) -> dict[str, Any]:
    """The COCO document of ``images`` (dicts with ``id``, ``file_name``, ``width``,
    ``height`` and any extra keys such as ``sha256``), ``categories`` (label names, ids
    from 1 in this order), per-image ``boxes`` (Loupe box answers) and per-image
    ``classes`` (label names). ``created``: an ISO 8601 timestamp for ``info``."""
    if len(set(categories)) != len(categories):
        raise InvalidInput("categories: each label once", details={"field": "categories"})
    category_id = {name: index for index, name in enumerate(categories, start=1)}
    out_images: list[dict[str, Any]] = []
    seen: set[Hashable] = set()
    for index, image in enumerate(images):
        missing = [key for key in _IMAGE_KEYS if key not in image]
        if missing:
            raise InvalidInput(
                f"images[{index}]: missing {', '.join(missing)}",
                details={"field": "images", "index": index},
            )
        if image["id"] in seen:
            raise InvalidInput(
                f"images[{index}]: id {image['id']!r} appears twice",
                details={"field": "images", "index": index},
            )
        seen.add(image["id"])
        head = {key: image[key] for key in _IMAGE_KEYS}
        out_images.append({**head, **{k: v for k, v in image.items() if k not in head}})
    for where, per_image in (("boxes", boxes), ("classes", classes or {})):
        unknown = [image_id for image_id in per_image if image_id not in seen]
        if unknown:
            raise InvalidInput(
                f"{where}: image {unknown[0]!r} is not among the images",
                details={"field": where},
            )

    def category(name: Any, where: str) -> int:
        if name not in category_id:
            raise InvalidInput(
                f"{where}: {name!r} is not a category; use one of {', '.join(categories[:20])}",
                details={"field": where.split("[")[0]},
            )
        return category_id[name]

    annotations: list[dict[str, Any]] = []
    for image in out_images:
        image_id = image["id"]
        for index, box in enumerate(boxes.get(image_id, ())):
            where = f"boxes[{image_id!r}][{index}]"
            x, y, w, h = (float(box[key]) for key in ("x", "y", "w", "h"))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category(box["label"], where),
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
        for index, name in enumerate((classes or {}).get(image_id, ())):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category(name, f"classes[{image_id!r}][{index}]"),
                    "area": 0.0,
                    "iscrowd": 0,
                }
            )
    info: dict[str, Any] = {"description": description, "version": version}
    if created is not None:
        info["date_created"] = created
        info["year"] = int(created[:4])
    return {
        "info": info,
        "licenses": [],
        "images": out_images,
        "categories": [
            {"id": index, "name": name, "supercategory": ""} for name, index in category_id.items()
        ],
        "annotations": annotations,
    }


@dataclass(frozen=True, slots=True)
class CocoContent:
    """What a COCO document holds, in Loupe's terms."""

    images: list[dict[str, Any]]
    categories: list[str]  # in id order
    boxes: dict[Any, list[dict[str, Any]]]
    classes: dict[Any, list[str]]


def read_coco(document: Mapping[str, Any]) -> CocoContent:
    """Read a COCO document back: boxes (sorted as canonical answers) and image classes."""
    try:
        by_id = {int(c["id"]): str(c["name"]) for c in document["categories"]}
        images = [dict(image) for image in document["images"]]
        annotations = list(document.get("annotations", []))
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"not a COCO document: {error}", details={"field": "document"}) from None
    boxes: dict[Any, list[dict[str, Any]]] = {}
    classes: dict[Any, list[str]] = {}
    for annotation in annotations:
        name = by_id.get(int(annotation["category_id"]))
        if name is None:
            raise InvalidInput(
                f"annotation {annotation.get('id')!r}: unknown category_id "
                f"{annotation['category_id']!r}",
                details={"field": "annotations"},
            )
        if "bbox" in annotation:
            x, y, w, h = (float(v) for v in annotation["bbox"])
            boxes.setdefault(annotation["image_id"], []).append(
                {"x": x, "y": y, "w": w, "h": h, "label": name}
            )
        else:
            classes.setdefault(annotation["image_id"], []).append(name)
    for answer in boxes.values():
        answer.sort(key=lambda b: (b["x"], b["y"], b["w"], b["h"], b["label"]))
    return CocoContent(
        images=images,
        categories=[by_id[i] for i in sorted(by_id)],
        boxes=boxes,
        classes=classes,
    )
