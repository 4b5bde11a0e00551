"""Replay simulations of the labelling loop, with SIMULATED annotators (not people)."""

from loupe.simulation.annotators import SimulatedAnnotators, aggregate_votes, estimate_accuracies
from loupe.simulation.datasets import LabelledTexts, load_jsonl
from loupe.simulation.noisy_oracle import NoisyOracle
from loupe.simulation.replay import LearningCurve, ReplayConfig, RoundResult, replay

__all__ = [
    "LabelledTexts",
    "LearningCurve",
    "NoisyOracle",
    "ReplayConfig",
    "RoundResult",
    "SimulatedAnnotators",
    "aggregate_votes",
    "estimate_accuracies",
    "load_jsonl",
    "replay",
]
