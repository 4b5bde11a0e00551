"""``loupe simulate``: replay a labelled dataset through the loop and write its learning curve.

The lead registers :func:`simulate_command` on the main Typer app
(``app.command("simulate")(simulate_command)``). Annotators here are SIMULATED.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from loupe.errors import InvalidInput
from loupe.selection.diversity import DiversityMethod
from loupe.simulation.datasets import load_jsonl
from loupe.simulation.replay import Aggregation, ReplayConfig, replay

__all__ = ["parse_accuracy_range", "parse_mix", "simulate_command"]


def parse_mix(spec: str) -> dict[str, float]:
    """``"margin"`` -> ``{"margin": 1.0}``; ``"margin=0.8,novelty=0.2"`` -> both weights."""
    mix: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, weight = part.partition("=")
        try:
            mix[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise InvalidInput(
                f"--strategy: weight {weight!r} of {name!r} is not a number "
                "(write e.g. margin=0.8,random=0.2)",
                details={"field": "strategy"},
            ) from None
    if not mix:
        raise InvalidInput("--strategy is empty; name a strategy such as margin")
    return mix


def parse_accuracy_range(spec: str) -> tuple[float, float]:
    """``"0.6:0.95"`` -> ``(0.6, 0.95)``; a single number means a fixed accuracy."""
    low, _, high = spec.partition(":")
    try:
        lo = float(low)
        hi = float(high) if high else lo
    except ValueError:
        raise InvalidInput(
            f"--annotator-accuracy {spec!r} must look like 0.6:0.95",
            details={"field": "annotator_accuracy"},
        ) from None
    if not 0.0 <= lo <= hi <= 1.0:
        raise InvalidInput(
            f"--annotator-accuracy {spec!r}: need 0 <= low <= high <= 1",
            details={"field": "annotator_accuracy"},
        )
    return lo, hi


def simulate_command(
    train: Annotated[Path, typer.Option("--train", help="JSONL pool whose labels are hidden.")],
    test: Annotated[Path, typer.Option("--test", help="JSONL evaluation set.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the curve JSON.")] = Path(
        "curve.json"
    ),
    text_field: Annotated[str, typer.Option(help="Field holding the text.")] = "text",
    label_field: Annotated[str, typer.Option(help="Field holding the label.")] = "label",
    strategy: Annotated[
        str, typer.Option(help="A strategy name or a mix, e.g. margin=0.8,novelty=0.2.")
    ] = "margin",
    seed_per_class: Annotated[int, typer.Option(help="Owner-written seed items per class.")] = 1,
    batch: Annotated[int, typer.Option(help="Items per round (at least).")] = 150,
    batch_growth: Annotated[
        float, typer.Option(help="Later batches hold this share of the labelled set.")
    ] = 0.0,
    budget: Annotated[int, typer.Option(help="Stop after this many labelled items.")] = 4500,
    annotators: Annotated[
        int, typer.Option(help="SIMULATED annotators per item; 0 = noise-free oracle.")
    ] = 0,
    max_annotators: Annotated[
        int,
        typer.Option(
            help="Dynamic overlap: ask up to this many SIMULATED annotators where the first "
            "--annotators leave the item unsure; 0 = fixed overlap."
        ),
    ] = 0,
    overlap_target: Annotated[
        float, typer.Option(help="With --max-annotators: stop asking at this posterior.")
    ] = 0.95,
    annotator_accuracy: Annotated[
        str, typer.Option(help="Range the simulated accuracies are drawn from, low:high.")
    ] = "0.6:0.95",
    aggregation: Annotated[
        str, typer.Option(help="How votes combine: one-coin (weighted) or majority.")
    ] = "one-coin",
    model_prior: Annotated[
        bool, typer.Option(help="Use the model's probabilities as the prior when combining votes.")
    ] = True,
    audit_share: Annotated[float, typer.Option(help="Share of each batch drawn at random.")] = 0.0,
    diversity: Annotated[
        float, typer.Option(help="Shortlist this many times the batch, keep a spread subset.")
    ] = 1.0,
    diversity_method: Annotated[
        str, typer.Option(help="badge (gradient k-means++) or farthest (k-centre).")
    ] = "badge",
    density_weight: Annotated[
        float,
        typer.Option(
            help="Weigh uncertainty by information density to this power (mean similarity "
            "to the 10 nearest pool items); 0 = off."
        ),
    ] = 0.0,
    drop_label: Annotated[
        list[str] | None, typer.Option(help="Remove rows with this label from the pool.")
    ] = None,
    oos_label: Annotated[str, typer.Option(help="The out-of-scope label in the test set.")] = "oos",
    oos_threshold: Annotated[
        float | None, typer.Option(help="Predict out-of-scope below this probability.")
    ] = None,
    skip_empty_text: Annotated[
        bool, typer.Option(help="Skip rows whose text is empty instead of failing.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed for every random choice.")] = 0,
) -> None:
    """Replay TRAIN through the labelling loop and write the learning curve to OUTPUT."""
    if aggregation not in ("one-coin", "majority"):
        raise InvalidInput(
            f"--aggregation must be one-coin or majority; got {aggregation!r}",
            details={"field": "aggregation", "allowed": ["majority", "one-coin"]},
        )
    agg: Aggregation = "one-coin" if aggregation == "one-coin" else "majority"
    if diversity_method not in ("badge", "farthest"):
        raise InvalidInput(
            f"--diversity-method must be badge or farthest; got {diversity_method!r}",
            details={"field": "diversity_method", "allowed": ["badge", "farthest"]},
        )
    method: DiversityMethod = "badge" if diversity_method == "badge" else "farthest"
    config = ReplayConfig(
        strategy=parse_mix(strategy),
        seed_per_class=seed_per_class,
        batch_size=batch,
        batch_growth=batch_growth,
        budget=budget,
        annotators=annotators,
        max_annotators=max_annotators,
        overlap_target=overlap_target,
        annotator_accuracy=parse_accuracy_range(annotator_accuracy),
        aggregation=agg,
        model_prior=model_prior,
        audit_share=audit_share,
        diversity=diversity,
        diversity_method=method,
        density_weight=density_weight,
        oos_label=oos_label,
        oos_threshold=oos_threshold,
        seed=seed,
    )
    pool = load_jsonl(
        train, text_field=text_field, label_field=label_field, skip_empty_text=skip_empty_text
    )
    if drop_label:
        pool = pool.without(drop_label)
    evaluation = load_jsonl(
        test, text_field=text_field, label_field=label_field, skip_empty_text=skip_empty_text
    )
    curve = replay(pool, evaluation, config)
    for r in curve.rounds:
        typer.echo(
            f"round {r.round:3d}  labels {r.labels_used:6d}  "
            f"accuracy {r.evaluation.accuracy:.4f}  label accuracy {r.label_accuracy:.3f}"
        )
    output.write_text(json.dumps(curve.to_dict(), indent=2) + "\n", encoding="utf-8")
    who = "simulated annotators" if annotators else "a noise-free oracle"
    typer.echo(f"wrote {len(curve.rounds)} rounds ({who}) to {output}")
