"""SIMULATED contributors: expertise routing + reputation vs everyone-to-everything.

    nice .venv/bin/python bench/contributors/bench_routing.py --seeds 0 1 2 3 4   # ~3 min
    nice .venv/bin/python bench/contributors/bench_routing.py --method ds         # full DS

Every contributor here is SIMULATED (a one-coin annotator from
``loupe.simulation.annotators`` with an accuracy per domain); no person labelled
anything. The work goes through the real services on a fresh SQLite database per
run (``next_task``, ``submit_label``, qualification tests, gold tasks, the
background re-fit, the escalation ladder), as the API would call them.

The dataset: ``--items`` single-choice items with 5 classes, half general, a
quarter medical and a quarter legal; the truth is known to the benchmark only.
The crowd: 12 general contributors (0.80-0.90 on general items, 0.45-0.55 on
specialist items), 2 medical and 2 legal experts (0.93-0.97 in their domain,
0.75-0.85 elsewhere).

* Arm ``A``, everyone to everything: no routing policy, a fixed overlap of 3,
  everyone works in a shuffled round-robin until the queue is empty; consensus by
  the project's aggregator (``--method``) re-fitted at the end.
* Arm ``B``, routing + reputation: medical and legal items need level >= 1 in their
  domain, earned only by passing the domain's qualification test (10 questions,
  pass mark 0.9, grants level 3); everyone takes both tests once. Priority
  "expertise"; gold tasks (``--gold-rate``) feed reputation and anchor the skill
  model; dynamic overlap (target 0.95, at most 3 labels) with the escalation
  ladder, which experts work first at each turn. Stops when the queue is empty or
  when arm A's budget is spent.
* Arm ``B-no-gold``: arm B without gold tasks (an ablation of the reputation part).
* Arm ``A-dyn5``: everyone to everything with B's dynamic overlap, up to 5 labels an
  item, within arm A's budget (the same budget spent adaptively, without routing).

The aggregator (``--method``, every arm) defaults to one-coin Dawid-Skene (``ocds``);
docs/benchmarks-contributors.md explains why and reports ``ds``.

Cost is counted in answers at one flat rate: every label (task labels, gold
answers, an expert's answer to an escalation) plus every qualification question
answered. Equal cost: the B arms may spend at most what arm A spent (3 per item).
Writes ``bench/contributors/results/routing.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loupe.db.contributor_models import ContributorDomain, QualificationAttempt
from loupe.db.database import Database
from loupe.db.models import Consensus, Item, Label
from loupe.db.quality_models import Escalation
from loupe.errors import PermissionDenied
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.labelling import tasks
from loupe.services.labelling.escalations import next_expert_task, resolve_escalation
from loupe.services.labelling.labels import submit_label
from loupe.services.people import users
from loupe.services.people.standing import explain
from loupe.services.projects import definition
from loupe.services.projects import items as items_service
from loupe.services.quality import qualifications, refits
from loupe.services.quality.gold import set_gold
from loupe.simulation.annotators import SimulatedAnnotators

ARMS = ("A", "A-dyn5", "B", "B-no-gold")
DYNAMIC_MAX = 5  # arm A-dyn5: the most labels an item may collect
DOMAINS = ("general", "medical", "legal")
SPECIALIST = ("medical", "legal")
SHARES = {"general": 0.5, "medical": 0.25, "legal": 0.25}
CLASSES = ("c1", "c2", "c3", "c4", "c5")
OVERLAP = 3
LEASE = 600
PASS_MARK = 0.9
EXPERT_RATE = 2.0  # a second pricing, reported alongside: an expert's answer costs 2 crowd answers
RESULTS = Path(__file__).resolve().parent / "results" / "routing.json"
SIMULATED = "SIMULATED contributors (loupe.simulation one-coin annotators), not people"


# --- the synthetic world (known to the benchmark only) ------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    kind: str  # "general", "medical expert" or "legal expert"
    accuracy: dict[str, float]  # per domain


@dataclass(frozen=True)
class World:
    truth: dict[str, int]  # external id -> class index, for the evaluated items
    domain: dict[str, str]
    gold: list[tuple[str, str, int]]  # (external id, domain, class index), shuffled
    questions: dict[str, list[int]]  # domain -> its qualification test's answers
    people: list[Person]


def make_world(seed: int, n_items: int, n_gold: int, n_questions: int) -> World:
    rng = np.random.default_rng([seed, 1])
    domains = [d for d in DOMAINS for _ in range(round(n_items * SHARES[d]))][:n_items]
    rng.shuffle(domains)  # interleaved, so first-in-first-out mixes the domains
    truth = {f"item-{i:04d}": int(rng.integers(len(CLASSES))) for i in range(len(domains))}
    domain = {f"item-{i:04d}": d for i, d in enumerate(domains)}
    gold = [
        (f"gold-{d}-{i:03d}", d, int(rng.integers(len(CLASSES))))
        for d in DOMAINS
        for i in range(round(n_gold * SHARES[d]))
    ]
    gold = [gold[i] for i in rng.permutation(len(gold))]  # gold is handed out by id
    questions = {
        d: [int(x) for x in rng.integers(len(CLASSES), size=n_questions)] for d in SPECIALIST
    }
    people = [
        Person(
            f"general-{i + 1:02d}",
            "general",
            {
                "general": float(rng.uniform(0.80, 0.90)),
                "medical": float(rng.uniform(0.45, 0.55)),
                "legal": float(rng.uniform(0.45, 0.55)),
            },
        )
        for i in range(12)
    ]
    for d in SPECIALIST:
        for i in range(2):
            accuracy = {other: float(rng.uniform(0.75, 0.85)) for other in DOMAINS}
            accuracy[d] = float(rng.uniform(0.93, 0.97))
            people.append(Person(f"{d}-expert-{i + 1}", f"{d} expert", accuracy))
    return World(truth, domain, gold, questions, people)


class Answerer:
    """What a simulated person answers: the truth with their accuracy in the item's
    domain, otherwise one of the other classes uniformly (one-coin)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 2])

    def __call__(self, person: Person, domain: str, truth: int) -> str:
        panel = SimulatedAnnotators(np.array([person.accuracy[domain]]))
        given = panel.annotate(np.array([truth]), n_classes=len(CLASSES), rng=self.rng)
        return CLASSES[int(given[0, 0])]


