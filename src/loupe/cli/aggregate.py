"""``loupe aggregate``: infer one label per item from a CSV of raw answers."""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import operator
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TextIO

import numpy as np
import typer
from numpy.typing import NDArray

from loupe.aggregation.base import Aggregator
from loupe.aggregation.majority_vote import TIE_RULES, MajorityVote
from loupe.aggregation.registry import AGGREGATORS, DEFAULT_METHOD
from loupe.aggregation.weighted_majority_vote import WeightedMajorityVote
from loupe.errors import InvalidInput
from loupe.formats import FORMULA_START, csv_cell

__all__ = ["aggregate_command"]


# Each column accepts its own name or the one Loupe's labels export uses for it
# (``loupe export --kind labels``: ``id`` is the item's id, ``annotator``, ``answer``).
ALIASES: dict[str, tuple[str, ...]] = {
    "item": ("item", "id"),
    "worker": ("worker", "annotator"),
    "label": ("label", "answer"),
    "weight": ("weight",),
}
JSON_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
ANSWER_COLUMNS = ("item", "worker", "label")


def _cell(value: Any) -> str:
    """A JSON value as the text the aggregators compare: strings as they are, others as JSON."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _pick(path: Path, names: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The name present in ``names`` for each wanted column (its own name first)."""
    picked: list[str] = []
    for column in columns:
        found = next((name for name in ALIASES.get(column, (column,)) if name in names), None)
        if found is None:
            accepted = " or ".join(repr(name) for name in ALIASES.get(column, (column,)))
            raise InvalidInput(
                f"{path}:1: missing column {column!r} ({accepted}) "
                f"(expected {', '.join(columns)}; found {', '.join(names) or 'nothing'})",
                details={"file": str(path), "line": 1, "column": column},
            )
        picked.append(found)
    return picked


