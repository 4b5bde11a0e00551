"""What the demo's camera frames (:mod:`loupe.demo.image_rounds`) and spoken requests
(:mod:`loupe.demo.audio_rounds`) share: their project, annotated by the SIMULATED crowd
and the demo's own people; a round's files imported through the real import path with
media; and starting them only where the installation can take them.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from loupe.db.database import Database
from loupe.demo.crowd import Contributor
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate
from loupe.services.payments.earnings import project_spending
from loupe.services.payments.ledger_keys import LedgerConfig
from loupe.services.people import users
from loupe.services.projects import definition
from loupe.settings import Settings

if TYPE_CHECKING:
    from loupe.formats import ItemRecord
    from loupe.services.labelling.tasks import Task
    from loupe.services.projects.items import ImportResult

__all__ = ["MediaRequests", "MediaRound"]


@dataclass(frozen=True)
class MediaRound:
    """What every kind of request with media reports of a round: how many arrived, how
    many the gate withheld and why, what the round cost, or why there were none."""

    round: int
    received: int = 0
    withheld: int = 0
    withheld_why: str = ""  # the gate's reasons, e.g. "no_ocr 2"
    cost_minor: int = 0
    skipped: str | None = None  # why there were no requests of this kind

    @property
    def served(self) -> int:
        """Requests people may see (the gate withheld the others)."""
        return self.received - self.withheld

    def held(self) -> str:
        """The withheld requests in words, e.g. ``"1 withheld (no_ocr 1)"``."""
        return f"{self.withheld} withheld" + (f" ({self.withheld_why})" if self.withheld else "")


@dataclass
class MediaRequests:
    """The requests with media of the demo's rounds: what every kind needs to set up its
    project and import a round. A kind says why an installation cannot take it
    (:meth:`unavailable`) and sets its project up (:meth:`set_up`)."""

    db: Database
    settings: Settings
    gate: PrivacyGate
    ledger: LedgerConfig
    manager: Actor
    crowd: list[tuple[Contributor, Actor]]
    seed: int
    per_round: int = 2
    project_id: int = 0

    @staticmethod
    def unavailable() -> str | None:
        """Why this installation cannot take these requests (one line), or ``None``."""
        raise NotImplementedError

    def set_up(self, session: Any, *, people: list[Actor]) -> int:
        """Create the project (:meth:`create_project`); its id."""
        raise NotImplementedError

    @classmethod
    def start(
        cls,
        db: Database,
        settings: Settings,
        gate: PrivacyGate,
        ledger: LedgerConfig,
        *,
        manager: Actor,
        crowd: list[tuple[Contributor, Actor]],
        seed: int,
        per_round: int,
        people: tuple[str, ...] = ("demo-annotator",),
    ) -> tuple[Self | None, str | None]:
        """The demo's requests of this kind, their project set up; or ``None`` and why
        not."""
        if per_round <= 0:
            return None, "turned off"
        why = cls.unavailable()
        if why is not None:
            return None, why
        requests = cls(db, settings, gate, ledger, manager, crowd, seed, per_round)
        with db.transaction() as session:
            requests.set_up(session, people=users.actors_named(session, people))
        return requests, None

    def create_project(
        self,
        session: Any,
        *,
        name: str,
        config: dict[str, Any],
        overlap: int,
        guidelines: str,
        description: str,
        people: list[Actor],
    ) -> list[Actor]:
        """Create the project (:attr:`project_id`): the demo's manager manages it, the
        SIMULATED crowd and then ``people`` annotate it; those annotators, in that order."""
        system = Actor.system()
        project = definition.create_project(
            session, system, name=name, config=config, overlap=overlap,
            guidelines=guidelines, description=description,
        )  # fmt: skip
        self.project_id = project.id
        assert self.manager.user_id is not None
        definition.add_member(session, system, project.id, user_id=self.manager.user_id,
                            role="manager")  # fmt: skip
        annotators = [a for _, a in self.crowd] + people
        for actor in annotators:
            assert actor.user_id is not None
            definition.add_member(session, system, project.id, user_id=actor.user_id,
                                role="annotator")  # fmt: skip
        return annotators

    def crowd_submits(
        self, rng: random.Random, answer: Callable[[int, Task], Any]
    ) -> list[tuple[int, Task, Any]]:
        """Every SIMULATED contributor takes the next task routed to them and submits
        ``answer(k, task)`` (``k``: their index in the crowd), in turns, until no task is
        left for anyone; ``(k, task, answer)`` of every submission. Who comes first is
        shuffled by ``rng`` every round, so everyone's work gets fused."""
        from loupe.services.labelling.labels import submit_label
        from loupe.services.labelling.tasks import next_task

        active = list(range(len(self.crowd)))
        rng.shuffle(active)
        done: list[tuple[int, Task, Any]] = []
        while active:
            for k in list(active):
                _, actor = self.crowd[k]
                with self.db.transaction() as session:
                    task = next_task(session, actor, self.project_id, lease_seconds=600, rng=rng)
                    if task is None:
                        active.remove(k)
                        continue
                    given = answer(k, task)
                    submit_label(session, actor, self.project_id, task.item_id, given,
                                 ledger=self.ledger, rng=rng)  # fmt: skip
                done.append((k, task, given))
        return done

    def round_cost(self, session: Any, rounds: Sequence[MediaRound]) -> int:
        """What the project has spent beyond what the earlier ``rounds`` cost: the cost
        of the round being scored (minor units)."""
        spent = sum(project_spending(session, self.project_id).values())
        return spent - sum(r.cost_minor for r in rounds)

    def import_files(
        self, files: dict[str, io.BytesIO], records: list[ItemRecord]
    ) -> tuple[ImportResult, Counter[str]]:
        """Import a round's ``records`` with their media ``files`` (by file name) through
        the gate, every file probed first; the result and the reasons of the items it
        withheld (``image_withheld_reason``, by count)."""
        from loupe.services.compliance.withheld import withheld_counts
        from loupe.services.projects.imports import import_records
        from loupe.services.projects.media import MEDIA_CHUNK, MediaIngest
        from loupe.services.projects.media_sources import Uploads

        media = MediaIngest(Uploads(files), self.settings)
        for record in records:
            media.probe(record)
        with self.db.transaction(readonly=True) as session:
            held_before = Counter(withheld_counts(session, self.manager, self.project_id).by_reason)
        result = import_records(
            self.db, self.manager, self.project_id, records,
            gate=self.gate, gate_chunk=MEDIA_CHUNK, media=media,
        )  # fmt: skip
        with self.db.transaction(readonly=True) as session:
            held_after = Counter(withheld_counts(session, self.manager, self.project_id).by_reason)
        return result, held_after - held_before