# --- one arm on a fresh database ----------------------------------------------------------


@dataclass(frozen=True)
class Knobs:
    method: str = "ocds"
    gold_rate: float = 0.05
    target: float = 0.95
    # Arm B withholds a domain from contributors whose reputation there is confidently
    # below this (routing.min_reputation); None turns it off.
    min_reputation: float | None = 0.7


@dataclass
class Cost:
    task_labels_general_crowd: int = 0
    task_labels_experts: int = 0
    gold_answers: int = 0
    escalation_answers: int = 0
    qualification_answers: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


@dataclass
class ArmResult:
    arm: str
    seed: int
    accuracy: dict[str, float]
    cost: int
    budget: int
    cost_breakdown: dict[str, int]
    labels_per_item: dict[str, float]
    unlabelled_items: dict[str, int]
    escalations: dict[str, dict[str, int]]
    paused: list[str] = field(default_factory=list)
    qualified: dict[str, list[str]] = field(default_factory=dict)
    expert_tier: dict[str, list[str]] = field(default_factory=dict)
    # Domain reputation of each level holder at the end: mean, 5% and 95% quantiles, evidence.
    reputation: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    labels_by_person: dict[str, dict[str, int]] = field(default_factory=dict)
    expert_answers: int = 0  # answers by the four experts (labels, gold, escalations, tests)
    seconds: float = 0.0

    def cost_at(self, expert_rate: float) -> float:
        """Cost when an expert's answer costs ``expert_rate`` crowd answers."""
        return self.cost + (expert_rate - 1.0) * self.expert_answers


