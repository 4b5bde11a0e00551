"""The demo's image requests end to end: drawn frames through the real import path and the
image gate, boxed by the SIMULATED crowd, fused and scored against the ground truth."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from loupe.cli import app
from loupe.db.database import Database
from loupe.db.media_models import ItemMedia
from loupe.db.models import Item, Label
from loupe.demo import image_rounds
from loupe.demo.crowd import CROWD, Contributor
from loupe.demo.image_rounds import IMAGE_PROJECT, ImageRequests, ImageRound
from loupe.privacy import image_gate
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate, gate_for
from loupe.services.compliance.vault import init_master_key
from loupe.services.payments.ledger_keys import init_keys, ledger_config
from loupe.services.people import users
from loupe.settings import Settings
from loupe.storage import blob_store_for, served_key


@dataclass
class Demo:
    db: Database
    settings: Settings
    gate: PrivacyGate
    manager: Actor
    crowd: list[tuple[Contributor, Actor]]

    def start(self, per_round: int = 3) -> tuple[ImageRequests | None, str | None]:
        return ImageRequests.start(
            self.db, self.settings, self.gate, ledger_config(self.settings),
            manager=self.manager, crowd=self.crowd, seed=7, per_round=per_round,
        )  # fmt: skip


@pytest.fixture
def demo(db: Database, settings: Settings) -> Iterator[Demo]:
    key_dir = settings.resolved_key_dir()
    init_keys(key_dir, origin=settings.ledger_origin)
    init_master_key(key_dir)
    with db.transaction() as session:
        system = Actor.system()
        made = users.create_user(session, system, username="demo-manager", role="manager")
        manager = Actor(made.id, made.username, made.role)
        crowd = []
        for contributor in CROWD[:4] + CROWD[-1:]:  # four careful ones and the careless one
            user = users.create_user(
                session, system, username=contributor.username, role="annotator"
            )
            crowd.append((contributor, Actor(user.id, user.username, user.role)))
    gate = gate_for(settings)
    try:
        yield Demo(db, settings, gate, manager, crowd)
    finally:
        gate.close()


def _count(db: Database, model: type[Item] | type[Label] | type[ItemMedia]) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.skipif(not image_gate.ocr_available(), reason="needs Tesseract for card numbers")
def test_a_round_of_frames_is_gated_boxed_fused_and_scored(demo: Demo) -> None:
    requests, why = demo.start(per_round=3)
    assert requests is not None and why is None
    done = requests.run_round(1)  # a photo, a look and a buy frame
    assert (done.received, done.withheld) == (3, 0)
    faces = sum(scene.faces for scene in requests.truth.values())
    assert done.faces == faces >= 1 and done.cards == 1
    # Every frame was boxed by three SIMULATED contributors, paid per image and per box.
    assert _count(demo.db, Label) == 3 * 3 and done.boxes > 0 and done.cost_minor > 0
    assert done.truth == sum(len(s.objects) for s in requests.truth.values())
    assert done.fused > 0 and done.matched >= 0.8 * done.truth
    assert done.mean_iou is not None and done.mean_iou > 0.8
    assert "3 received" in done.line() and "mean IoU" in done.line()
    # What people were served has the number pixelated; the original is sealed, not served.
    store = blob_store_for(demo.settings)
    with demo.db.transaction(readonly=True) as session:
        rows = session.execute(
            select(
                Item.external_id, ItemMedia.sha256, ItemMedia.regions, ItemMedia.sealed_blob
            ).join(ItemMedia, ItemMedia.item_id == Item.id)
        ).all()
    assert len(rows) == 3
    for external_id, sha, regions, sealed in rows:
        scene = requests.truth[external_id]
        assert sealed and store.exists(sealed)
        served = np.asarray(Image.open(io.BytesIO(store.read_all(served_key(sha)))).convert("L"))
        assert served.shape == scene.pixels.shape[:2]
        for box in scene.pii:
            kind = box.label
            assert any(
                r["type"] == kind
                and r["x"] <= box.x + box.w / 2 <= r["x"] + r["width"]
                and r["y"] <= box.y + box.h / 2 <= r["y"] + r["height"]
                for r in regions
            ), (external_id, kind, regions)
    assert "SIMULATED" in requests.summary(queued=0)


def test_without_ocr_the_frames_are_withheld_and_the_round_says_why(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_gate, "ocr_available", lambda: False)
    requests, _ = demo.start(per_round=2)
    assert requests is not None
    done = requests.run_round(1)
    assert (done.received, done.withheld, done.boxes, done.truth) == (2, 2, 0, 0)
    assert _count(demo.db, Label) == 0  # nobody was handed a frame the gate could not check
    line = done.line()
    assert "2 withheld (2 without OCR: install tesseract-ocr" in line
    assert "nothing for people to box" in line and len(line.splitlines()) == 1
    assert done.served == 0
    summary = requests.summary(queued=0)
    assert "withheld 2 frame(s)" in summary and "nothing was served" in summary


def test_with_ocr_optional_the_frames_are_served_with_faces_pixelated(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_gate, "ocr_available", lambda: False)
    demo.settings = demo.settings.model_copy(update={"image_ocr": "optional"})
    requests, _ = demo.start(per_round=2)
    assert requests is not None
    done = requests.run_round(1)
    assert (done.received, done.withheld) == (2, 0)
    assert done.faces == sum(s.faces for s in requests.truth.values()) and done.cards == 0
    assert done.boxes > 0 and done.fused > 0


def test_without_the_images_extra_the_requests_are_skipped_in_one_line(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "install loupe[images] (OpenCV, Pillow) to see image requests"
    monkeypatch.setattr(image_rounds, "images_unavailable", lambda: reason)
    requests, why = demo.start()
    assert requests is None and why == reason
    line = ImageRound(1, skipped=why).line()
    assert line == f"images: skipped, {reason}" and ImageRound(1, skipped=why).cell() == "–"
    assert _count(demo.db, Item) == 0  # no project, nothing imported


def test_none_per_round_turns_the_image_requests_off(demo: Demo) -> None:
    requests, why = demo.start(per_round=0)
    assert requests is None and why == "turned off"
    with demo.db.transaction(readonly=True) as session:
        from loupe.db.models import Project

        assert not session.scalars(select(Project.name).where(Project.name == IMAGE_PROJECT)).all()


def test_the_demo_runs_without_the_images_extra_and_says_so_each_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "install loupe[images] (OpenCV, Pillow) to see image requests"
    monkeypatch.setattr(image_rounds, "images_unavailable", lambda: reason)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--database-url", url, "--rounds", "2", "--per-round", "20"]
    result = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"images: skipped, {reason}") == 2  # one line per round
    assert f"{IMAGE_PROJECT}: image requests skipped, {reason}" in result.output
