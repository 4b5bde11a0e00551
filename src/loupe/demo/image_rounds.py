"""The image part of ``loupe demo``: what the glasses see, boxed by a SIMULATED crowd.

Some wearer requests carry a camera frame ("take a photo", "what am I looking at",
"buy this"). Each round, the demo draws frames (:mod:`loupe.demo.scenes`) and imports
them into a boxes project, *What the glasses see*, through the real import path with
media (:func:`loupe.services.projects.imports.import_records` with a
:class:`~loupe.services.projects.media.MediaIngest`): the image gate strips metadata and pixelates
the faces and the card numbers it finds before any person sees a frame; an image the gate
could not fully check is withheld. The SIMULATED contributors of :mod:`loupe.demo.crowd`
then draw boxes on the served (pixelated) frames through ``next task`` and ``submit``
(:class:`loupe.simulation.boxes.SimulatedBoxAnnotator`, its noise driven by each
contributor's accuracy), are paid per image and per box, and the quality engine fuses
their boxes (:mod:`loupe.aggregation.boxes`). The round reports what the gate did, the
boxes drawn, and the fused boxes scored against each frame's ground truth.

Without the ``images`` extra the image requests are skipped; without Tesseract they are
withheld by the gate (it cannot check the text in them); either way the demo runs and
its round says why in one line.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from loupe.demo.media_requests import MediaRequests, MediaRound
from loupe.services.access import Actor
from loupe.services.payments.earnings import create_rate_card
from loupe.services.projects import items

if TYPE_CHECKING:
    from loupe.demo.scenes import Scene
    from loupe.services.labelling.tasks import Task

__all__ = [
    "IMAGE_PROJECT",
    "ImageRequests",
    "ImageRound",
    "images_unavailable",
]

IMAGE_PROJECT = "What the glasses see"
GUIDELINES = """SIMULATION — a demo project. Draw a box around every product, sign, payment
card, face and person in the frame the glasses sent, and pick its label. Faces and card
numbers reach you pixelated by the privacy gate: box them all the same."""
RATE_CARD: dict[str, Any] = {
    "currency": "EUR",
    "rates": [{"amount_minor": 3, "per_box_minor": 1}],
}
OVERLAP = 3


@dataclass(frozen=True)
class ImageRound(MediaRound):
    """One round's image requests: what arrived, what the gate did, what people drew."""

    faces: int = 0  # face regions the gate pixelated
    cards: int = 0  # card-number regions the gate pixelated
    other: int = 0  # other regions it pixelated (licence plates, names, text it could not scan)
    boxes: int = 0  # boxes the SIMULATED crowd drew
    fused: int = 0  # boxes in the fused consensus of the round's images
    mean_iou: float | None = None  # fused vs ground truth, over matched pairs
    matched: int = 0  # fused boxes matching a ground-truth box (label and IoU >= 0.5)
    truth: int = 0  # ground-truth boxes on the images people saw

    def cell(self) -> str:
        """The round table's column: frames received, and the fused boxes' mean IoU."""
        if self.skipped:
            return "–"
        iou = "" if self.mean_iou is None else f", IoU {self.mean_iou:.2f}"
        return f"{self.received}{iou}"

    def line(self) -> str:
        """The round's image requests in one line (for the round table)."""
        if self.skipped:
            return f"images: skipped, {self.skipped}"
        gate = f"gate pixelated {self.faces} face(s), {self.cards} card number(s)"
        gate += f" and {self.other} other region(s)" if self.other else ""
        held = self.held()
        if self.truth:
            iou = "–" if self.mean_iou is None else f"{self.mean_iou:.2f}"
            drawn = (
                f"SIMULATED crowd drew {self.boxes} boxes → {self.fused} fused, "
                f"{self.matched}/{self.truth} objects found, mean IoU {iou} vs ground truth"
            )
        else:
            drawn = "nothing for people to box"
        return f"images: {self.received} received, {gate}, {held}; {drawn}"


