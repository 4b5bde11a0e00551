"""The privacy gate every import passes through, before anything is stored.

For each item: scan every string of its data and of its metadata (through nested
objects and lists: keys as well as values, the model's ``prediction`` and the ``gold``
answer included: a person reads them all), then per the project's policy

* ``placeholder`` / ``pseudonym``: store the redacted data (what annotators get) and
  the span map back to the original;
* ``withhold``: an item with any detection is withheld;

and, whatever the policy, an item whose scan fails, is too long or does not settle is
withheld (the gate fails closed). The verdict depends on the text alone, never on the
machine's load: the scanner has a size limit, not a time budget. A withheld item's
data is replaced by ``[WITHHELD]`` and ``next task`` never hands it out. The original
data (and metadata, when it was redacted) is sealed with the subject's key
(:mod:`loupe.services.compliance.vault`); without a vault it is not kept. :func:`redact_text` gates
one free-text string (an annotator's typed answer, a flag, review or pass-up reason) the
same way, and
:meth:`PrivacyGate.external_ids` gates the importer's item ids.

Detection is the slow part (~2,000 short items/s per core), so a gate with
``workers != 1`` spreads batches over a process pool.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from loupe.errors import InvalidInput
from loupe.formats import SENSITIVITIES, Sensitivity
from loupe.label_schema import FreeText, Task
from loupe.privacy import Policy, Redactor, Scanner
from loupe.privacy.redaction import WITHHELD
from loupe.services.compliance.privacy_settings import privacy_of
from loupe.services.compliance.vault import Vault, load_master_key, load_ref_key, subject_ref
from loupe.settings import Settings

__all__ = [
    "HEALTH_DOMAINS",
    "HEALTH_TYPES",
    "GateResult",
    "PendingCheck",
    "PrivacyGate",
    "RedactedText",
    "classify",
    "gate_data",
    "gate_for",
    "image_withheld_reason",
    "redact_answer",
    "redact_fields",
    "redact_text",
    "vault_for",
]

HEALTH_TYPES = frozenset({"MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_NUMBER"})
HEALTH_DOMAINS = frozenset({"health", "medical", "clinical", "healthcare"})
POOL_MIN_BATCH = 1_000  # below this, shipping work to other processes costs more than it saves

ID_PSEUDONYM_CHARS = 16  # characters (4 bits each) of the keyed hash that keeps a gated id unique
_LETTERS = "abcdefghijklmnop"
ROW_ID_CHARS = 40  # of the keyed hash naming a row that came without an id (160 bits)
MAX_EXTERNAL_ID = 255
MAX_CLEAN_KEYS = 10_000  # keys remembered as clean per gate (bounded: keys may be content)


@dataclass(frozen=True, slots=True)
class GateResult:
    """What the gate made of one item's data (pure: no sensitivity floor, no sealing)."""

    data: dict[str, Any]  # redacted, or every string "[WITHHELD]"
    spans: dict[str, list[list[Any]]]  # field -> [[orig_start, orig_end, red_start, red_end, type]]
    detected: tuple[str, ...]  # identifier types found, sorted
    withheld_reason: str | None
    metadata: dict[str, Any] = field(default_factory=dict)  # redacted like ``data``

    def __reduce__(self) -> tuple[type[GateResult], tuple[Any, ...]]:
        # A gate pool sends each chunk's results back pickled. For a slotted frozen
        # dataclass pickle's default state restore calls dataclasses.fields() per object:
        # 4% of the importing process's time in a pooled `loupe import`.
        fields_ = (self.data, self.spans, self.detected, self.withheld_reason, self.metadata)
        return (GateResult, fields_)


