"""``loupe demo``: the wearable-assistant loop end to end — a SIMULATION of the crowd.

A smart-glasses assistant's intent model starts from a small hand-labelled seed.
Traffic arrives in rounds; each round the deployed model predicts every request
and sends the predictions to Loupe
(:func:`loupe.services.model_loop.predictions.ingest_predictions`):
they pass the privacy gate, the selection hands the uncertain, out-of-scope, novel
and randomly audited ones to people, and the model answers the rest. Simulated
contributors (:mod:`loupe.demo.crowd`) label through ``next task`` and ``submit``
and are paid on the ledger; the quality engine re-fits their skills; the model is
retrained and promoted when it beats the champion on the gold set. Everything
runs in-process through the services, deterministically for a seed.
"""

from __future__ import annotations

import random
import resource
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loupe.db.database import Database
from loupe.demo.audio_rounds import AUDIO_PROJECT, AudioRequests, AudioRound
from loupe.demo.crowd import CROWD, Contributor
from loupe.demo.image_rounds import IMAGE_PROJECT, ImageRequests, ImageRound
from loupe.demo.intent_model import IntentModel, choose_intent_model
from loupe.demo.sources import Source
from loupe.errors import Conflict, PermissionDenied
from loupe.formats import parse_item
from loupe.learning import EmbeddingModel, Model, evaluate
from loupe.learning.persistence import ModelStore
from loupe.reports.label_efficiency import render_html
from loupe.services.access import Actor
from loupe.services.compliance.gate import PrivacyGate, gate_for
from loupe.services.compliance.key_binding import bind_key_dir
from loupe.services.compliance.vault import init_master_key
from loupe.services.labelling.escalations import next_expert_task, resolve_escalation
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.reviews import next_review, submit_review
from loupe.services.labelling.tasks import next_task, take_item
from loupe.services.model_loop.efficiency import ControlItem, EfficiencyReport, label_efficiency
from loupe.services.model_loop.loop_settings import LoopSettings, set_loop_settings
from loupe.services.model_loop.model_versions import champion_model, labels_bought, retrain
from loupe.services.model_loop.predictions import (
    MAX_PREDICTIONS,
    PredictionIn,
    PredictionsResult,
    human_resolved_answers,
    ingest_predictions,
    model_agreement,
    predicted_labels,
)
from loupe.services.model_loop.serving import ChampionCache, predict
from loupe.services.payments.earnings import create_rate_card, project_spending
from loupe.services.payments.ledger import audit_ledger, publish
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys, ledger_config
from loupe.services.people import users
from loupe.services.people.clearances import grant_clearance
from loupe.services.people.profiles import grant_domain
from loupe.services.people.standing import standings
from loupe.services.projects import definition, items
from loupe.services.quality import gold, refits
from loupe.services.quality.per_contributor import skill_ranking
from loupe.settings import Settings

__all__ = ["DemoConfig", "DemoResult", "RoundResult", "run_demo"]

PROJECT = "wearable-assistant"
GUIDELINES = """SIMULATION — a demo project. Choose the skill the wearer asked the glasses for.
Use out_of_scope for anything the glasses cannot do: chit-chat, medical or legal advice, and
requests for skills they do not have (timers, weather, smart-home)."""
REVIEWERS = frozenset({"sim-ana", "sim-bruno"})
ROUTING: dict[str, Any] = {
    "domain_levels": {"medical": 1, "legal": 1},
    "priority": "expertise",
    "min_reputation": 0.6,
}
RATE_CARD: dict[str, Any] = {
    "currency": "EUR",
    "rates": [
        {"amount_minor": 4},
        {"domain": "medical", "amount_minor": 12},
        {"domain": "legal", "amount_minor": 10},
    ],
}