def images_unavailable() -> str | None:
    """Why this installation cannot take image requests (one line), or ``None``."""
    try:
        import cv2  # noqa: F401
        import PIL  # noqa: F401
    except ImportError:
        return "install loupe[images] (OpenCV, Pillow) to see image requests"
    return None


def _withheld_note(reasons: Counter[str]) -> str:
    """The gate's reasons for withholding frames, in words (``image_withheld_reason``)."""
    why = {
        "no_ocr": "without OCR: install tesseract-ocr and pytesseract, or set "
        "LOUPE_IMAGE_OCR=optional",
        "unchecked": "a detector could not run",
        "policy": "the project withholds whatever the gate finds",
    }
    return "; ".join(f"{n} {why.get(reason, reason)}" for reason, n in sorted(reasons.items()))


@dataclass
class ImageRequests(MediaRequests):
    """The image requests of the demo's rounds (see the module docstring); started by
    :meth:`~loupe.demo.media_requests.MediaRequests.start`."""

    # Ground truth of every frame sent, by the item's external id as stored.
    truth: dict[str, Scene] = field(default_factory=dict)
    rounds: list[ImageRound] = field(default_factory=list)

    @staticmethod
    def unavailable() -> str | None:
        return images_unavailable()

    def set_up(self, session: Any, *, people: list[Actor]) -> int:
        """The boxes project: the SIMULATED crowd and ``people`` (the demo's own users) are
        its annotators, the demo's manager manages it, a rate card pays per image and box."""
        from loupe.demo.scenes import LABELS

        config = {
            "task": {
                "type": "boxes",
                "labels": [{"key": label} for label in LABELS],
                "media_field": "image",
            },
            "quality": {"method": "mv"},
        }
        self.create_project(
            session, name=IMAGE_PROJECT, config=config, overlap=OVERLAP, guidelines=GUIDELINES,
            description="SIMULATION: loupe demo, image requests", people=people,
        )  # fmt: skip
        create_rate_card(session, self.manager, self.project_id, RATE_CARD)
        return self.project_id

    def send(
        self, number: int, *, count: int | None = None, first: int | None = None
    ) -> ImageRound:
        """Draw this round's frames (``count``, kinds from the ``first``-th in turn) and
        import them through the gate; what it did."""
        from loupe.demo.scenes import scenes
        from loupe.formats import parse_item

        n = self.per_round if count is None else count
        # The kinds rotate across rounds, so every kind of request comes up.
        start = (number - 1) * self.per_round if first is None else first
        drawn = scenes(n, seed=self.seed * 100 + number, first=start)
        files: dict[str, io.BytesIO] = {}
        records = []
        ids = []
        for index, scene in enumerate(drawn):
            row_id = f"img-r{number}-{index:03d}"
            name = f"{row_id}.jpg"
            files[name] = io.BytesIO(scene.jpeg())
            ids.append(row_id)
            records.append(
                parse_item(
                    {"id": row_id, "text": scene.request, "image": name},
                    where=f"frame {name}", text_field="text", media_fields=("image",),
                )
            )  # fmt: skip
        result, reasons = self.import_files(files, records)
        stored = self.gate.external_ids(ids)
        for row_id, scene in zip(ids, drawn, strict=True):
            self.truth[stored[row_id]] = scene
        found_types: Counter[str] = Counter()
        with self.db.transaction(readonly=True) as session:
            regions = items.media_regions(session, self.project_id, [stored[i] for i in ids])
        for found in regions:
            found_types.update(str(r.get("type")) for r in found or [])
        faces, cards = found_types.pop("FACE", 0), found_types.pop("CREDIT_CARD", 0)
        return ImageRound(
            number, received=result.received, faces=faces, cards=cards,
            other=sum(found_types.values()), withheld=result.withheld,
            withheld_why=_withheld_note(reasons),
        )  # fmt: skip

    def crowd_draws(self, number: int) -> tuple[int, int]:
        """Every SIMULATED contributor boxes the frames routed to them until none is left;
        the boxes drawn and the labels given."""
        from loupe.demo.scenes import LABELS
        from loupe.simulation.boxes import BoxCrowd

        rng = random.Random(self.seed * 7_919 + number)
        draws = np.random.default_rng(self.seed * 7_919 + number)
        # A contributor's care with boxes follows their accuracy with labels.
        panel = BoxCrowd.from_skills([c.accuracy for c, _ in self.crowd])

        def draw(k: int, task: Task) -> list[dict[str, Any]]:
            scene = self.truth[task.external_id]
            size = task.media[0] if task.media else None
            width = int(size["width"] or scene.pixels.shape[1]) if size else 1280
            height = int(size["height"] or scene.pixels.shape[0]) if size else 720
            truth = [
                {"x": b.x, "y": b.y, "w": b.w, "h": b.h, "label": b.label} for b in scene.objects
            ]
            boxes: list[dict[str, Any]] = panel.annotator(k).draw_boxes(
                truth, labels=LABELS, width=width, height=height, rng=draws
            )
            return boxes

        done = self.crowd_submits(rng, draw)
        return sum(len(answer) for _, _, answer in done), len(done)

    def score(self, sent: ImageRound, boxes: int) -> ImageRound:
        """The round's fused boxes against the frames' ground truth."""
        from loupe.aggregation.boxes import box_score

        number = sent.round
        prefix = f"img-r{number}-"
        stored = set(self.gate.external_ids(
            [f"{prefix}{i:03d}" for i in range(sent.received)]
        ).values())  # fmt: skip
        with self.db.transaction(readonly=True) as session:
            rows = items.consensus_answers(session, self.project_id, stored)
            cost = self.round_cost(session, self.rounds)
        fused = matched = truth = 0
        iou_total = 0.0
        for external_id, answer in rows:
            if external_id not in stored or external_id not in self.truth:
                continue
            scene = self.truth[external_id]
            reference = [
                {"x": b.x, "y": b.y, "w": b.w, "h": b.h, "label": b.label} for b in scene.objects
            ]
            result = box_score(list(answer or []), reference)
            fused += len(answer or [])
            matched += result.matched
            truth += len(reference)
            iou_total += result.mean_iou * result.matched
        done = replace(
            sent, boxes=boxes, fused=fused, matched=matched, truth=truth,
            mean_iou=iou_total / matched if matched else None, cost_minor=cost,
        )  # fmt: skip
        self.rounds.append(done)
        return done

    def summary(self, *, queued: int = 0) -> str:
        """All rounds' image requests in one line (the terminal and the HTML report)."""
        rounds = self.rounds
        truth = sum(r.truth for r in rounds)
        matched = sum(r.matched for r in rounds)
        iou = sum((r.mean_iou or 0.0) * r.matched for r in rounds) / matched if matched else None
        money = sum(r.cost_minor for r in rounds) / 100
        gate = (
            f"{IMAGE_PROJECT}: {sum(r.received for r in rounds)} camera frame(s) (drawn, "
            f"SIMULATED); the gate pixelated {sum(r.faces for r in rounds)} face(s) and "
            f"{sum(r.cards for r in rounds)} card number(s) and withheld "
            f"{sum(r.withheld for r in rounds)} frame(s)"
        )
        crowd = (
            f"the SIMULATED crowd drew {sum(r.boxes for r in rounds)} boxes for €{money:,.2f}, "
            f"fused into {sum(r.fused for r in rounds)}: {matched}/{truth} objects found, "
            f"mean IoU {'–' if iou is None else f'{iou:.2f}'} vs ground truth"
            if truth
            else "nothing was served for the SIMULATED crowd to box"
        )
        return f"{gate}; {crowd}; {queued} frame(s) wait for people"

    def run_round(self, number: int) -> ImageRound:
        """Send this round's frames, let the crowd box them, score the fused boxes."""
        sent = self.send(number)
        boxes, _ = self.crowd_draws(number)
        return self.score(sent, boxes)
