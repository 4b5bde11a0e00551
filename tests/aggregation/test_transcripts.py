"""Transcript fusion: known answers, properties, the WER helper and ``loupe aggregate --kind transcript``."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loupe.aggregation.alignment import NO_WORD, build_network
from loupe.aggregation.transcripts import (
    TranscriptFusion,
    edit_distance,
    fuse_transcript,
    transcript_words,
    word_error_rate,
)
from loupe.cli.aggregate import aggregate_command
from loupe.errors import InvalidInput


def fuse(*texts: str, item: str = "u") -> TranscriptFusion:
    workers = [f"w{index}" for index in range(len(texts))]
    return TranscriptFusion().fit([item] * len(texts), workers, list(texts))


# Known answers -------------------------------------------------------------------------------


def test_identical_transcripts_give_that_transcript_with_confidence_one() -> None:
    fusion = fuse("the cat sat on the mat", "the cat sat on the mat", "the cat sat on the mat")
    assert fusion.texts_ == ["the cat sat on the mat"]
    assert fusion.confidences_.tolist() == [1.0]


def test_majority_word_wins() -> None:
    fusion = fuse("the cat sat", "the bat sat", "the cat sat", "the hat sat", "the cat sat")
    assert fusion.texts_ == ["the cat sat"]
    assert 0.0 < fusion.confidences_[0] < 1.0


def test_an_insertion_by_one_worker_is_dropped() -> None:
    fusion = fuse("we went home", "we went home", "we all went home", "we went home")
    assert fusion.texts_ == ["we went home"]


def test_a_deletion_by_one_worker_is_restored() -> None:
    fusion = fuse("we all went home", "we went home", "we all went home", "we all went home")
    assert fusion.texts_ == ["we all went home"]


def test_case_punctuation_and_apostrophes_vote_together() -> None:
    fusion = fuse("I don't know.", "i dont know", "I DON'T know!", "i do not know")
    assert transcript_words(fusion.texts_[0]) == ["i", "don't", "know"]


def test_the_gate_placeholders_survive_fusion() -> None:
    """Regression: "[PERSON]" was dropped as an annotation mark, so a redacted name vanished
    from the consensus ("phone [PERSON] at [PHONE]" became "phone at")."""
    fused = fuse_transcript(["Phone [PERSON] at [PHONE]", "phone [PERSON] at [PHONE]", "phone at"])
    assert fused.text == "phone [PERSON] at [PHONE]"


def test_the_fused_text_keeps_case_and_punctuation_as_most_wrote_them() -> None:
    """Regression: the fused transcript came out lower-cased without punctuation, so a
    post-edit project's consensus read worse than any answer it was made from."""
    fused = fuse_transcript(["Call Ana at noon.", "call Ana at noon.", "Call Ana, at noon"])
    assert fused.text == "Call Ana at noon."


def test_reliable_worker_outvotes_a_sloppy_majority_on_ties() -> None:
    # Workers a and b agree everywhere; c and d each garble every other item. On item "x"
    # the vote is 2 (a, b) against 2 (c, d): skill decides it.
    items, workers, texts = [], [], []
    for index in range(12):
        truth = f"sentence number {index} is spoken clearly"
        for worker in ("a", "b"):
            items.append(str(index))
            workers.append(worker)
            texts.append(truth)
        for worker in ("c", "d"):
            items.append(str(index))
            workers.append(worker)
            texts.append(truth.replace("clearly", "clerly") if index % 2 else "noise")
    for worker, text in (("a", "red car"), ("b", "red car"), ("c", "bed bar"), ("d", "bed bar")):
        items.append("x")
        workers.append(worker)
        texts.append(text)
    fusion = TranscriptFusion().fit(items, workers, texts)
    assert fusion.texts_[fusion.items_.index("x")] == "red car"
    assert fusion.skills_["a"] > fusion.skills_["c"]


def test_an_empty_transcript_is_a_vote_for_silence() -> None:
    assert fuse("[inaudible]", "*noise*", "").texts_ == [""]
    assert fuse("hello", "", "").texts_ == [""]


def test_items_are_sorted_and_fused_separately() -> None:
    fusion = TranscriptFusion().fit(
        ["b", "a", "b", "a"], ["w1", "w1", "w2", "w2"], ["yes", "no", "yes", "no"]
    )
    assert fusion.items_ == ["a", "b"]
    assert fusion.texts_ == ["no", "yes"]


def test_transcript_words() -> None:
    assert transcript_words("Mr. Smith’s dog,barked [inaudible] * twice!") == [
        "mr",
        "smith's",
        "dog",
        "barked",
        "twice",
    ]


def test_network_of_one_insertion() -> None:
    network = build_network([["a", "cat"], ["a", "black", "cat"]], [1.0, 1.0])
    assert network.columns == [{"a": 2.0}, {NO_WORD: 1.0, "black": 1.0}, {"cat": 2.0}]
    assert network.dissent(1, 1, 1.0) == 1.0  # the other transcript says nothing there
    assert network.winner(1) == NO_WORD  # a tie goes to the first transcript
    three = build_network([["a", "cat"], ["a", "black", "cat"], ["a", "cat"]], [1.0] * 3)
    assert three.dissent(1, 0, 1.0) == 0.5  # without it: one NULL against one "black"
    assert three.dissent(1, 1, 1.0) == 1.0
    assert three.dissent(0, 1, 1.0) == 0.0