def _config(arm: str, knobs: Knobs) -> dict[str, Any]:
    task = {"type": "single_choice", "labels": [{"key": key} for key in CLASSES]}
    if arm == "A":
        return {"task": task, "quality": {"method": knobs.method, "refit_every": 100}}
    dynamic = {
        "method": knobs.method,
        "dynamic_overlap": True,
        "target": knobs.target,
        "min_labels": 1,
        "gold_rate": knobs.gold_rate if arm == "B" else 0.0,
        "refit_every": 100,
    }
    if arm == "A-dyn5":
        return {"task": task, "quality": dynamic}
    routing = {
        "domain_levels": {"medical": 1, "legal": 1},
        "priority": "expertise",
        "min_reputation": knobs.min_reputation,
    }
    return {"task": task, "quality": dynamic, "routing": routing}


def run_arm(arm: str, seed: int, world: World, *, budget: int, knobs: Knobs) -> ArmResult:
    started = time.perf_counter()
    # The product mixes gold in with SystemRandom (unpredictable to people); a seeded
    # generator makes a run repeatable.
    tasks._rng = random.Random(seed)  # type: ignore[assignment]
    answer = Answerer(seed)
    order_rng = random.Random(f"{seed}:{arm}")
    routed = arm.startswith("B")
    with_gold = arm == "B" and knobs.gold_rate > 0
    system = Actor.system()
    directory = tempfile.TemporaryDirectory(prefix="loupe-bench-routing-")
    db = Database(f"sqlite:///{Path(directory.name) / 'loupe.db'}")
    db.migrate()
    truth = {**world.truth, **{ext: t for ext, _, t in world.gold}}
    with db.transaction() as session:
        project_id = definition.create_project(
            session,
            system,
            name=f"routing-{arm}",
            config=_config(arm, knobs),
            overlap=DYNAMIC_MAX if arm == "A-dyn5" else OVERLAP,
        ).id
        set_privacy(session, system, project_id, gate=False)  # synthetic texts, nothing to hide
        actors: dict[str, Actor] = {}
        for person in world.people:
            user = users.create_user(session, system, username=person.name, role="annotator")
            definition.add_member(session, system, project_id, user_id=user.id, role="annotator")
            actors[person.name] = Actor(user.id, person.name, "annotator")
        rows = [
            {"id": ext, "text": f"{world.domain[ext]} request {ext}", "domain": world.domain[ext]}
            for ext in world.truth
        ]
        if with_gold:
            rows += [{"id": e, "text": f"{d} request {e}", "domain": d} for e, d, _ in world.gold]
        records = [parse_item(row, where="bench", text_field="text") for row in rows]
        items_service.insert_items(session, system, project_id, records)
        if with_gold:
            gold = [(ext, CLASSES[t]) for ext, _, t in world.gold]
            set_gold(session, system, project_id, gold)
        tests = {}
        if routed:
            for d in SPECIALIST:
                questions = [
                    {"data": {"text": f"{d} question {i}"}, "answer": CLASSES[t]}
                    for i, t in enumerate(world.questions[d])
                ]
                tests[d] = qualifications.create_test(
                    session,
                    system,
                    project_id,
                    name=f"{d} expert",
                    domain=d,
                    level=3,
                    pass_mark=PASS_MARK,
                    questions=questions,
                ).id
    by_name = {person.name: person for person in world.people}
    cost = Cost()

    # Everyone takes each qualification test once, answering with their skill in its domain.
    for person in world.people if routed else []:
        actor = actors[person.name]
        for d, test_id in tests.items():
            with db.transaction() as session:
                attempt = qualifications.start_attempt(session, actor, project_id, test_id)
                given = {
                    q.index: answer(person, d, world.questions[d][q.index])
                    for q in attempt.questions
                }
                qualifications.submit_attempt(
                    session, actor, project_id, test_id, attempt.id, given
                )
            cost.qualification_answers += len(given)

    def work(name: str) -> bool:
        """One answer by ``name``: an escalated item if they may take one, else the next
        task. False when nothing is left for them."""
        person, actor = by_name[name], actors[name]
        if routed:
            try:
                with db.transaction() as session:
                    escalated = next_expert_task(session, actor, project_id, lease_seconds=LEASE)
                    if escalated is not None:
                        given = answer(person, escalated.domain, truth[escalated.external_id])
                        resolve_escalation(
                            session, actor, project_id, escalated.item_id, answer=given
                        )
                        cost.escalation_answers += 1
                        return True
            except PermissionDenied:
                pass  # not an expert in any domain
        with db.transaction() as session:
            offered = tasks.next_task(session, actor, project_id, lease_seconds=LEASE)
        if offered is None:
            return False
        given = answer(person, offered.domain, truth[offered.external_id])
        with db.transaction() as session:
            submit_label(session, actor, project_id, offered.item_id, given)
        if offered.external_id.startswith("gold-"):
            cost.gold_answers += 1
        elif person.kind == "general":
            cost.task_labels_general_crowd += 1
        else:
            cost.task_labels_experts += 1
        return True

    active = [person.name for person in world.people]
    paused: list[str] = []
    progressed = True
    while progressed and cost.total < budget and active:
        progressed = False
        order_rng.shuffle(active)
        for name in list(active):
            if cost.total >= budget:
                break
            try:
                progressed = work(name) or progressed
            except PermissionDenied as exc:
                if not exc.details.get("paused"):
                    raise
                active.remove(name)  # a gold or low-effort pause: a manager would review
                paused.append(name)
        # The server's background re-fit, between rounds.
        with db.transaction(readonly=True) as session:
            due = project_id in refits.projects_due_for_refit(session)
        if due:
            with db.transaction() as session:
                refits.refit(session, project_id)
    with db.transaction() as session:
        refits.refit(session, project_id)  # the final consensus
    with db.transaction(readonly=True) as session:
        result = _evaluate(session, arm, seed, world, project_id, cost, budget, actors)
    result.paused = paused
    result.seconds = round(time.perf_counter() - started, 1)
    db.dispose()
    directory.cleanup()
    return result


