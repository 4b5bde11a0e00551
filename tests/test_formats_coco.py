"""COCO JSON: the documented shape, a round trip through JSON, and clear refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.formats_coco import coco_document, read_coco

IMAGES = [
    {"id": 1, "file_name": "a.png", "width": 640, "height": 480, "sha256": "ab" * 32},
    {"id": 2, "file_name": "b.jpg", "width": 1280, "height": 720, "sha256": "cd" * 32},
]


def box(x: float, y: float, w: float, h: float, label: str) -> dict[str, Any]:
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def test_document_shape_known_answer() -> None:
    doc = coco_document(
        IMAGES,
        ["cup", "sign"],
        boxes={1: [box(10, 20, 30, 40, "sign"), box(0, 0, 2.5, 4, "cup")], 2: []},
        classes={2: ["cup"]},
        created="2026-12-06T01:02:03Z",
    )
    assert doc["info"] == {
        "description": "Loupe export",
        "version": "1.0",
        "date_created": "2026-12-06T01:02:03Z",
        "year": 2026,
    }
    assert doc["licenses"] == []
    assert doc["images"] == IMAGES  # extra keys (sha256) carried
    assert doc["categories"] == [
        {"id": 1, "name": "cup", "supercategory": ""},
        {"id": 2, "name": "sign", "supercategory": ""},
    ]
    assert doc["annotations"] == [
        {"id": 1, "image_id": 1, "category_id": 2, "bbox": [10.0, 20.0, 30.0, 40.0],
         "area": 1200.0, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0.0, 0.0, 2.5, 4.0],
         "area": 10.0, "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 1, "area": 0.0, "iscrowd": 0},
    ]  # fmt: skip


def test_empty_document() -> None:
    doc = coco_document([], ["cup"], boxes={})
    assert doc["images"] == [] and doc["annotations"] == []
    assert doc["info"] == {"description": "Loupe export", "version": "1.0"}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"boxes": {3: []}}, "boxes: image 3 is not among the images"),
        ({"boxes": {1: [box(0, 0, 5, 5, "dog")]}}, "boxes[1][0]: 'dog' is not a category"),
        ({"boxes": {}, "classes": {2: ["cup", "cat"]}}, "classes[2][1]: 'cat'"),
        ({"boxes": {}, "categories": ["cup", "cup"]}, "each label once"),
        ({"boxes": {}, "images": [IMAGES[0], IMAGES[0]]}, "images[1]: id 1 appears twice"),
        ({"boxes": {}, "images": [{"id": 1, "width": 5}]}, "missing file_name, height"),
    ],
)
def test_refusals_name_what_to_fix(kwargs: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = {"images": IMAGES, "categories": ["cup", "sign"], **kwargs}
    with pytest.raises(InvalidInput) as error:
        coco_document(**args)
    assert fragment in error.value.message


def test_read_refuses_a_non_coco_document() -> None:
    with pytest.raises(InvalidInput, match="not a COCO document"):
        read_coco({"images": []})
    with pytest.raises(InvalidInput, match="unknown category_id 9"):
        read_coco(
            {
                "images": [],
                "categories": [],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 9}],
            }
        )


def test_pycocotools_reads_the_document(tmp_path: Any) -> None:
    coco_api = pytest.importorskip("pycocotools.coco", reason="pycocotools is not installed")
    doc = coco_document(
        IMAGES, ["cup", "sign"], boxes={1: [box(10, 20, 30, 40, "sign")]}, classes={2: ["cup"]}
    )
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(doc))
    coco = coco_api.COCO(str(path))
    assert coco.getAnnIds(imgIds=[2], catIds=[1]) == [2]
    assert coco.loadAnns([1])[0]["bbox"] == [10.0, 20.0, 30.0, 40.0]


labels = st.sampled_from(["cup", "sign", "card"])
coordinate = st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda v: round(v, 1))
extent = st.floats(min_value=2, max_value=500, allow_nan=False).map(lambda v: round(v, 1))
answers = st.lists(st.builds(box, coordinate, coordinate, extent, extent, labels), max_size=6)


@given(st.lists(answers, min_size=1, max_size=4), st.lists(st.lists(labels, max_size=2)))
def test_round_trip_through_json(per_image: list[list[dict[str, Any]]], cls: list[Any]) -> None:
    images = [
        {"id": i + 1, "file_name": f"{i}.png", "width": 2000, "height": 2000, "sha256": "0" * 64}
        for i in range(len(per_image))
    ]
    boxes = {i + 1: answer for i, answer in enumerate(per_image)}
    classes = {i + 1: names for i, names in enumerate(cls[: len(per_image)])}
    doc = coco_document(images, ["cup", "sign", "card"], boxes=boxes, classes=classes)
    back = read_coco(json.loads(json.dumps(doc)))
    assert back.images == images
    assert back.categories == ["cup", "sign", "card"]
    key = lambda b: (b["x"], b["y"], b["w"], b["h"], b["label"])  # noqa: E731
    assert back.boxes == {i: sorted(a, key=key) for i, a in boxes.items() if a}
    assert back.classes == {i: names for i, names in classes.items() if names}
    assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