class _Withhold(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


# Names a key and records its spans: ``(parent path prefix, key, names taken) -> name``.
_KeyFn = Callable[[str, str, dict[str, Any]], str]


def _map_strings(value: Any, path: str, fn: Callable[[str, str], str], key_fn: _KeyFn) -> Any:
    """``value`` with every string inside it (through dicts and lists) replaced by ``fn``;
    the keys of nested objects too (see :func:`_map_keys`)."""
    if isinstance(value, str):
        return fn(path, value)
    if isinstance(value, dict):
        return _map_keys(value, fn, key_fn, prefix=f"{path}.")
    if isinstance(value, list):
        return [_map_strings(v, f"{path}.{i}", fn, key_fn) for i, v in enumerate(value)]
    return value


def _map_keys(
    data: dict[str, Any], fn: Callable[[str, str], str], key_fn: _KeyFn, *, prefix: str = ""
) -> dict[str, Any]:
    """Map every key and value of ``data``. A key is content too (``{"Ana Ruiz": 1}``): it
    is gated by ``key_fn``, which also keeps apart two keys that redact to the same text
    (a ``#2``, ``#3``... suffix rather than one overwriting the other). Paths are built
    from the keys as *gated*, never as given: the span map is stored beside the sealed
    original, not in it, so a path must hold no content (``metadata.[EMAIL].note``)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key_fn(prefix, key, out) if isinstance(key, str) else key
        out[name] = _map_strings(value, f"{prefix}{name}", fn, key_fn)
    return out


def _withheld_fields(data: dict[str, Any], scanner: Scanner) -> dict[str, Any]:
    """A withheld item's data: every field ``[WITHHELD]``, under its own name only when
    the scanner finds nothing in the name."""
    out: dict[str, Any] = {}
    for key in data:
        scan = scanner.scan(key)
        name = key if scan.verdict == "show" and not scan.spans else WITHHELD
        while name in out:
            name = _next_suffix(name)
        out[name] = WITHHELD
    return out


def _next_suffix(name: str) -> str:
    base, sep, number = name.rpartition("#")
    if sep and number.isdigit():
        return f"{base}#{int(number) + 1}"
    return f"{name}#2"


def gate_data(
    data: dict[str, Any],
    *,
    scanner: Scanner,
    redactors: dict[str, Redactor],
    policy: Policy,
    metadata: dict[str, Any] | None = None,
    clean_keys: set[str] | None = None,
) -> GateResult:
    """Scan and redact every string of ``data`` and ``metadata`` under ``policy``.

    Strings nested in objects and lists are scanned too; a field's span map is keyed
    by its path (``"text"``, ``"contact.phone"``, ``"metadata.note"``; a key's own spans
    under ``"metadata.<key>#key"``), built from the keys as gated
    (``"metadata.[EMAIL]#key"``): the span map is stored unsealed, so it holds positions
    and types, never content. Every metadata key and value is scanned, the model's
    ``prediction`` and the ``gold`` answer included. ``clean_keys``, when given, remembers
    the keys in which nothing was found, so that a key every item repeats is scanned once.
    """
    spans: dict[str, list[list[Any]]] = {}
    detected: set[str] = set()

    def redact(value: str) -> tuple[str, list[list[Any]] | None]:
        scan = scanner.scan(value)
        if scan.verdict == "withhold":
            raise _Withhold(scan.reason or "error")
        if not scan.spans:
            return value, None
        detected.update(span.type for span in scan.spans)
        if policy == "withhold":
            raise _Withhold("policy")
        redaction = redactors[policy].redact(value, scan=scan)
        if redaction.withheld:
            raise _Withhold("unsettled")
        detected.update(m.type for m in redaction.mappings)
        return redaction.text, [
            [m.original_start, m.original_end, m.redacted_start, m.redacted_end, m.type]
            for m in redaction.mappings
        ]

    def gate_text(path: str, value: str) -> str:
        text, found = redact(value)
        if found:
            spans[path] = found
        return text

    def gate_key(prefix: str, key: str, taken: dict[str, Any]) -> str:
        if clean_keys is not None and key in clean_keys:
            name, found = key, None  # the same key in item after item: scanned once
        else:
            name, found = redact(key)
            if found is None and clean_keys is not None and len(clean_keys) < MAX_CLEAN_KEYS:
                clean_keys.add(key)
        while name in taken:
            name = _next_suffix(name)
        if found:
            spans[f"{prefix}{name}#key"] = found
        return name

    meta = metadata or {}
    try:
        out = _map_keys(data, gate_text, gate_key)
        out_meta = _map_keys(meta, gate_text, gate_key, prefix="metadata.")
    except _Withhold as stop:
        # Keys may hold personal data too: a withheld item keeps none of its metadata, and
        # only the names of its data fields in which the scanner finds nothing.
        return GateResult(
            _withheld_fields(data, scanner),
            {},
            tuple(sorted(detected)),
            stop.reason,
            {"withheld": WITHHELD} if meta else {},
        )
    return GateResult(out, spans, tuple(sorted(detected)), None, out_meta)


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


def _tools() -> tuple[Scanner, dict[str, Redactor]]:
    scanner = Scanner()
    redactors = {p: Redactor(scanner, policy=p) for p in ("placeholder", "pseudonym")}
    return scanner, redactors


def _init_worker() -> None:
    global _worker
    _worker = _tools()


def _gate_chunk(
    rows: list[tuple[dict[str, Any], dict[str, Any]]], policy: Policy
) -> list[GateResult]:
    assert _worker is not None
    scanner, redactors = _worker
    keys: set[str] = set()
    return [
        gate_data(
            data,
            scanner=scanner,
            redactors=redactors,
            policy=policy,
            metadata=meta,
            clean_keys=keys,
        )
        for data, meta in rows
    ]


class PendingCheck:
    """Gate results on their way (:meth:`PrivacyGate.submit`)."""

    __slots__ = ("_done", "_futures")

    def __init__(
        self,
        *,
        done: list[GateResult] | None = None,
        futures: Sequence[Future[list[GateResult]]] = (),
    ) -> None:
        self._done = done
        self._futures = futures

    def result(self) -> list[GateResult]:
        """The results in the rows' order, once every part is gated."""
        if self._done is None:
            self._done = [r for future in self._futures for r in future.result()]
        return self._done


class PrivacyGate:
    """Detection, redaction and (with a ``vault``) sealing of the originals.

    >>> gate = PrivacyGate()
    >>> gate.check([{"text": "mail ana@example.org"}], policy="placeholder")[0].data
    {'text': 'mail [EMAIL]'}

    Use as a context manager (or call :meth:`close`) when ``workers != 1``.
    """

    def __init__(
        self,
        *,
        vault: Vault | None = None,
        id_key: bytes | None = None,
        ref_key: bytes | None = None,
        workers: int = 1,
    ) -> None:
        self.vault = vault
        # The deployment's ``subject-ref.key``: subject ids are stored as their refs under
        # it. Without one (no key directory) an item naming its subject is refused.
        self._ref_key = ref_key
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._scanner, self._redactors = _tools()
        # The key of gated ids (:meth:`external_ids`). Without one (no key directory), a key
        # of this gate's own keeps them unique and unguessable, stable while it lives.
        self._id_key = id_key if id_key is not None else secrets.token_bytes(32)
        self._pool: ProcessPoolExecutor | None = None
        self._clean_keys: set[str] = set()

    def check(
        self,
        rows: Sequence[dict[str, Any]],
        *,
        policy: Policy,
        metadata: Sequence[dict[str, Any]] | None = None,
    ) -> list[GateResult]:
        """Gate each row's data (and its ``metadata``, when given), in order."""
        return self.submit(rows, policy=policy, metadata=metadata).result()

    def submit(
        self,
        rows: Sequence[dict[str, Any]],
        *,
        policy: Policy,
        metadata: Sequence[dict[str, Any]] | None = None,
    ) -> PendingCheck:
        """Start gating ``rows`` as :meth:`check` does; the results come from the returned
        :class:`PendingCheck`. With a process pool the work runs there meanwhile, so the
        caller can write the previous batch while this one is gated; otherwise it is done
        before this returns."""
        metas: Sequence[dict[str, Any]] = [{}] * len(rows) if metadata is None else metadata
        pairs = list(zip(rows, metas, strict=True))
        if self.workers == 1 or len(rows) < POOL_MIN_BATCH:
            return PendingCheck(
                done=[
                    gate_data(
                        data,
                        scanner=self._scanner,
                        redactors=self._redactors,
                        policy=policy,
                        metadata=meta,
                        clean_keys=self._clean_keys,
                    )
                    for data, meta in pairs
                ]
            )
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, initializer=_init_worker)
        size = -(-len(rows) // (self.workers * 4))
        return PendingCheck(
            futures=[
                self._pool.submit(_gate_chunk, pairs[i : i + size], policy)
                for i in range(0, len(pairs), size)
            ]
        )

    @property
    def scanner(self) -> Scanner:
        """The text detectors this gate runs (the image gate reads OCR'd text with them)."""
        return self._scanner

    def external_ids(self, ids: Sequence[str]) -> dict[str, str]:
        """Each importer's id as it may be stored and shown: as given when the gate finds
        nothing in it, otherwise redacted and made unique by a keyed hash of the original
        (``"user-[EMAIL]~dpkbmceinaolgfhj"``): HMAC-SHA256 under the gate's ``id_key``.

        The same id always gates to the same text (imports stay idempotent), the hash
        cannot be reversed by guessing without the key, and a gated id gates to itself,
        so callers may apply this twice.
        """
        out: dict[str, str] = {}
        for external_id in ids:
            if external_id in out:
                continue
            scan = self._scanner.scan(external_id)
            if scan.verdict == "show" and not scan.spans:
                out[external_id] = external_id
                continue
            shown = (
                self._redactors["placeholder"].redact(external_id, scan=scan).text
                if scan.verdict == "show"
                else WITHHELD
            )
            suffix = self._keyed(external_id)
            keep = MAX_EXTERNAL_ID - 1 - ID_PSEUDONYM_CHARS  # the id column's width
            out[external_id] = f"{shown[:keep]}~{suffix[:ID_PSEUDONYM_CHARS]}"
        return out

    def row_id(self, derived: str) -> str:
        """The id stored for a row that came without one, from the content hash
        :func:`~loupe.formats.parse_item` named it by (``sha256:<hex>``): ``row~`` and a
        keyed hash of it (HMAC-SHA256 under the gate's ``id_key``, 160 bits).

        Unkeyed, the content hash lets anyone who sees the id (annotators, exports)
        confirm a guess of what the gate redacted (a listed name, a subject's address) by
        hashing it. The same row always gets the same id, so imports stay idempotent.
        """
        return f"row~{self._keyed(derived)[:ROW_ID_CHARS]}"

    def _keyed(self, value: str) -> str:
        digest = hmac.new(self._id_key, value.encode(), hashlib.sha256).digest()
        # Letters only (a-p, one per 4 bits): no digit run that a detector could take
        # for a number, so a gated id gates to itself.
        return "".join(_LETTERS[b >> 4] + _LETTERS[b & 15] for b in digest)

    def stored_subject(self, subject_id: str | None) -> str | None:
        """What may be stored of an importer's subject id: its keyed ref
        (:func:`~loupe.services.compliance.vault.subject_ref`), never the id itself (often
        an email); ``None`` stays ``None``.

        A gate without the ref key refuses a subject id (:class:`~loupe.errors.InvalidInput`):
        the id could then only be stored in clear, or under a key no erasure would have.
        """
        if subject_id is None:
            return None
        if self._ref_key is None:
            raise InvalidInput(
                "these items name their data subject (subject_id), which is stored only as "
                "a ref keyed by the deployment's subject-ref key, and this privacy gate has "
                "none: import through the gate of a key directory (gate_for(settings))",
                details={"field": "subject_id"},
            )
        return subject_ref(subject_id, key=self._ref_key)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> PrivacyGate:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def image_withheld_reason(
    regions: Sequence[str], *, missing: Sequence[str], policy: Policy, ocr: str
) -> str | None:
    """Why an imported image is withheld, or ``None`` when it may be shown pixelated.

    ``regions``: the types of what the image gate found; ``missing``: the detectors that
    could not run. The gate fails closed: ``no_ocr`` when the text check could not run and
    ``ocr`` (the ``image_ocr`` setting) is ``required``; ``unchecked`` when another
    detector could not run; ``policy`` when the project withholds whatever is found.
    """
    if "text" in missing and ocr == "required":
        return "no_ocr"
    if any(name != "text" for name in missing):
        return "unchecked"
    if policy == "withhold" and regions:
        return "policy"
    return None


def gate_for(settings: Settings, *, workers: int = 1) -> PrivacyGate:
    """The gate for ``settings``, sealing with the master key in the key directory,
    storing subject ids as their refs under its ``subject-ref.key`` and gating ids under a
    key derived from it (not the master key, which may be rotated: a gated id must stay
    the same).

    The master key is created on first use if ``loupe init`` has not made it yet.
    """
    ref_key = load_ref_key(settings.resolved_key_dir())
    id_key = hmac.new(ref_key, b"loupe/external-id/v1", hashlib.sha256).digest()
    return PrivacyGate(vault=vault_for(settings), id_key=id_key, ref_key=ref_key, workers=workers)


def vault_for(settings: Settings) -> Vault:
    """The vault for ``settings`` (master key from the key directory, created if absent;
    it follows a master-key rotation made while it lives)."""
    key_dir = settings.resolved_key_dir()
    return Vault(load_master_key(key_dir, create=True), key_dir=key_dir)


@dataclass(frozen=True, slots=True)
class RedactedText:
    """One free-text string after the gate.

    ``text`` is what may be stored and shown: redacted, ``"[WITHHELD]"``, or as given
    (nothing found, or the project's gate is off). ``found`` is true when anything
    personal was detected *or* the scan failed (then ``withheld`` is true too).
    ``spans`` maps back to the original: ``[orig_start, orig_end, red_start, red_end,
    type]``.
    """

    text: str
    found: bool
    withheld: bool
    detected: tuple[str, ...]
    spans: list[list[Any]]


@lru_cache(maxsize=1)
def _text_gate() -> PrivacyGate:
    return PrivacyGate()


def redact_text(
    session: Session, project_id: int, text: str, *, gate: PrivacyGate | None = None
) -> RedactedText:
    """Scan and redact one free-text string (an annotator's answer, a comment) per the
    project's privacy policy, as imports are.

    Under the ``withhold`` policy, or when the scan fails or the text is too long, the whole
    string becomes ``"[WITHHELD]"``. With the project's gate off it is returned as given.
    Authorisation is the caller's: this reads only the project's privacy settings.

    >>> # redact_text(session, 1, "ring me on +44 20 7946 0958").text == "ring me on [PHONE]"
    """
    settings = privacy_of(session, project_id)
    if not settings.gate:
        return RedactedText(text, False, False, (), [])
    result = (gate or _text_gate()).check([{"text": text}], policy=settings.policy)[0]
    withheld = result.withheld_reason is not None
    return RedactedText(
        text=str(result.data["text"]),
        found=withheld or bool(result.detected),
        withheld=withheld,
        detected=result.detected,
        spans=result.spans.get("text", []),
    )


def redact_fields(
    session: Session, project_id: int, data: dict[str, Any], *, gate: PrivacyGate | None = None
) -> dict[str, Any]:
    """An object of fields written for contributors to read (a qualification question's
    data), scanned and redacted per the project's privacy policy as an imported item's
    data is: keys and nested strings too; withheld, every field ``"[WITHHELD]"``. With the
    project's gate off it is returned as given."""
    settings = privacy_of(session, project_id)
    if not settings.gate:
        return data
    return (gate or _text_gate()).check([data], policy=settings.policy)[0].data


def redact_answer(session: Session, project_id: int, task: Task, answer: Any) -> Any:
    """An answer as it may be stored and shown: free text typed by an annotator (a
    translation, a transcription) passes the project's gate like imported text; other
    answers are label keys or offsets and pass unchanged."""
    if isinstance(task, FreeText) and isinstance(answer, str):
        return redact_text(session, project_id, answer).text
    return answer