@dataclass(frozen=True)
class DemoConfig:
    database_url: str
    source: Source
    seed: int = 7
    report: Path | None = None
    overlap: int = 3
    label_share: float = 0.2
    audit_share: float = 0.1
    oos_threshold: float = 0.3
    mix: dict[str, float] = field(
        default_factory=lambda: {"margin": 0.5, "out_of_scope": 0.25, "novelty": 0.25}
    )
    # Camera frames per round ("take a photo", "buy this"...; 0: none): loupe.demo.image_rounds.
    # Each costs about a CPU second in the image gate (most of it OCR).
    images_per_round: int = 1
    # Spoken requests per round (0: none): loupe.demo.audio_rounds. Two cost about 0.1 s
    # of CPU a round: espeak-ng, the audio import, the post-edits and their fusion.
    audio_per_round: int = 2
    # The intent model's trainer: sentence embeddings when installed (loupe.demo.intent_model).
    intent: IntentModel = field(default_factory=choose_intent_model)


@dataclass(frozen=True)
class RoundResult:
    round: int
    model_version: int
    accuracy: float
    oos_recall: float | None
    to_people: int
    labels: int
    cost_minor: int
    promoted: bool
    images: ImageRound | None = None  # the round's image requests
    audio: AudioRound | None = None  # the round's spoken requests
    served_by: int = 0  # the champion version that answered the round's traffic
    shadow: str = ""  # the challenger in shadow after the round's retrain, if any