def _evaluate(
    session: Session,
    arm: str,
    seed: int,
    world: World,
    project_id: int,
    cost: Cost,
    budget: int,
    actors: dict[str, Actor],
) -> ArmResult:
    answers: dict[str, Any] = dict(
        session.execute(
            select(Item.external_id, Consensus.answer)
            .outerjoin(Consensus, Consensus.item_id == Item.id)
            .where(Item.project_id == project_id, Item.is_gold.is_(False))
        ).all()
    )
    per_item: Counter[str] = Counter()
    by_person: dict[str, dict[str, int]] = {name: {} for name in actors}
    names = {actor.user_id: name for name, actor in actors.items()}
    for ext, user_id, domain, n in session.execute(
        select(Item.external_id, Label.user_id, Item.domain, func.count(Label.id))
        .join(Label, Label.item_id == Item.id)
        .where(Item.project_id == project_id)
        .group_by(Item.external_id, Label.user_id, Item.domain)
    ):
        per_item[ext] += n
        mine = by_person[names[user_id]]
        mine[domain] = mine.get(domain, 0) + n
    n_labels = sum(per_item.values())
    asked = session.scalar(select(func.coalesce(func.sum(QualificationAttempt.n_total), 0)))
    experts = {actors[p.name].user_id for p in world.people if p.kind != "general"}
    expert_tests = session.scalar(
        select(func.coalesce(func.sum(QualificationAttempt.n_total), 0)).where(
            QualificationAttempt.user_id.in_(experts)
        )
    )
    expert_labels = sum(
        n
        for name, mine in by_person.items()
        if actors[name].user_id in experts
        for n in mine.values()
    )
    # The benchmark's own count of what it spent must match what the database holds.
    assert n_labels + int(asked or 0) == cost.total, (n_labels, asked, cost)
    escalations = {d: {"opened": 0, "resolved": 0} for d in DOMAINS}
    for domain, resolved_at in session.execute(
        select(Item.domain, Escalation.resolved_at).join(Item, Item.id == Escalation.item_id)
    ):
        escalations[domain]["opened"] += 1
        escalations[domain]["resolved"] += resolved_at is not None
    qualified: dict[str, list[str]] = {}
    tiers: dict[str, list[str]] = {}
    standing: dict[str, dict[str, list[float]]] = {}
    if arm.startswith("B"):
        for d in SPECIALIST:
            holders = set(
                session.scalars(
                    select(ContributorDomain.user_id).where(
                        ContributorDomain.domain == d, ContributorDomain.level >= 1
                    )
                )
            )
            qualified[d] = sorted(names[user] for user in holders if user in names)
            tiers[d], standing[d] = [], {}
            for name in qualified[d]:
                user_id = actors[name].user_id or 0
                for found in explain(session, Actor.system(), user_id, domain=d):
                    r = found.reputation
                    standing[d][name] = [
                        round(x, 3) for x in (r.mean, r.lower, r.upper, r.effective_n)
                    ]
                    if found.tier.tier == "expert":
                        tiers[d].append(name)

    total = Counter(world.domain.values())
    correct: Counter[str] = Counter()
    for ext, t in world.truth.items():
        correct[world.domain[ext]] += answers.get(ext) == CLASSES[t]
    groups = {d: (d,) for d in DOMAINS} | {"specialist": SPECIALIST, "all": DOMAINS}
    accuracy = {
        g: sum(correct[d] for d in ds) / sum(total[d] for d in ds) for g, ds in groups.items()
    }
    spent = {
        g: sum(per_item[e] for e in world.truth if world.domain[e] in ds)
        / sum(total[d] for d in ds)
        for g, ds in groups.items()
    }
    return ArmResult(
        arm=arm,
        seed=seed,
        accuracy={k: round(v, 4) for k, v in accuracy.items()},
        cost=cost.total,
        budget=budget,
        cost_breakdown={**asdict(cost), "total": cost.total},
        labels_per_item={k: round(v, 3) for k, v in spent.items()},
        unlabelled_items={
            d: sum(1 for e in world.truth if world.domain[e] == d and per_item[e] == 0)
            for d in DOMAINS
        },
        escalations=escalations,
        qualified=qualified,
        expert_tier=tiers,
        reputation=standing,
        labels_by_person=by_person,
        expert_answers=expert_labels + int(expert_tests or 0),
    )


