"""An import shortens the GIL's switch interval while it runs, and only then."""

from __future__ import annotations

import sys

import pytest
from tests.factories import make_project

from loupe.db.database import Database
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.projects import imports
from loupe.services.projects.switch_interval import (
    IMPORT_SWITCH_INTERVAL_S,
    import_switch_interval,
)


def near(seconds: float) -> object:
    """The interpreter keeps the interval in whole microseconds."""
    return pytest.approx(seconds, rel=0.02)


@pytest.fixture(autouse=True)
def _restore() -> object:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def test_the_last_of_overlapping_imports_restores_the_interval() -> None:
    sys.setswitchinterval(0.005)
    first, second = import_switch_interval(), import_switch_interval()
    first.__enter__()
    assert sys.getswitchinterval() == near(IMPORT_SWITCH_INTERVAL_S)
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == near(IMPORT_SWITCH_INTERVAL_S)
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == near(0.005)


def test_a_shorter_interval_is_kept_and_a_failure_restores_it() -> None:
    sys.setswitchinterval(0.0001)
    with import_switch_interval():
        assert sys.getswitchinterval() == near(0.0001)
    sys.setswitchinterval(0.005)
    with pytest.raises(RuntimeError), import_switch_interval():
        raise RuntimeError("the import failed")
    assert sys.getswitchinterval() == near(0.005)


def test_import_records_runs_with_the_short_interval(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.setswitchinterval(0.005)
    seen: list[float] = []
    write_batch = imports.write_batch

    def spy(*args: object, **kwargs: object) -> imports.ImportResult:
        seen.append(sys.getswitchinterval())
        return write_batch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports, "write_batch", spy)
    project = make_project(db)
    records = [parse_item({"id": "a", "text": "t"}, where="t", text_field="text")]
    imports.import_records(db, Actor.system(), project, records)
    assert seen == [near(IMPORT_SWITCH_INTERVAL_S)]
    assert sys.getswitchinterval() == near(0.005)