@dataclass(frozen=True)
class DemoResult:
    project_id: int
    rounds: list[RoundResult]
    ledger_entries: int
    queue: int
    report: Path | None
    seconds: float
    peak_rss_mib: float
    passwords: dict[str, str]
    admin_token: str
    # The label-efficiency report, its random control simulated at equal budgets.
    efficiency: EfficiencyReport | None = None
    images_queued: int = 0  # frames left for people in the image project
    audio_queued: int = 0  # spoken requests left for people in the audio project
    intent_model: str = ""  # which trainer the intent model used, as printed


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class _Loop:
    """The demo's state between steps."""

    config: DemoConfig
    db: Database
    ledger: LedgerConfig
    gate: PrivacyGate
    console: Console
    project_id: int = 0
    manager: Actor = field(default_factory=Actor.system)
    crowd: list[tuple[Contributor, Actor]] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)
    model: Model | None = None
    store: ModelStore | None = None
    test_texts: list[str] = field(default_factory=list)
    # The test set's sentence vectors, encoded once: every embeddings model reads the same.
    test_vectors: np.ndarray[Any, np.dtype[np.float64]] | None = None
    version: int = 0
    champions: ChampionCache | None = None  # the champion as Loupe serves it (POST /predict)
    served_by: int = 0
    shadow: str = ""
    escalations_settled: int = 0
    reviews: int = 0

    # --- set-up ---------------------------------------------------------------------------

    def set_up(self) -> tuple[dict[str, str], str]:
        system = Actor.system()
        source = self.config.source
        passwords: dict[str, str] = {}
        with self.db.transaction() as session:
            if users.count_users(session):
                raise Conflict(
                    f"{self.db.url} is not empty; give the demo a new --database-url "
                    "(or --force to replace a SQLite file)"
                )
            admin = users.create_user(session, system, username="demo-admin", role="admin")
            token = users.issue_token(session, system, user_id=admin.id, name="demo").secret
            people = {}
            for username, role in (("demo-manager", "manager"), ("demo-annotator", "annotator")):
                user = users.create_user(session, system, username=username, role=role)
                passwords[username] = secrets.token_urlsafe(9)
                users.set_password(session, system, user_id=user.id, password=passwords[username])
                people[username] = user
            quality_policy = {"method": "ocds", "dynamic_overlap": True, "target": 0.9,
                              "min_labels": 2, "refit_every": 100, "gold_rate": 0.05}  # fmt: skip
            config = {
                "task": {"type": "single_choice", "labels": [{"key": k} for k in source.labels]},
                "quality": quality_policy,
                # Medical and legal requests go only to contributors qualified for them,
                # specialists first; a contributor confidently below 0.6 in a domain stops
                # receiving it; 10% of labels are peer-reviewed, blind.
                "routing": ROUTING,
                "review": {"rate": 0.1, "min_tier": "trusted"},
            }
            project = definition.create_project(
                session, system, name=PROJECT, config=config, overlap=self.config.overlap,
                guidelines=GUIDELINES, description="SIMULATION: loupe demo",
            )  # fmt: skip
            self.project_id = project.id
            manager = people["demo-manager"]
            self.manager = Actor(manager.id, manager.username, manager.role)
            definition.add_member(session, system, project.id, user_id=manager.id, role="manager")
            for domain in ROUTING["domain_levels"]:  # the project owner labels the seed set
                grant_domain(session, system, manager.id, domain, 3)
            # Health data needs a clearance (GDPR art. 9); the administrator clears the
            # owner and, below, the contributors credentialed for medical requests.
            grant_clearance(session, system, user_id=manager.id, project_id=project.id,
                            sensitivity="health")  # fmt: skip
            annotator = people["demo-annotator"]
            definition.add_member(
                session, system, project.id, user_id=annotator.id, role="annotator"
            )
            for contributor in CROWD:
                user = users.create_user(
                    session, system, username=contributor.username, role="annotator",
                    display_name=f"SIMULATED contributor ({contributor.accuracy:.2f})",
                )  # fmt: skip
                # The two most experienced are the project's reviewers from the start;
                # others may review once their reputation reaches the trusted tier.
                role = "reviewer" if contributor.username in REVIEWERS else "annotator"
                definition.add_member(session, system, project.id, user_id=user.id, role=role)
                self.crowd.append((contributor, Actor(user.id, user.username, user.role)))
                # The manager records the credentials each simulated contributor holds.
                for domain, level in contributor.levels:
                    grant_domain(session, self.manager, user.id, domain, level)
                if any(domain == "medical" for domain, _ in contributor.levels):
                    grant_clearance(session, system, user_id=user.id, project_id=project.id,
                                    sensitivity="health")  # fmt: skip
            create_rate_card(session, self.manager, project.id, RATE_CARD)
            set_loop_settings(
                session, self.manager, project.id,
                LoopSettings(mix=dict(self.config.mix), audit_share=self.config.audit_share,
                             label_share=self.config.label_share,
                             oos_threshold=self.config.oos_threshold, seed=self.config.seed,
                             trainer=self.config.intent.trainer),
            )  # fmt: skip
            self._import(session, source.gold)
            gold.set_gold(session, self.manager, project.id,
                          [(row["id"], row["intent"]) for row in source.gold],
                          gate=self.gate)  # fmt: skip
            self._import(session, source.seed)
        # The project owner labels the seed by hand: a few examples per intent.
        seeded = random.Random(self.config.seed)
        for row in source.seed:
            with self.db.transaction() as session:
                external_id = self.gate.external_ids([row["id"]])[row["id"]]
                item_id = items.item_id_for(session, self.project_id, external_id)
                assert item_id is not None
                # Staff choose the items they label, under a lease like anyone else's.
                take_item(session, self.manager, self.project_id, item_id, lease_seconds=600)
                submit_label(session, self.manager, self.project_id, item_id, row["intent"],
                             ledger=self.ledger, rng=seeded)  # fmt: skip
        return passwords, token

    def _remember(self, rows: Sequence[dict[str, Any]]) -> None:
        """The simulation's ground truth, by each item's id as the gate stores it."""
        stored = self.gate.external_ids([row["id"] for row in rows])
        for row in rows:
            self.truth[stored[row["id"]]] = row["intent"]
            self.originals[stored[row["id"]]] = row["text"]

    def _import(self, session: Any, rows: Sequence[dict[str, Any]]) -> None:
        self._remember(rows)
        records = [
            parse_item(
                {k: v for k, v in row.items() if k != "intent"}, where="demo", text_field="text"
            )
            for row in rows
        ]
        items.insert_items(session, self.manager, self.project_id, records, gate=self.gate)

    # --- one round ------------------------------------------------------------------------

    def send_traffic(self, rows: Sequence[dict[str, Any]]) -> PredictionsResult:
        """The deployed model predicts every request and reports to Loupe."""
        assert self.model is not None
        texts = self.redacted([row["text"] for row in rows])
        if self.store is not None:  # Loupe's own champion answers, loaded from the store
            self.champions = self.champions or ChampionCache(self.store)
            with self.db.transaction(readonly=True) as session:
                served = predict(
                    session, self.manager, self.project_id, texts, cache=self.champions
                )
            classes = served.classes
            probabilities = np.array([[p[c] for c in classes] for p in served.probabilities])
            self.served_by = served.model_version
        else:
            probabilities = self.model.predict_proba(texts)
            classes = self.model.classes_
            self.served_by = self.version
        batch = []
        self._remember(rows)
        for row, probs in zip(rows, probabilities, strict=True):
            best = int(probs.argmax())
            batch.append(
                PredictionIn(
                    id=row["id"], text=row["text"], label=classes[best],
                    probabilities={c: float(p) for c, p in zip(classes, probs, strict=True)},
                    language=row.get("language"), domain=row.get("domain"),
                    model_version=f"v{self.served_by}",
                )
            )  # fmt: skip
        totals = PredictionsResult(0, 0, 0, 0, 0, 0, {})
        for start in range(0, len(batch), MAX_PREDICTIONS):
            with self.db.transaction() as session:
                done = ingest_predictions(
                    session, self.manager, self.project_id,
                    batch[start : start + MAX_PREDICTIONS], gate=self.gate,
                )  # fmt: skip
            by = dict(totals.by_strategy)
            for name, n in done.by_strategy.items():
                by[name] = by.get(name, 0) + n
            totals = PredictionsResult(
                totals.received + done.received, totals.created + done.created,
                totals.existing + done.existing, totals.to_people + done.to_people,
                totals.model_resolved + done.model_resolved, totals.redacted + done.redacted, by,
            )  # fmt: skip
        return totals

    def redacted(self, texts: Sequence[str]) -> list[str]:
        """What the model sees: the assistant redacts on the device, as the gate does."""
        checked = self.gate.check([{"text": text} for text in texts], policy="placeholder")
        return [str(result.data["text"]) for result in checked]

    def crowd_works(self, round_number: int) -> None:
        """Every simulated contributor works in turn until nothing is left for anyone: an
        expert first takes escalated items of their domain, a trusted contributor reviews
        a label waiting for review, and everyone labels the next task routed to them."""
        rng = random.Random(self.config.seed * 1_000 + round_number)
        active = list(self.crowd)
        may_review = {actor.user_id for _, actor in self.crowd}
        while active:
            for contributor, actor in list(active):
                with self.db.transaction() as session:
                    if contributor.expert_anywhere and self._answer_escalation(
                        session, contributor, actor, rng
                    ):
                        continue
                    if actor.user_id in may_review:
                        try:
                            if self._review(session, contributor, actor, rng):
                                continue
                        except PermissionDenied:  # not yet trusted: label instead
                            may_review.discard(actor.user_id)
                    try:
                        task = next_task(
                            session, actor, self.project_id, lease_seconds=600, rng=rng
                        )
                    except PermissionDenied:  # paused by the quality engine, with the reason
                        task = None
                    if task is None:
                        active.remove((contributor, actor))
                        continue
                    answer = self._answer(contributor, task.external_id, task.language,
                                          task.domain, rng)  # fmt: skip
                    submit_label(session, actor, self.project_id, task.item_id, answer,
                                 ledger=self.ledger, rng=rng)  # fmt: skip

    def _answer(
        self,
        contributor: Contributor,
        external_id: str,
        language: str | None,
        domain: str,
        rng: random.Random,
    ) -> str:
        return contributor.answer(
            self.truth[external_id], language=language, domain=domain,
            labels=self.config.source.labels, rng=rng,
        )  # fmt: skip

    def _answer_escalation(
        self, session: Any, contributor: Contributor, actor: Actor, rng: random.Random
    ) -> bool:
        task = next_expert_task(session, actor, self.project_id, lease_seconds=600)
        if task is None:
            return False
        answer = self._answer(contributor, task.external_id, task.language, task.domain, rng)
        resolve_escalation(session, actor, self.project_id, task.item_id, answer=answer,
                           ledger=self.ledger)  # fmt: skip
        self.escalations_settled += 1
        return True

    def _review(
        self, session: Any, contributor: Contributor, actor: Actor, rng: random.Random
    ) -> bool:
        task = next_review(session, actor, self.project_id, lease_seconds=600)
        if task is None:
            return False
        own = self._answer(contributor, task.external_id, task.language, task.domain, rng)
        if own == task.answer:
            submit_review(session, actor, self.project_id, task.label_id, verdict="accept",
                          ledger=self.ledger)  # fmt: skip
        else:
            submit_review(session, actor, self.project_id, task.label_id, verdict="correct",
                          reason="SIMULATED reviewer disagrees", corrected_answer=own,
                          ledger=self.ledger)  # fmt: skip
        self.reviews += 1
        return True

    def retrain(self) -> bool:
        with self.db.transaction() as session:
            refits.refit(session, self.project_id)
        with self.db.transaction() as session:
            outcome = retrain(session, self.manager, self.project_id, store=self.store)
            before = self.version
            if self.store is None:  # promoted on the gold set alone
                if outcome.decision.promote:
                    self.model, self.version = outcome.model, outcome.record.version
            else:
                # The champion after this retrain: a challenger shadowed since an earlier
                # round may just have been promoted, while this one waits in the shadow.
                champion = champion_model(session, self.manager, self.project_id, store=self.store)
                if champion is not None and champion[0].version != self.version:
                    self.version, self.model = champion[0].version, champion[1]
            promoted = self.version != before
            record = outcome.record
            self.shadow = ""
            if record.shadow_status == "pending":
                seen = f"{record.shadow['n']} live labels so far" if record.shadow else "new"
                self.shadow = f"challenger v{record.version} in shadow ({seen})"
        return promoted

    def test(self) -> tuple[float, float | None]:
        assert self.model is not None
        source = self.config.source
        result = evaluate(
            [row["intent"] for row in source.test],
            self._test_probabilities(self.model),
            self.model.classes_,
            threshold=self.config.oos_threshold if source.oos_label else None,
            oos_label=source.oos_label or "oos",
        )
        return result.accuracy, result.oos_recall

    def _test_probabilities(self, model: Model) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The model's answers on the test set; MiniLM encodes it once, not every round
        (about 140 sentences per CPU second: docs/benchmarks-selection.md)."""
        if not isinstance(model, EmbeddingModel) or model.encoder is not None:
            return model.predict_proba(self.test_texts)
        if self.test_vectors is None:
            self.test_vectors = model.encode(self.test_texts)
        return model.predict_proba_vectors(self.test_vectors)

    def counts(self) -> tuple[int, int]:
        """Human labels bought (on non-gold items: the count each model version records,
        and the HTML report prints) and their cost so far (the whole ledger, as recorded)."""
        with self.db.transaction(readonly=True) as session:
            n = labels_bought(session, self.project_id)
            # From the logged entry bytes (the demo pays in one currency).
            cost = sum(project_spending(session, self.project_id).values())
        return n, cost

    def standing(self) -> tuple[str, str]:
        """Reputation tiers across the crowd (for the table), and the best and worst
        standings (for the line under it)."""
        names = {actor.user_id: c.username for c, actor in self.crowd}
        with self.db.transaction(readonly=True) as session:
            rows = standings(session, [user for user in names if user is not None])
        tiers: dict[str, int] = {}
        for _, _, _, tier in rows:
            tiers[tier] = tiers.get(tier, 0) + 1
        order = ("expert", "trusted", "standard", "new")
        counts = ", ".join(f"{tiers[t]} {t}" for t in order if t in tiers) or "–"
        shown = [f"{names[u]} {d} {m:.2f} ({t})" for u, d, m, t in rows]
        line = ", ".join(shown[:3]) + (f" … lowest: {shown[-1]}" if len(shown) > 3 else "")
        return counts, line or "no evidence yet"

    def top_contributors(self, n: int = 3) -> str:
        names = {actor.user_id: c.username for c, actor in self.crowd}
        with self.db.transaction(readonly=True) as session:
            rows = skill_ranking(session, self.project_id)
        shown = [f"{names[u]} {a:.2f}" for u, a, _ in rows if u in names][:n]
        worst = [f"{names[u]} {a:.2f}" for u, a, _ in rows if u in names][-1:]
        return ", ".join(shown) + (f" … lowest: {worst[0]}" if worst else "")

    def show_redactions(self, limit: int = 3) -> None:
        with self.db.transaction(readonly=True) as session:
            rows = items.personal_items(session, self.project_id, limit=limit, external_prefix="r")
            n = items.count_personal_items(session, self.project_id)
        self.console.print(
            f"[bold]privacy gate:[/] {n} item(s) carried personal data; annotators see them "
            "redacted (originals sealed under per-subject keys):"
        )
        for external_id, data in rows:
            original = self.originals.get(external_id, "?")
            self.console.print(f"   {original!r}  →  {data.get('text')!r}")


def _table(config: DemoConfig) -> Table:
    table = Table(title=None, show_edge=False, pad_edge=False)
    for column in ("round", "model", "test accuracy", "OOS recall", "to people", "labels",
                   "cost", "reputation", "images", "audio"):  # fmt: skip
        table.add_column(column, justify="right")
    return table


def _money(minor: int) -> str:
    return f"€{minor / 100:,.2f}"


def run_demo(config: DemoConfig, *, console: Console) -> DemoResult:
    """Run the whole scenario; print each round; return the figures."""
    started = time.perf_counter()
    settings = Settings(database_url=config.database_url)
    key_dir = settings.resolved_key_dir()
    init_keys(key_dir, origin=settings.ledger_origin)
    init_master_key(key_dir)
    db = Database(settings.database_url)
    db.migrate()
    bind_key_dir(db, key_dir)
    source = config.source
    console.rule("[bold]Loupe demo — the wearable-assistant loop (SIMULATED crowd)")
    console.print(
        f"{len(source.labels)} intents · seed {len(source.seed)} hand-labelled · gold "
        f"{len(source.gold)} · test {len(source.test)} · {len(source.traffic) - 1} round(s) of "
        f"{len(source.traffic[0]) if source.traffic else 0} requests · {len(CROWD)} SIMULATED "
        f"contributors · database {db.url}"
    )
    console.print(escape(config.intent.line))
    store = ModelStore(settings.resolved_model_dir())
    loop = _Loop(config, db, ledger_config(settings), gate_for(settings), console, store=store)
    try:
        passwords, token = loop.set_up()
        images, no_images = ImageRequests.start(
            db, settings, loop.gate, loop.ledger, manager=loop.manager, crowd=loop.crowd,
            seed=config.seed, per_round=config.images_per_round,
        )  # fmt: skip
        audio, no_audio = AudioRequests.start(
            db, settings, loop.gate, loop.ledger, manager=loop.manager, crowd=loop.crowd,
            seed=config.seed, per_round=config.audio_per_round,
        )  # fmt: skip
        loop.test_texts = loop.redacted([row["text"] for row in source.test])
        loop.retrain()
        accuracy, oos = loop.test()
        console.print(
            f"seed model v{loop.version}: test accuracy {accuracy:.1%}, OOS recall "
            f"{'–' if oos is None else f'{oos:.1%}'}"
        )
        rounds: list[RoundResult] = []
        labels_before, cost_before = loop.counts()
        for number, traffic in enumerate(source.traffic[:-1], start=1):
            sent = loop.send_traffic(traffic)
            if number == 1:
                loop.show_redactions()
            loop.crowd_works(number)
            pictures = images.run_round(number) if images else ImageRound(number, skipped=no_images)
            spoken = audio.run_round(number) if audio else AudioRound(number, skipped=no_audio)
            labels_now, cost_now = loop.counts()
            promoted = loop.retrain()
            accuracy, oos = loop.test()
            result = RoundResult(
                number, loop.version, accuracy, oos, sent.to_people,
                labels_now - labels_before, cost_now - cost_before, promoted, pictures, spoken,
                loop.served_by, loop.shadow,
            )  # fmt: skip
            rounds.append(result)
            labels_before, cost_before = labels_now, cost_now
            tiers, standings = loop.standing()
            table = _table(config)
            strategies = ", ".join(f"{k} {v}" for k, v in sent.by_strategy.items())
            table.add_row(
                str(number),
                f"v{loop.version}{' (new)' if promoted else ''}",
                f"{accuracy:.1%}",
                "–" if oos is None else f"{oos:.1%}",
                f"{sent.to_people}/{sent.received}",
                str(result.labels),
                _money(result.cost_minor),
                tiers,
                pictures.cell(),
                spoken.cell(),
            )
            console.print(table)
            console.print(
                f"   traffic served by champion v{result.served_by} (POST /predict)"
                f"{'; ' + result.shadow if result.shadow else ''}\n"
                f"   selection: {strategies}; model answered {sent.model_resolved}; "
                f"{sent.redacted} redacted by the privacy gate\n"
                f"   contributors' skill (one-coin Dawid-Skene): {loop.top_contributors()}\n"
                f"   reputation per domain (Beta posterior mean, tier): {standings}\n"
                f"   so far: {loop.reviews} peer reviews, {loop.escalations_settled} escalations "
                f"settled by domain experts\n   {escape(pictures.line())}\n   "
                f"{escape(spoken.line())}",
                style="dim",
            )
        # Tomorrow morning's traffic arrives: its selected items wait for real people in the UI.
        queue = loop.send_traffic(source.traffic[-1]).to_people if source.traffic else 0
        # and a "buy this" frame (a card, maybe a face) waits for them in the image project.
        images_queued = images.send(len(rounds) + 1, count=1, first=2).served if images else 0
        # and a spoken request waits for them to post-edit (the voice-cleared hear it).
        audio_queued = audio.send(len(rounds) + 1, count=1).served if audio else 0
        keys = ledger_config(settings).keys
        with db.transaction() as session:
            publish(session, Actor.system(), keys)  # sign the final tree head
        with db.transaction(readonly=True) as session:
            audit = audit_ledger(
                session, Actor.system(), verifier_keys=keys.verifier_keys, secret=keys.secret
            )
            agreement = model_agreement(session, loop.manager, loop.project_id)
            control = _ControlLabels(loop, *_consensus_accuracy(loop, session))
            report = label_efficiency(
                session, loop.manager, loop.project_id,
                simulate=control.label, random_state=config.seed,
            )  # fmt: skip
        console.print(
            f"[bold green]ledger verified:[/] {audit.entries} entries, {audit.checkpoints} "
            f"signed checkpoint(s), root {audit.root.hex()[:16]}…"
        )
        truth_accuracy = _traffic_accuracy(loop)
        if agreement.audit_accuracy is not None:
            console.print(
                f"audit estimate of the model's accuracy on all traffic: "
                f"{agreement.audit_accuracy:.1%} ± {agreement.audit_standard_error or 0:.1%} "
                f"({agreement.audit_n} random audit items); true value (known only to the "
                f"simulation): {truth_accuracy:.1%}"
            )
        # The same figures as the HTML report: one source (the last model version's record).
        last = report.points[-1] if report.points else None
        labels_total, cost_total = (last.n_labels, last.cost_minor) if last else loop.counts()
        console.print(
            f"[bold]summary:[/] {labels_total} human labels for {_money(cost_total)}; "
            f"{agreement.n_to_people} of {agreement.n_predictions} requests went to people, "
            f"{agreement.n_model_resolved} were answered by the model; final model "
            f"v{loop.version} at {rounds[-1].accuracy if rounds else accuracy:.1%} test accuracy"
        )
        pictures_note = (
            images.summary(queued=images_queued) if images
            else f"{IMAGE_PROJECT}: image requests skipped, {no_images}"
        )  # fmt: skip
        console.print(f"[bold]images:[/] {escape(pictures_note)}")
        speech_note = (
            audio.summary(queued=audio_queued) if audio
            else f"{AUDIO_PROJECT}: spoken requests skipped, {no_audio}"
        )  # fmt: skip
        console.print(f"[bold]audio:[/] {escape(speech_note)}")
        path = None
        if config.report is not None:
            path = config.report
            path.write_text(
                render_html(report, title="Loupe demo — wearable assistant (SIMULATION)",
                            notes=["SIMULATION: the contributors are simulated, not people.",
                                   f"Intent model: {config.intent.description}.",
                                   control.note(), f"Images: {pictures_note}",
                                   f"Audio: {speech_note}"]),
                encoding="utf-8",
            )  # fmt: skip
            console.print(f"report: {path}")
    finally:
        loop.gate.close()
        db.dispose()
    seconds = time.perf_counter() - started
    return DemoResult(
        project_id=loop.project_id,
        rounds=rounds,
        ledger_entries=audit.entries,
        queue=queue,
        report=path,
        seconds=seconds,
        peak_rss_mib=_peak_rss_mib(),
        passwords=passwords,
        admin_token=token,
        efficiency=report,
        images_queued=images_queued,
        audio_queued=audio_queued,
        intent_model=config.intent.description,
    )


def _consensus_accuracy(loop: _Loop, session: Any) -> tuple[float, int, str]:
    """How often the people's consensus was right (the simulation knows the truth) on the
    random audit items — drawn like the control's, unlike the strategy's hard picks — or,
    before any audit item was labelled, on all the traffic people labelled."""
    from loupe.selection import AUDIT

    rows = human_resolved_answers(session, loop.project_id)
    rows = [row for row in rows if row.external_id in loop.truth]
    audit = [row for row in rows if row.strategy == AUDIT]
    judged, where = (audit, "random audit items") if audit else (rows, "items they labelled")
    right = sum(row.answer == loop.truth[row.external_id] for row in judged)
    return (right / len(judged) if judged else 1.0), len(judged), where


@dataclass
class _ControlLabels:
    """SIMULATED labels for the random control's items that nobody labelled: the true
    intent as often as the people's consensus was right (``right``), otherwise the
    crowd's typical confusion (:meth:`Contributor.answer` when it is wrong)."""

    loop: _Loop
    right: float
    judged: int
    where: str
    given: int = 0
    correct: int = 0

    def label(self, item: ControlItem, rng: np.random.Generator) -> str:
        truth = self.loop.truth[item.external_id]
        draw = random.Random(int(rng.integers(2**63)))
        answer = truth
        if draw.random() >= self.right:  # a contributor of accuracy 0 always errs
            wrong = Contributor("sim-control", 0.0, ())
            answer = wrong.answer(truth, language=None, domain="general",
                                  labels=self.loop.config.source.labels, rng=draw)  # fmt: skip
        self.given += 1
        self.correct += answer == truth
        return answer

    def note(self) -> str:
        share = f"{self.correct / self.given:.1%}" if self.given else "–"
        return (
            "SIMULATION: the random control is trained, at every budget of the strategy's "
            "curve, on items drawn uniformly at random from the same traffic. Drawn items "
            f"people labelled keep their consensus; the other {self.given} (over all draws) "
            f"got SIMULATED labels, right {share} of the time, to match the people's "
            f"consensus, which was right on {self.right:.1%} of the {self.judged} "
            f"{self.where} (known only to the simulation)."
        )


def _traffic_accuracy(loop: _Loop) -> float:
    """The share of traffic the model answered correctly at the time (the simulation knows)."""
    with loop.db.transaction(readonly=True) as session:
        rows = predicted_labels(session, loop.project_id)
    judged = [label == loop.truth[ext] for ext, label in rows if ext in loop.truth]
    return sum(judged) / len(judged) if judged else 0.0
