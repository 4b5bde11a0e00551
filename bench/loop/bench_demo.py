"""Wall time and peak memory of ``loupe demo`` (default sizes), with accuracy per round.

taskset -c 0,1 .venv/bin/python bench/loop/bench_demo.py [--rounds 6] [--per-round 300]
    [--images-per-round 1]   (0: the loop without camera frames, the baseline for their cost)
    [--audio-per-round 2]    (0: the loop without spoken requests, the baseline for their cost)
    [--trainer auto]         (embeddings or tfidf-linear: the intent model; auto as `loupe demo`)

The spoken requests' own share is also timed in process (CPU of this process and its
espeak-ng children, and wall time, spent in ``AudioRequests.run_round`` and ``send``).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from loupe.demo.audio_rounds import AudioRequests
from loupe.demo.intent_model import TRAINER_CHOICES, choose_intent_model
from loupe.demo.scenario import DemoConfig, run_demo
from loupe.demo.sources import generated_source

SPENT = {"cpu": 0.0, "wall": 0.0}


def _cpu() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                        resource.RUSAGE_CHILDREN))  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, its time added to :data:`SPENT` (once: ``run_round`` calls ``send``)."""

    def timed(self: AudioRequests, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_timing", False):
            return method(self, *args, **kwargs)
        self._timing = True  # type: ignore[attr-defined]
        cpu, wall = _cpu(), time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            SPENT["cpu"] += _cpu() - cpu
            SPENT["wall"] += time.perf_counter() - wall
            self._timing = False  # type: ignore[attr-defined]

    return timed


def main() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # as `loupe demo` runs Tesseract
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--images-per-round", type=int, default=DemoConfig.images_per_round)
    parser.add_argument("--audio-per-round", type=int, default=DemoConfig.audio_per_round)
    parser.add_argument("--trainer", choices=TRAINER_CHOICES, default="auto")
    args = parser.parse_args()
    for name in ("run_round", "send"):
        setattr(AudioRequests, name, _timed(getattr(AudioRequests, name)))
    with tempfile.TemporaryDirectory() as tmp:
        source = generated_source(
            rounds=args.rounds, per_round=args.per_round, seed=args.seed,
            gold=max(40, min(120, args.per_round // 2)),
            test=max(100, min(600, args.per_round * 2)), seed_per_label=2,
        )  # fmt: skip
        result = run_demo(
            DemoConfig(
                database_url=f"sqlite:///{Path(tmp) / 'demo.db'}",
                source=source,
                seed=args.seed,
                report=Path(tmp) / "report.html",
                images_per_round=args.images_per_round,
                audio_per_round=args.audio_per_round,
                intent=choose_intent_model(args.trainer),
            ),
            console=Console(quiet=True),
        )
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                        resource.RUSAGE_CHILDREN))  # fmt: skip
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime  # Tesseract too
    print(
        f"wall {result.seconds:.1f} s, CPU {cpu:.1f} s (whole process, Tesseract included), "
        f"peak RSS {result.peak_rss_mib:.0f} MiB, images per round {args.images_per_round}, "
        f"spoken requests per round {args.audio_per_round}; intent model: {result.intent_model}"
    )
    spoken = [r.audio for r in result.rounds if r.audio is not None and not r.audio.skipped]
    if spoken:
        words, fused_words = sum(a.words for a in spoken), sum(a.fused_words for a in spoken)
        device = sum((a.device_wer or 0.0) * a.words for a in spoken) / max(words, 1)
        fused = sum((a.fused_wer or 0.0) * a.fused_words for a in spoken) / max(fused_words, 1)
        edits, heard = sum(a.post_edits for a in spoken), sum(a.heard for a in spoken)
        print(
            f"spoken requests alone: {SPENT['cpu']:.2f} s CPU (espeak-ng included), "
            f"{SPENT['wall']:.2f} s wall; {sum(a.received for a in spoken)} requests, "
            f"{sum(a.seconds for a in spoken):.1f} s of audio; WER (pooled over {words} true "
            f"words) recogniser {device:.1%} -> fused {fused:.1%}; {edits} post-edits, "
            f"{heard} with the recording"
        )
    for r in result.rounds:
        oos = "-" if r.oos_recall is None else f"{r.oos_recall:.3f}"
        print(
            f"round {r.round}: v{r.model_version} accuracy {r.accuracy:.3f} oos_recall {oos} "
            f"labels {r.labels} cost {r.cost_minor / 100:.2f} EUR"
        )
        if r.images is not None and not r.images.skipped:
            print(f"  {r.images.line()}")
        if r.audio is not None and not r.audio.skipped:
            print(f"  {r.audio.line()}")
    report = result.efficiency
    if report is not None:  # gold-set accuracy, strategy vs random control at equal budgets
        control = {c.version: c for c in report.control.points}
        print(f"control: {report.control.name}")
        for p in report.points:
            c = control[p.version]
            mean = "-" if c.accuracy is None else f"{c.accuracy:.3f}"
            sd = "" if c.sd is None else f" ± {c.sd:.3f}"
            audit = "-" if p.control_accuracy is None else f"{p.control_accuracy:.3f}"
            print(
                f"v{p.version}: {p.n_items} items, strategy {p.accuracy:.3f}; control "
                f"{c.n_items} items {mean}{sd} ({c.simulated:.1f} simulated labels per draw); "
                f"audit-only control {p.control_items} items {audit}"
            )


if __name__ == "__main__":
    main()