# --- report -------------------------------------------------------------------------------

KEYS = ("general", "medical", "legal", "specialist", "all")


def summarise(results: list[ArmResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    arms = [arm for arm in ARMS if any(r.arm == arm for r in results)]
    for arm in arms:
        mine = [r for r in results if r.arm == arm]
        out[arm] = {
            "accuracy": {k: round(statistics.fmean(r.accuracy[k] for r in mine), 4) for k in KEYS},
            "accuracy_per_seed": {k: [r.accuracy[k] for r in mine] for k in KEYS},
            "cost": round(statistics.fmean(r.cost for r in mine), 1),
            "cost_per_seed": [r.cost for r in mine],
            "expert_answers": round(statistics.fmean(r.expert_answers for r in mine), 1),
            f"cost_if_expert_answers_cost_{EXPERT_RATE:g}x": round(
                statistics.fmean(r.cost_at(EXPERT_RATE) for r in mine), 1
            ),
            "labels_per_item": {
                k: round(statistics.fmean(r.labels_per_item[k] for r in mine), 3) for k in KEYS
            },
        }
    for arm in arms:
        if arm == "A" or "A" not in out:
            continue
        out[f"{arm} minus A"] = {
            "accuracy": {
                k: round(out[arm]["accuracy"][k] - out["A"]["accuracy"][k], 4) for k in KEYS
            },
            "accuracy_per_seed": {
                k: [
                    round(b - a, 4)
                    for a, b in zip(
                        out["A"]["accuracy_per_seed"][k],
                        out[arm]["accuracy_per_seed"][k],
                        strict=True,
                    )
                ]
                for k in KEYS
            },
            "cost": round(out[arm]["cost"] - out["A"]["cost"], 1),
        }
    return out


def print_table(results: list[ArmResult], summary: dict[str, Any]) -> None:
    print(f"\n{SIMULATED}\naccuracy of the final consensus; cost = answers at a flat rate\n")
    head = f"{'arm':<13} {'seed':>4}  " + "  ".join(f"{k:>10}" for k in KEYS)
    head += f"    cost  labels/item  experts  cost@{EXPERT_RATE:g}x"
    print(head)
    print("-" * len(head))
    for r in results:
        accs = "  ".join(f"{r.accuracy[k]:>10.3f}" for k in KEYS)
        print(
            f"{r.arm:<13} {r.seed:>4}  {accs}  {r.cost:>6}  {r.labels_per_item['all']:>11.2f}"
            f"  {r.expert_answers:>7}  {r.cost_at(EXPERT_RATE):>8.0f}"
        )
    print("-" * len(head))
    for arm in ARMS:
        if arm in summary:
            s = summary[arm]
            accs = "  ".join(f"{s['accuracy'][k]:>10.3f}" for k in KEYS)
            cost, per_item = s["cost"], s["labels_per_item"]["all"]
            priced = s[f"cost_if_expert_answers_cost_{EXPERT_RATE:g}x"]
            print(
                f"{arm:<13} mean  {accs}  {cost:>6.0f}  {per_item:>11.2f}"
                f"  {s['expert_answers']:>7.0f}  {priced:>8.0f}"
            )
    for arm in ARMS:
        if f"{arm} minus A" in summary:
            d = summary[f"{arm} minus A"]
            accs = "  ".join(f"{d['accuracy'][k]:>+10.3f}" for k in KEYS)
            print(f"{arm + ' - A':<13} mean  {accs}  {d['cost']:>+6.0f}")
    print()
    for r in results:
        line = f"seed {r.seed} {r.arm}: cost {r.cost_breakdown}"
        if r.arm != "A":
            opened = {d: (e["opened"], e["resolved"]) for d, e in r.escalations.items()}
            line += (
                f"\n    escalations (opened, resolved) {opened}; unlabelled {r.unlabelled_items}"
            )
        if r.arm.startswith("B"):
            line += f"\n    qualified {r.qualified}; expert tier {r.expert_tier}"
        if r.paused:
            line += f"; paused {r.paused}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--gold", type=int, default=80, help="gold items (arm B)")
    parser.add_argument("--questions", type=int, default=10, help="per qualification test")
    parser.add_argument("--method", default="ocds", help="the aggregator (every arm)")
    parser.add_argument("--gold-rate", type=float, default=0.05, help="share of gold tasks (B)")
    parser.add_argument("--target", type=float, default=0.95, help="dynamic overlap target (B)")
    parser.add_argument(
        "--min-reputation", type=float, default=0.7, help="routing.min_reputation (B); 0: off"
    )
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    knobs = Knobs(
        method=args.method,
        gold_rate=args.gold_rate,
        target=args.target,
        min_reputation=args.min_reputation or None,
    )
    results: list[ArmResult] = []
    people: dict[int, list[dict[str, Any]]] = {}
    for seed in args.seeds:
        world = make_world(seed, args.items, args.gold, args.questions)
        people[seed] = [asdict(person) for person in world.people]
        budget = OVERLAP * len(world.truth)
        for arm in args.arms:
            result = run_arm(arm, seed, world, budget=budget, knobs=knobs)
            print(
                f"SIMULATED seed {seed} arm {arm}: accuracy {result.accuracy} "
                f"cost {result.cost} ({result.seconds} s)",
                flush=True,
            )
            results.append(result)
    summary = summarise(results)
    print_table(results, summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "simulated": True,
        "note": SIMULATED,
        "command": "bench/contributors/bench_routing.py " + " ".join(sys.argv[1:]),
        "setup": {
            "items": args.items,
            "classes": len(CLASSES),
            "domains": SHARES,
            "overlap": OVERLAP,
            "budget": f"{OVERLAP} answers per item (arm A's spend)",
            "aggregator": args.method,
            "gold_items": args.gold,
            "gold_rate": args.gold_rate,
            "dynamic_overlap_target": args.target,
            "qualification": f"{args.questions} questions per test, pass mark {PASS_MARK}",
            "cost": "answers at one flat rate: task labels + gold answers + expert answers "
            "to escalations + qualification questions",
        },
        "summary": summary,
        "people_per_seed": people,
        "runs": [asdict(r) for r in results],
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
