"""How far an answer agrees with a settled one: the comparison gold scoring, reputation
evidence and escalation settlement share (boxes and segments by F1 at IoU 0.5,
transcripts by word error rate, anything else by equality).
"""

from __future__ import annotations

from typing import Any

from loupe.label_schema import Boxes, Segments, Task, is_transcript

__all__ = ["answer_agreement", "answer_matches", "transcript_error"]


def transcript_error(reference: str, given: str) -> float:
    """Word error rate of ``given`` against ``reference`` (as
    :func:`~loupe.aggregation.transcripts.word_error_rate` counts it), capped at 1; a
    reference without words is matched only by an answer without words."""
    from loupe.aggregation.transcripts import transcript_words, word_error_rate

    if not transcript_words(reference):
        return 0.0 if not transcript_words(given) else 1.0
    return min(1.0, word_error_rate([reference], [given]))


def answer_agreement(task: Task, given: Any, settled: Any) -> float:
    """How far ``given`` agrees with the ``settled`` answer, in [0, 1] (reputation
    evidence): F1 at IoU 0.5 for boxes and segments (never drawn to the pixel or the
    millisecond alike), one minus the word error rate for transcripts, else 1 when equal."""
    if isinstance(task, Boxes):
        from loupe.aggregation.boxes import box_score

        return box_score(given, settled).f1
    if isinstance(task, Segments):
        from loupe.aggregation.segments import segment_score

        return segment_score(given, settled).f1
    if is_transcript(task):
        return 1.0 - transcript_error(str(settled), str(given))
    return 1.0 if given == settled else 0.0


def answer_matches(task: Task, given: Any, settled: Any, *, max_wer: float = 0.1) -> bool:
    """Whether ``given`` is right against ``settled`` as a gold answer would be: boxes and
    segments at F1 >= 0.8 (IoU 0.5, labels matching), transcripts at a word error rate of
    at most ``max_wer``, anything else when equal."""
    if isinstance(task, Boxes | Segments):
        return isinstance(given, list) and answer_agreement(task, given, settled) >= 0.8 - 1e-12
    if is_transcript(task):
        return isinstance(given, str) and transcript_error(str(settled), given) <= max_wer + 1e-12
    return bool(given == settled)
