"""Known answers for MajorityVote's tie rules, in the class and in ``loupe aggregate``."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from loupe.aggregation import MajorityVote
from loupe.cli.aggregate import aggregate_command
from loupe.errors import InvalidInput

# "a" is tied x-y, "c" tied x-y-z; overall "y" has the largest mean vote share (1/2 on "a",
# all of "b", 1/3 on "c"), then "x" (1/2, 0, 1/3), then "z".
ITEMS = ["a", "a", "b", "c", "c", "c", "d"]
WORKERS = ["w1", "w2", "w1", "w1", "w2", "w3", "w3"]
LABELS = ["x", "y", "y", "z", "x", "y", "y"]


def test_prior_is_the_default_and_picks_the_more_common_class() -> None:
    model = MajorityVote().fit(ITEMS, WORKERS, LABELS)
    assert model.ties == "prior"
    assert model.labels_ == {"a": "y", "b": "y", "c": "y", "d": "y"}


def test_prior_falls_back_to_the_lowest_class_among_equal_priors() -> None:
    model = MajorityVote(ties="prior").fit(["a", "a", "b", "b"], ["1", "2", "1", "2"], list("yxxy"))
    assert model.labels_ == {"a": "x", "b": "x"}


def test_lowest_takes_the_first_class_in_sorted_order() -> None:
    model = MajorityVote(ties="lowest").fit(ITEMS, WORKERS, LABELS)
    assert model.labels_ == {"a": "x", "b": "y", "c": "x", "d": "y"}


def test_prior_among_tied_classes_only() -> None:
    """A tie between x and z never picks y, however common y is."""
    items = ["t", "t", *(f"y{i}" for i in range(5))]
    model = MajorityVote().fit(items, ["1", "2", *"34567"], ["z", "x", *"yyyyy"])
    assert model.labels_["t"] == "x"


def test_random_ties_follow_the_random_state() -> None:
    picks = {
        MajorityVote(ties="random", random_state=seed).fit_predict(ITEMS, WORKERS, LABELS)["c"]
        for seed in range(30)
    }
    assert picks == {"x", "y", "z"}
    first = MajorityVote(ties="random", random_state=4).fit(ITEMS, WORKERS, LABELS)
    again = MajorityVote(ties="random", random_state=4).fit(ITEMS, WORKERS, LABELS)
    assert first.labels_ == again.labels_


def test_gold_is_never_overridden_by_a_tie_rule() -> None:
    model = MajorityVote(ties="lowest").fit(ITEMS, WORKERS, LABELS, gold={"a": "y"})
    assert model.labels_["a"] == "y"


def test_unknown_tie_rule() -> None:
    with pytest.raises(InvalidInput, match="ties must be one of prior, lowest, random"):
        MajorityVote(ties="first")  # type: ignore[arg-type]


def run(*args: str) -> tuple[int, BaseException | None]:
    app = typer.Typer()
    app.command("aggregate")(aggregate_command)

    @app.callback()
    def root() -> None:
        """Keep "aggregate" as a named sub-command."""

    result = CliRunner().invoke(app, ["aggregate", *args])
    return result.exit_code, result.exception


@pytest.mark.parametrize(
    ("ties", "expected"),
    [
        (None, {"a": "y", "c": "y"}),
        ("prior", {"a": "y", "c": "y"}),
        ("lowest", {"a": "x", "c": "x"}),
    ],
)
def test_cli_ties(tmp_path: Path, ties: str | None, expected: dict[str, str]) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "item,worker,label\n"
        + "".join(f"{i},{w},{label}\n" for i, w, label in zip(ITEMS, WORKERS, LABELS, strict=True)),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    extra = [] if ties is None else ["--ties", ties]
    code, exception = run(str(answers), "--method", "mv", "-o", str(out), *extra)
    assert exception is None
    assert code == 0
    rows = dict(line.split(",")[:2] for line in out.read_text().splitlines()[1:])
    assert {item: rows[item] for item in expected} == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "ds", "--ties", "lowest"], "--ties applies to --method mv only"),
        (["--method", "mv", "--ties", "first"], "unknown tie rule 'first'"),
    ],
)
def test_cli_rejects_bad_ties(tmp_path: Path, args: list[str], message: str) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("item,worker,label\na,w,x\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    _code, exception = run(str(answers), "-o", str(out), *args)
    assert isinstance(exception, InvalidInput)
    assert message in exception.message
    assert not out.exists()
