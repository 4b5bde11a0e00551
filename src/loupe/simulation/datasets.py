"""Labelled text datasets for replay: JSON Lines with a text field and a label field.

>>> import json, pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "d.jsonl"
>>> _ = path.write_text(json.dumps({"text": "hi", "intent": "greet"}) + "\\n")
>>> load_jsonl(path, text_field="text", label_field="intent").labels
('greet',)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loupe.errors import InvalidInput

__all__ = ["LabelledTexts", "load_jsonl"]


@dataclass(frozen=True)
class LabelledTexts:
    """Parallel tuples of texts and labels, with where they came from."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise InvalidInput(
                f"{self.source or 'dataset'}: {len(self.texts)} texts but {len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return len(self.texts)

    def without(self, labels: Sequence[str]) -> LabelledTexts:
        """A copy without the rows whose label is in ``labels`` (e.g. ``["oos"]``)."""
        drop = set(labels)
        keep = [i for i, label in enumerate(self.labels) if label not in drop]
        return LabelledTexts(
            tuple(self.texts[i] for i in keep), tuple(self.labels[i] for i in keep), self.source
        )

    def only(self, labels: Sequence[str]) -> LabelledTexts:
        """A copy with only the rows whose label is in ``labels``."""
        wanted = set(labels)
        keep = [i for i, label in enumerate(self.labels) if label in wanted]
        return LabelledTexts(
            tuple(self.texts[i] for i in keep), tuple(self.labels[i] for i in keep), self.source
        )


def load_jsonl(
    path: Path | str, *, text_field: str, label_field: str, skip_empty_text: bool = False
) -> LabelledTexts:
    """Read one JSON object per line; every row needs string ``text_field`` and ``label_field``.

    Blank lines are skipped, and so are rows whose text is ``""`` when
    ``skip_empty_text`` is set. Any problem raises
    :class:`~loupe.errors.InvalidInput` naming the file and the 1-based line number.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"{file}: no such file; check the path", details={"file": str(file)})
    texts: list[str] = []
    labels: list[str] = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = {"file": str(file), "line": number}
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    f"{file}, line {number}: not valid JSON ({exc.msg})", details=where
                ) from None
            if not isinstance(row, dict):
                raise InvalidInput(f"{file}, line {number}: expected a JSON object", details=where)
            if skip_empty_text and row.get(text_field) == "":
                continue
            for name in (text_field, label_field):
                value = row.get(name)
                if not isinstance(value, str) or not value:
                    raise InvalidInput(
                        f"{file}, line {number}: field {name!r} is missing or not a "
                        "non-empty string; fix the row or pass another --text-field/--label-field",
                        details={**where, "field": name},
                    )
            texts.append(row[text_field])
            labels.append(row[label_field])
    if not texts:
        raise InvalidInput(f"{file}: no rows; the file is empty", details={"file": str(file)})
    return LabelledTexts(tuple(texts), tuple(labels), str(file))