def _records(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` pairs from a CSV file with a header or a JSON Lines file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        if path.suffix.lower() in JSON_SUFFIXES:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise InvalidInput(
                        f"{path}:{line}: not valid JSON ({exc.msg} at column {exc.colno})",
                        details={"file": str(path), "line": line},
                    ) from None
                if not isinstance(row, dict):
                    raise InvalidInput(
                        f"{path}:{line}: expected a JSON object per line",
                        details={"file": str(path), "line": line},
                    )
                yield line, row
            return
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InvalidInput(
                f"{path}: file is empty; expected a header row with columns {', '.join(columns)}",
                details={"file": str(path), "line": 1},
            )
        names = [name.strip() for name in header]
        _pick(path, names, columns)  # a wrong header fails even when no rows follow
        for row in reader:
            if any(cell.strip() for cell in row):
                cells = row + [""] * (len(names) - len(row))
                yield reader.line_num, dict(zip(names, cells, strict=False))


def _rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, [values of columns])`` for each data row; extra fields are ignored.

    A CSV file needs a header; a ``.jsonl`` file holds one object per line. Either
    may be Loupe's own labels export as it is (see :data:`ALIASES`).
    """
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"file": str(path)})
    picked: list[str] | None = None
    for line, row in _records(path, columns):
        if picked is None:
            picked = _pick(path, list(row), columns)
        values: list[str] = []
        for name in picked:
            value = _cell(row.get(name))
            if not value:
                raise InvalidInput(
                    f"{path}:{line}: empty value in column {name!r}",
                    details={"file": str(path), "line": line, "column": name},
                )
            values.append(value)
        yield line, values


def _plain_csv_columns(path: Path, columns: Sequence[str]) -> list[list[str]] | None:
    """The stripped values of ``columns`` when ``path`` is a plain CSV, read by splitting.

    ``csv.reader`` plus a dict per row cost ~2.5 CPU-s on 1M answers; splitting the whole text
    on newlines and commas runs in C and takes ~0.3 s. It gives the same cells as the csv
    module only for *plain* files: no quote character, no lone carriage return, and every line
    with the header's number of fields. Anything else (and any row the checked reader would
    reject or skip, such as an empty value or a blank line) returns ``None`` so that
    :func:`_rows` reads the file and reports the exact line.
    """
    if path.suffix.lower() in JSON_SUFFIXES or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8-sig")
    if '"' in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        return None
    names = [name.strip() for name in lines[0].split(",")]
    if len(set(names)) != len(names):
        return None
    positions = [names.index(name) for name in _pick(path, names, columns)]
    body = lines[1:]
    del lines
    if set(map(str.count, body, itertools.repeat(","))) != {len(names) - 1}:
        return None
    cells = ",".join(body).split(",")
    del body
    picked = [cells[position :: len(names)] for position in positions]
    # Strip only when some cell could need it: an ASCII text without spaces, tabs or other
    # ASCII whitespace (newlines are gone) has nothing to strip, and the check costs a few ms.
    if not text.isascii() or any(space in text for space in " \t\x0b\x0c\x1c\x1d\x1e\x1f"):
        picked = [list(map(str.strip, column)) for column in picked]
    if not all(all(column) for column in picked):
        return None
    return picked


def _arrow_columns(
    path: Path, columns: Sequence[str]
) -> tuple[list[list[str]], list[NDArray[np.intp]]] | None:
    """Sorted vocabularies and codes of ``columns`` of a plain CSV, parsed by pyarrow in C.

    Used only when pyarrow is installed (``pip install 'loupe[parquet]'``). Each column comes
    back as the sorted list of its distinct values and one integer code per row into it, the
    same codes :func:`loupe.aggregation.table.encode` gives the strings, so that the answers
    need not become a million Python strings. It accepts the files :func:`_plain_csv_columns`
    accepts (no quote character, no NUL, no lone carriage return, a header with distinct
    names, every row with the header's number of fields, no empty value, nothing to strip;
    blank lines are skipped as the csv module skips them) and returns ``None`` for anything
    else, parse errors included, so that the checked readers report the exact line.
    """
    if path.suffix.lower() in JSON_SUFFIXES or not path.is_file():
        return None
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    if b'"' in data or b"\x00" in data or lone_cr:
        return None
    end = data.find(b"\n")
    if end < 0:
        return None
    try:
        names = [name.strip() for name in data[:end].decode("utf-8").rstrip("\r").split(",")]
    except UnicodeDecodeError:
        return None
    if len(set(names)) != len(names):
        return None
    positions = [names.index(name) for name in _pick(path, names, columns)]
    fields = [f"f{position}" for position in range(len(names))]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            # One thread: the parse is a small share of the run, and threads cost CPU time.
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=fields, use_threads=False),
            parse_options=pa_csv.ParseOptions(
                quote_char=False, escape_char=False, ignore_empty_lines=True
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=[fields[position] for position in positions],
                column_types={fields[position]: pa.string() for position in positions},
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, UnicodeDecodeError):
        return None
    if table.num_rows == 0:
        return None
    vocabularies: list[list[str]] = []
    codes: list[NDArray[np.intp]] = []
    for position in positions:
        encoded = table.column(fields[position]).combine_chunks().dictionary_encode()
        values: list[str] = encoded.dictionary.to_pylist()
        if "" in values or list(map(str.strip, values)) != values:
            return None
        # Python's sort: the same order as encode(), and faster here than pyarrow's.
        order = sorted(range(len(values)), key=values.__getitem__)
        rank = np.empty(len(values), dtype=np.intp)
        rank[order] = np.arange(len(values), dtype=np.intp)
        indices = encoded.indices  # int32, no nulls; to_numpy's first call costs ~0.15 s
        offset = indices.offset * indices.type.byte_width
        dtype = np.dtype(f"<i{indices.type.byte_width}")
        codes.append(rank[np.frombuffer(indices.buffers()[1], dtype, len(indices), offset)])
        vocabularies.append(list(map(values.__getitem__, order)))
    return vocabularies, codes


def _read_answers(path: Path) -> tuple[list[str], list[str], list[str]]:
    plain = _plain_csv_columns(path, ANSWER_COLUMNS)
    if plain is not None:
        return plain[0], plain[1], plain[2]
    items: list[str] = []
    workers: list[str] = []
    labels: list[str] = []
    for _, (item, worker, label) in _rows(path, ANSWER_COLUMNS):
        items.append(item)
        workers.append(worker)
        labels.append(label)
    if not items:
        raise InvalidInput(
            f"{path}: no answers after the header; add rows of item,worker,label "
            "(an export of a project nobody has labelled yet is empty)",
            details={"file": str(path)},
        )
    return items, workers, labels


def _read_gold(path: Path) -> dict[str, str]:
    gold: dict[str, str] = {}
    for line, (item, label) in _rows(path, ("item", "label")):
        if gold.get(item, label) != label:
            raise InvalidInput(
                f"{path}:{line}: item {item!r} has two different gold labels",
                details={"file": str(path), "line": line, "column": "label"},
            )
        gold[item] = label
    return gold


def _read_weights(path: Path) -> dict[str, float]:
    weights: dict[str, float] = {}
    for line, (worker, text) in _rows(path, ("worker", "weight")):
        try:
            weight = float(text)
        except ValueError:
            weight = float("nan")
        if not weight >= 0.0 or weight == float("inf"):
            raise InvalidInput(
                f"{path}:{line}: weight {text!r} is not a finite number >= 0",
                details={"file": str(path), "line": line, "column": "weight"},
            )
        weights[worker] = weight
    return weights


def _csv_cells(values: list[Any]) -> list[Any]:
    """``csv_cell`` of each value; strings that cannot start a formula are kept as they are.

    The first characters are collected in one C-level pass: on 200k item ids that skips 200k
    Python calls when no id starts with a formula character (the usual case).
    """
    if set(map(type, values)) <= {str} and FORMULA_START.isdisjoint(
        map(operator.itemgetter(slice(0, 1)), values)
    ):
        return values
    return list(map(csv_cell, values))


def _write_csv(handle: TextIO, header: Sequence[str], columns: Sequence[list[Any]]) -> None:
    """Write ``columns`` as CSV rows exactly as :func:`csv.writer` would (CRLF line ends).

    When no cell holds a character the writer quotes for (comma, quote, CR, LF) and none is
    empty, joining strings gives the same bytes several times faster than ``writerows``.
    """
    text = [cell for column in columns for cell in column]
    plain = set(map(type, text)) <= {str} and all(text)  # C-level passes, no Python loop
    joined = "\x00".join(text) if plain else ""
    if plain and not any(char in joined for char in ',"\r\n'):
        handle.write(",".join(header) + "\r\n")
        handle.writelines(map("{}\r\n".format, map(",".join, zip(*columns, strict=True))))
        return
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows(zip(*columns, strict=True))


TRANSCRIPT_COLUMNS = ("item", "worker", "text")
KINDS = ("label", "transcript")


def _aggregate_transcripts(input: Path, output: Path) -> None:
    """``--kind transcript``: fuse each item's transcripts (ROVER weighted by worker skill)."""
    from loupe.aggregation.transcripts import TranscriptFusion

    items: list[str] = []
    workers: list[str] = []
    texts: list[str] = []
    for _, (item, worker, text) in _rows(input, TRANSCRIPT_COLUMNS):
        items.append(item)
        workers.append(worker)
        texts.append(text)
    if not items:
        raise InvalidInput(
            f"{input}: no answers after the header; add rows of item,worker,text",
            details={"file": str(input)},
        )
    fusion = TranscriptFusion().fit(items, workers, texts)
    stdout = str(output) == "-"
    handle = sys.stdout if stdout else output.open("w", newline="", encoding="utf-8")
    try:
        columns = (
            _csv_cells(list(fusion.items_)),
            _csv_cells(list(fusion.texts_)),
            list(map("{:.6f}".format, fusion.confidences_.tolist())),
        )
        _write_csv(handle, ("item", "text", "confidence"), columns)
    finally:
        if not stdout:
            handle.close()
    where = "standard output" if stdout else output
    typer.echo(f"{len(fusion.items_)} transcripts fused -> {where}", err=True)


def aggregate_command(
    input: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header, or JSONL: item,worker,label (or Loupe's labels export)"
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Where to write item,label,confidence; - for stdout"),
    ],
    method: Annotated[str, typer.Option(help="mv, wmv, ds, ocds, glad or mace")] = DEFAULT_METHOD,
    gold: Annotated[
        Path | None, typer.Option(help="CSV item,label of known answers (anchors worker skills)")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="CSV worker,weight for --method wmv (others weigh 1)")
    ] = None,
    ties: Annotated[
        str | None,
        typer.Option(
            help="--method mv only: break ties by prior (default: the more common class), "
            "lowest (first in sorted order) or random (with --seed)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed for tie-breaking")] = 0,
    kind: Annotated[
        str,
        typer.Option(
            help="label (item,worker,label -> item,label,confidence) or transcript "
            "(item,worker,text -> item,text,confidence: word-level ROVER weighted by "
            "worker skill)"
        ),
    ] = "label",
) -> None:
    """Aggregate raw answers into one label per item, with the posterior confidence.

    Reads rows of item,worker,label from CSV or JSONL, including Loupe's own
    `loupe export --kind labels` output as it is (id, annotator, answer).
    With --kind transcript, reads item,worker,text and writes one fused transcript per
    item (item,text,confidence).
    """
    if kind not in KINDS:
        raise InvalidInput(
            f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}",
            details={"option": "--kind", "allowed": list(KINDS)},
        )
    if kind == "transcript":
        if method != DEFAULT_METHOD or gold is not None or weights is not None or ties:
            raise InvalidInput(
                "--method, --gold, --weights and --ties apply to --kind label only",
                details={"option": "--kind"},
            )
        _aggregate_transcripts(input, output)
        return
    if method not in AGGREGATORS:
        raise InvalidInput(
            f"unknown method {method!r}; choose one of {', '.join(AGGREGATORS)}",
            details={"option": "--method", "allowed": list(AGGREGATORS)},
        )
    if weights is not None and method != "wmv":
        raise InvalidInput(
            "--weights applies to --method wmv only", details={"option": "--weights"}
        )
    if ties is not None and method != "mv":
        raise InvalidInput("--ties applies to --method mv only", details={"option": "--ties"})
    if ties is not None and ties not in TIE_RULES:
        raise InvalidInput(
            f"unknown tie rule {ties!r}; choose one of {', '.join(TIE_RULES)}",
            details={"option": "--ties", "allowed": list(TIE_RULES)},
        )
    # Without gold or weights (keyed by the original strings) and with pyarrow installed, the
    # model is fitted on pyarrow's integer codes; the names come back only for the output.
    arrow = _arrow_columns(input, ANSWER_COLUMNS) if gold is None and weights is None else None
    if arrow is None:
        items, workers, labels = _read_answers(input)
    else:
        vocabularies, (items, workers, labels) = arrow  # type: ignore[assignment]
    known = _read_gold(gold) if gold is not None else None
    if method == "wmv":
        model: Aggregator = WeightedMajorityVote(
            _read_weights(weights) if weights is not None else None, random_state=seed
        )
    elif method == "mv":
        model = MajorityVote(ties=ties or "prior", random_state=seed)
    else:
        model = AGGREGATORS[method](random_state=seed)
    model.fit(items, workers, labels, gold=known)
    confidence = model.probas_.max(axis=1)
    item_names: list[Any] = model.items_.tolist()
    classes: list[Any] = model.classes_.tolist()
    predicted: list[Any] = model.predict().tolist()
    if arrow is not None:
        item_names = list(map(vocabularies[0].__getitem__, item_names))
        predicted = list(map(vocabularies[2].__getitem__, predicted))
        classes = list(map(vocabularies[2].__getitem__, classes))
    stdout = str(output) == "-"
    handle = sys.stdout if stdout else output.open("w", newline="", encoding="utf-8")
    try:
        # Item ids and labels come from the input file: neutralise formulas. Whole columns at a
        # time (C-level map and join): a csv_cell call and a writerow per row cost ~1 s on 200k
        # items.
        cells = {label: csv_cell(label) for label in classes}
        columns = (
            _csv_cells(item_names),
            list(map(cells.__getitem__, predicted)),
            list(map("{:.6f}".format, confidence.tolist())),
        )
        _write_csv(handle, ("item", "label", "confidence"), columns)
    finally:
        if not stdout:
            handle.close()
    where = "standard output" if stdout else output
    typer.echo(f"{len(model.items_)} items aggregated with {method} -> {where}", err=True)
