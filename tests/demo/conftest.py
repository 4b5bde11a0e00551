"""The demo's tests train the built-in TF-IDF model whatever is installed.

With ``loupe[embeddings]`` and the MiniLM weights installed, ``auto`` would pick the
embeddings trainer and every demo test would encode with the real model (minutes on a
loaded machine, and a different run from CI's). The embeddings path has its own tests
(``test_intent_model.py``), which opt in with their own patch.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _builtin_intent_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("loupe.demo.intent_model.minilm_available", lambda: False)
