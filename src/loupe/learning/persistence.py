"""Keep fitted models on disk, so a restarted server uses its champion without retraining.

A :class:`ModelStore` is a directory of model files, one per key (the loop uses
``project-<id>/v<version>``). Each file is a one-line JSON header followed by the
model pickled (protocol 5). The header records the format, the SHA-256 of the
pickle, the class names and the Python and scikit-learn versions it was written
with; :meth:`ModelStore.load` checks the format and the digest before it unpickles.

Unpickling runs code, so a model directory must be as trusted as the database
itself: the store creates it mode 0700 and writes files mode 0600, atomically
(a temporary file, then a rename), so a crash never leaves half a model.

>>> import tempfile
>>> from loupe.learning.text import LinearTextTrainer
>>> model = LinearTextTrainer().fit(["play jazz", "call mum"], ["music", "call"])
>>> store = ModelStore(tempfile.mkdtemp())
>>> stored = store.save("project-1/v1", model)
>>> store.load("project-1/v1").classes_
('call', 'music')
>>> store.load("project-1/v2") is None
True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import platform
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from loupe.errors import InvalidInput
from loupe.learning.trainer import Model

__all__ = ["FORMAT", "ModelStore", "StoredModel"]

FORMAT = "loupe-model/1"
_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True, slots=True)
class StoredModel:
    """Where a model was written and the SHA-256 of its pickled bytes."""

    path: Path
    sha256: str
    size: int


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


class ModelStore:
    """A directory of fitted models, by key (``"project-3/v7"``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (which may not exist yet)."""
        if not _KEY.match(key) or any(part in {".", ".."} for part in key.split("/")):
            raise InvalidInput(
                f"model key {key!r} must be path segments of letters, digits, '.', '_', '-'",
                details={"field": "key"},
            )
        return self.root / f"{key}.model"

    def save(self, key: str, model: Model) -> StoredModel:
        """Write ``model`` under ``key`` (replacing what was there); returns its digest."""
        target = self.path(key)
        payload = pickle.dumps(model, protocol=5)
        digest = hashlib.sha256(payload).hexdigest()
        header = {
            "format": FORMAT,
            "sha256": digest,
            "classes": list(model.classes_),
            "type": f"{type(model).__module__}.{type(model).__qualname__}",
            "python": platform.python_version(),
            "scikit-learn": _version("scikit-learn"),
        }
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".model")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return StoredModel(path=target, sha256=digest, size=len(payload))

    def load(self, key: str) -> Model | None:
        """The model stored under ``key``, or ``None`` when there is none.

        Raises :class:`InvalidInput` when the file is not a Loupe model or its
        bytes do not match the digest in its header (a truncated or altered file).
        """
        target = self.path(key)
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            return None
        head, sep, payload = raw.partition(b"\n")
        try:
            header = json.loads(head) if sep else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise InvalidInput(
                f"{target} is not a Loupe model file ({FORMAT}); delete it and retrain",
                details={"path": str(target)},
            )
        if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            raise InvalidInput(
                f"{target} does not match the SHA-256 in its header (truncated or altered); "
                "delete it and retrain",
                details={"path": str(target)},
            )
        model = pickle.loads(payload)  # our own file, its digest checked above
        if not isinstance(model, Model):
            raise InvalidInput(
                f"{target} holds no model (no classes_ / predict_proba)",
                details={"path": str(target)},
            )
        return model

    def delete(self, key: str) -> bool:
        """Remove ``key``'s file; True when there was one."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True
