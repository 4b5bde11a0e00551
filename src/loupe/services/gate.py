"""The privacy gate every import passes through, before anything is stored.

For each item: scan every string field of its data, then per the project's policy

* ``placeholder`` / ``pseudonym``: store the redacted data (what annotators get) and
  the span map back to the original;
* ``withhold``: an item with any detection is withheld;

and, whatever the policy, an item whose scan fails, times out or does not settle is
withheld (the gate fails closed). A withheld item's data is replaced by
``[WITHHELD]`` and ``next task`` never hands it out. The original data is sealed
with the subject's key (:mod:`loupe.services.vault`); without a vault it is not kept.

Detection is the slow part (~2,000 short items/s per core), so a gate with
``workers != 1`` spreads batches over a process pool.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from loupe.formats import SENSITIVITIES, Sensitivity
from loupe.privacy import Policy, Redactor, Scanner
from loupe.privacy.redaction import WITHHELD
from loupe.services.vault import Vault, load_master_key
from loupe.settings import Settings

__all__ = [
    "HEALTH_DOMAINS",
    "HEALTH_TYPES",
    "GateResult",
    "PrivacyGate",
    "classify",
    "gate_data",
    "gate_for",
    "vault_for",
]

HEALTH_TYPES = frozenset({"MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_NUMBER"})
HEALTH_DOMAINS = frozenset({"health", "medical", "clinical", "healthcare"})
POOL_MIN_BATCH = 1_000  # below this, shipping work to other processes costs more than it saves


@dataclass(frozen=True, slots=True)
class GateResult:
    """What the gate made of one item's data (pure: no sensitivity floor, no sealing)."""

    data: dict[str, Any]  # redacted, or every value "[WITHHELD]"
    spans: dict[str, list[list[Any]]]  # field -> [[orig_start, orig_end, red_start, red_end, type]]
    detected: tuple[str, ...]  # identifier types found, sorted
    withheld_reason: str | None


def _withheld(data: dict[str, Any], reason: str, detected: tuple[str, ...]) -> GateResult:
    return GateResult(dict.fromkeys(data, WITHHELD), {}, detected, reason)


def gate_data(
    data: dict[str, Any], *, scanner: Scanner, redactors: dict[str, Redactor], policy: Policy
) -> GateResult:
    """Scan and redact every string value of ``data`` under ``policy``."""
    out: dict[str, Any] = {}
    spans: dict[str, list[list[Any]]] = {}
    detected: set[str] = set()
    for key, value in data.items():
        if not isinstance(value, str):
            out[key] = value
            continue
        scan = scanner.scan(value)
        if scan.verdict == "withhold":
            return _withheld(data, scan.reason or "error", tuple(sorted(detected)))
        if not scan.spans:
            out[key] = value
            continue
        detected.update(span.type for span in scan.spans)
        if policy == "withhold":
            return _withheld(data, "policy", tuple(sorted(detected)))
        redaction = redactors[policy].redact(value)
        if redaction.withheld:
            return _withheld(data, "unsettled", tuple(sorted(detected)))
        detected.update(m.type for m in redaction.mappings)
        out[key] = redaction.text
        spans[key] = [
            [m.original_start, m.original_end, m.redacted_start, m.redacted_end, m.type]
            for m in redaction.mappings
        ]
    return GateResult(out, spans, tuple(sorted(detected)), None)


def classify(
    result: GateResult | None, *, domain: str, floor: Sensitivity | None, gated: bool
) -> Sensitivity:
    """The item's sensitivity class: the highest of the given floor and what was found.

    Health identifiers or a health domain make ``health``; any other identifier, or a
    withheld item (it may hold anything), ``personal``; otherwise ``internal`` when
    gated and ``public`` when the project's gate is off.
    """
    found: Sensitivity = "internal" if gated else "public"
    if domain in HEALTH_DOMAINS or (result and HEALTH_TYPES.intersection(result.detected)):
        found = "health"
    elif result is not None and (result.detected or result.withheld_reason):
        found = "personal"
    if floor is not None and SENSITIVITIES.index(floor) > SENSITIVITIES.index(found):
        return floor
    return found


# One scanner per worker process, built once by the pool's initializer.
_worker: tuple[Scanner, dict[str, Redactor]] | None = None


def _tools(budget_ms: float) -> tuple[Scanner, dict[str, Redactor]]:
    scanner = Scanner(budget_ms=budget_ms)
    redactors = {p: Redactor(scanner, policy=p) for p in ("placeholder", "pseudonym")}
    return scanner, redactors


def _init_worker(budget_ms: float) -> None:
    global _worker
    _worker = _tools(budget_ms)


def _gate_chunk(rows: list[dict[str, Any]], policy: Policy) -> list[GateResult]:
    assert _worker is not None
    scanner, redactors = _worker
    return [gate_data(row, scanner=scanner, redactors=redactors, policy=policy) for row in rows]


class PrivacyGate:
    """Detection, redaction and (with a ``vault``) sealing of the originals.

    >>> gate = PrivacyGate()
    >>> gate.check([{"text": "mail ana@example.org"}], policy="placeholder")[0].data
    {'text': 'mail [EMAIL]'}

    Use as a context manager (or call :meth:`close`) when ``workers != 1``.
    """

    def __init__(
        self, *, vault: Vault | None = None, budget_ms: float = 250.0, workers: int = 1
    ) -> None:
        self.vault = vault
        self.budget_ms = budget_ms
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._scanner, self._redactors = _tools(budget_ms)
        self._pool: ProcessPoolExecutor | None = None

    def check(self, rows: Sequence[dict[str, Any]], *, policy: Policy) -> list[GateResult]:
        """Gate each row's data, in order."""
        if self.workers == 1 or len(rows) < POOL_MIN_BATCH:
            return [
                gate_data(row, scanner=self._scanner, redactors=self._redactors, policy=policy)
                for row in rows
            ]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, initializer=_init_worker, initargs=(self.budget_ms,)
            )
        size = -(-len(rows) // (self.workers * 4))
        chunks = [list(rows[i : i + size]) for i in range(0, len(rows), size)]
        results: list[GateResult] = []
        for part in self._pool.map(_gate_chunk, chunks, [policy] * len(chunks)):
            results.extend(part)
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> PrivacyGate:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def gate_for(settings: Settings, *, workers: int = 1) -> PrivacyGate:
    """The gate for ``settings``, sealing with the master key in the key directory.

    The master key is created on first use if ``loupe init`` has not made it yet.
    """
    return PrivacyGate(
        vault=vault_for(settings), budget_ms=settings.gate_budget_ms, workers=workers
    )


def vault_for(settings: Settings) -> Vault:
    """The vault for ``settings`` (master key from the key directory, created if absent)."""
    return Vault(load_master_key(settings.resolved_key_dir(), create=True))
