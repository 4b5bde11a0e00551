"""Answer editors: what the work pages render for a project's task type.

One :class:`Editor` per task type describes the widgets (``templates/_editor.html``)
and their keyboard map; ``static/editors.js`` drives them from :meth:`Editor.config`.
The workspace, the reviewer's correction, the expert queue and qualification tests
all use the same editor, so an answer is given the same way everywhere.

>>> from loupe.label_schema import LabelOption, LabelSchema, Pairwise
>>> editor = editor_for(LabelSchema(task=Pairwise(allow_tie=False)))
>>> [(o.key, o.shortcut) for o in editor.options]
[('a', '1'), ('b', '2')]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from loupe.label_schema import (
    Boxes,
    FreeText,
    LabelSchema,
    MultiChoice,
    Pairwise,
    Segments,
    SingleChoice,
)

__all__ = ["LABEL_LETTERS", "PAGE_LETTERS", "Editor", "Option", "editor_for", "shortcut"]

# Letters some work page uses for itself (workspace: A accept the model's suggestion,
# S skip, U undo, F flag; review: A accept, R reject, C correct; expert queue: P pass
# up, S next; every page: G guidelines). Labels past the tenth get the other letters,
# in alphabetical order, the same on every page; labels past those are found with `/`.
PAGE_LETTERS = "acfgprsu"
LABEL_LETTERS = "".join(c for c in "abcdefghijklmnopqrstuvwxyz" if c not in PAGE_LETTERS)

FREE_TEXT_LABELS = {
    "translation": "Your translation",
    "transcription": "Your transcription",
    "post_edit": "Edit the text until it is right",
    "response": "Your answer",
}


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    label: str  # what the button says
    description: str
    shortcut: str  # "" past the last key (found with `/` then)


@dataclass(frozen=True, slots=True)
class Editor:
    type: str  # the task type: single_choice, multi_choice, free_text, pairwise, spans
    heading: str
    options: list[Option]
    text_field: str
    # Item data fields the editor shows itself (pairwise outputs, the prompt, the text to
    # post-edit), so the item card does not list them again.
    shown_fields: list[str] = field(default_factory=list)
    free_text_label: str = ""
    target_language: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    # Item fields holding images (static/media.js shows them; +/- zoom).
    media: list[str] = field(default_factory=list)

    @property
    def multi(self) -> bool:
        return self.type == "multi_choice"

    def config(self) -> dict[str, Any]:
        """What ``static/editors.js`` needs (embedded in the page as JSON)."""
        return {
            "type": self.type,
            "textField": self.text_field,
            "keys": [option.key for option in self.options],
            "shortcuts": [option.shortcut for option in self.options],
            "shownFields": self.shown_fields,
            "mediaFields": self.media,
            **self.settings,
        }


def shortcut(index: int) -> str:
    """The key of the option at ``index``: 1..9 then 0, then letters no page uses.

    >>> [shortcut(i) for i in (0, 9, 10, 11, 27, 28)]
    ['1', '0', 'b', 'd', 'z', '']
    """
    if index < 10:
        return str((index + 1) % 10)
    letter = index - 10
    return LABEL_LETTERS[letter] if letter < len(LABEL_LETTERS) else ""


def editor_for(schema: LabelSchema) -> Editor:
    """The editor of ``schema``'s task type."""
    editor = _editor(schema)
    return replace(editor, media=schema.media_fields())


def _editor(schema: LabelSchema) -> Editor:
    task = schema.task
    text_field = schema.text_field
    if isinstance(task, FreeText):
        shown = [task.source_field] if task.source_field else []
        return Editor(
            type=task.type,
            heading="Write the text",
            options=[],
            text_field=text_field,
            shown_fields=[f for f in shown if f != text_field],
            free_text_label=FREE_TEXT_LABELS[task.mode]
            + (f" ({task.target_language})" if task.target_language else ""),
            target_language=task.target_language,
            settings={
                "sourceField": task.source_field,
                "minLength": task.min_length,
                "maxLength": task.max_length,
            },
        )
    if isinstance(task, Pairwise):
        choices = [("a", "A is better"), ("b", "B is better")]
        if task.allow_tie:
            choices.append(("tie", "About the same"))
        return Editor(
            type=task.type,
            heading="Which output is better?",
            options=[
                Option(key=key, label=label, description="", shortcut=shortcut(i))
                for i, (key, label) in enumerate(choices)
            ],
            text_field=text_field,
            shown_fields=[task.a_field, task.b_field]
            + ([task.prompt_field] if task.prompt_field else []),
            settings={
                "aField": task.a_field,
                "bField": task.b_field,
                "promptField": task.prompt_field,
            },
        )
    options = [
        Option(
            key=option.key, label=option.key, description=option.description, shortcut=shortcut(i)
        )
        for i, option in enumerate(task.labels)
    ]
    if isinstance(task, SingleChoice):
        return Editor(
            type=task.type, heading="Choose a label", options=options, text_field=text_field
        )
    if isinstance(task, MultiChoice):
        return Editor(
            type=task.type,
            heading="Choose labels",
            options=options,
            text_field=text_field,
            settings={"minChoices": task.min_choices},
        )
    if isinstance(task, Boxes):
        # N adds a box from the keyboard (static/boxes.js): no label may have it.
        return Editor(
            type=task.type,
            heading="Draw a box around each object, then press its label's number",
            options=[replace(o, shortcut="") if o.shortcut == "n" else o for o in options],
            text_field=text_field,
            settings={
                "mediaField": task.media_field,
                "maxBoxes": task.max_boxes,
                "minSize": task.min_size,
            },
        )
    if isinstance(task, Segments):
        # M marks a segment's start and end while the audio plays (static/segments.js).
        return Editor(
            type=task.type,
            heading="Press M at the start and end of each segment, then its label's number",
            options=[replace(o, shortcut="") if o.shortcut == "m" else o for o in options],
            text_field=text_field,
            settings={
                "mediaField": task.media_field,
                "maxSegments": task.max_segments,
                "minDuration": task.min_duration,
                "allowOverlap": task.allow_overlap,
            },
        )
    return Editor(
        type=task.type,
        heading="Mark spans: select text, then press its label's number",
        options=options,
        text_field=text_field,
        settings={"allowOverlap": task.allow_overlap},
    )