def test_word_error_rate_known_answer() -> None:
    # 1 substitution + 1 deletion + 1 insertion over 6 reference words.
    assert word_error_rate(["the cat sat", "on the mat"], ["The bat sat.", "on mat right"]) == 0.5
    assert word_error_rate(["don't stop"], ["Dont stop!"]) == 0.0
    assert edit_distance([], ["a", "b"]) == 2


@pytest.mark.parametrize(
    ("references", "hypotheses"), [(["a"], ["a", "b"]), ([""], [""]), ([], [])]
)
def test_word_error_rate_rejects_bad_input(references: list[str], hypotheses: list[str]) -> None:
    with pytest.raises(InvalidInput):
        word_error_rate(references, hypotheses)


@pytest.mark.parametrize(
    "kwargs", [{"n_iter": 0}, {"sharpness": -1.0}, {"local_sharpness": float("nan")}]
)
def test_rejects_bad_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        TranscriptFusion(**kwargs)  # type: ignore[arg-type]


def test_rejects_ragged_or_empty_input() -> None:
    with pytest.raises(InvalidInput):
        TranscriptFusion().fit(["a"], ["w"], [])
    with pytest.raises(InvalidInput):
        TranscriptFusion().fit([], [], [])


# Properties ----------------------------------------------------------------------------------

WORDS = st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "hat", "dog", "don't", "dont"])
ANSWERS = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["w1", "w2", "w3", "w4"]),
        st.lists(WORDS, max_size=6).map(" ".join),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=60, deadline=None)
@given(ANSWERS, st.randoms(use_true_random=False))
def test_permuting_rows_or_renaming_workers_changes_nothing(
    answers: list[tuple[str, str, str]], rng: random.Random
) -> None:
    shuffled = list(answers)
    rng.shuffle(shuffled)
    first = TranscriptFusion().fit(*map(list, zip(*answers, strict=True)))
    second = TranscriptFusion().fit(*map(list, zip(*shuffled, strict=True)))
    assert first.items_ == second.items_
    assert first.texts_ == second.texts_
    assert first.confidences_.tolist() == pytest.approx(second.confidences_.tolist())
    renamed = [(item, f"x-{worker[::-1]}", text) for item, worker, text in shuffled]
    third = TranscriptFusion().fit(*map(list, zip(*renamed, strict=True)))
    assert third.texts_ == first.texts_


@settings(max_examples=60, deadline=None)
@given(ANSWERS)
def test_output_words_come_from_the_inputs(answers: list[tuple[str, str, str]]) -> None:
    fusion = TranscriptFusion().fit(*map(list, zip(*answers, strict=True)))
    for item, text, confidence in zip(
        fusion.items_, fusion.texts_, fusion.confidences_, strict=True
    ):
        heard = {
            word for answer_item, _, said in answers if answer_item == item for word in said.split()
        }
        assert set(text.split()) <= heard
        assert 0.0 <= confidence <= 1.0
    assert all(0.0 <= skill <= 1.0 for skill in fusion.skills_.values())


# The CLI -------------------------------------------------------------------------------------


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.command("aggregate")(aggregate_command)

    @app.callback()
    def root() -> None:
        """Keep "aggregate" as a named sub-command."""

    return app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_app(), ["aggregate", *args])
    return result.exit_code, result.output


def test_cli_fuses_transcripts(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(
        'item,worker,text\nu2,a,"Hello, world."\nu2,b,hello world\nu1,a,the cat sat\n'
        "u1,b,the cat sat\nu1,c,the cat sat down\n=cmd,a,=1+1\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, output = run("--kind", "transcript", str(answers), "--output", str(out))
    assert code == 0, output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["item"], row["text"]) for row in rows] == [
        ("'=cmd", "1 1"),
        ("u1", "the cat sat"),
        ("u2", "hello world"),
    ]
    assert float(rows[2]["confidence"]) == 1.0
    assert 0.5 < float(rows[1]["confidence"]) < 1.0  # one worker heard "down"


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("item,worker,label\nu1,a,x\n", (), "missing column 'text'"),
        ("item,worker,text\n", (), "no answers"),
        ("item,worker,text\nu1,,hello\n", (), "empty value in column 'worker'"),
        ("item,worker,text\nu1,a,hello\n", ("--ties", "lowest"), "apply to --kind label only"),
        ("item,worker,text\nu1,a,hello\n", ("--kind", "audio"), "unknown kind"),
    ],
)
def test_cli_rejects_bad_input_and_writes_nothing(
    tmp_path: Path, content: str, extra: tuple[str, ...], message: str
) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        make_app(),
        ["aggregate", "--kind", "transcript", str(answers), "--output", str(out), *extra],
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInput)
    assert message in str(result.exception)
    assert "\n" not in str(result.exception)
    assert not out.exists()
