"""docs/webhooks.md: its receiver snippet verifies what Loupe signs, and refuses tampering."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loupe.services.projects.webhook_delivery import sign
from loupe.services.projects.webhooks import EVENTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


def snippet() -> Callable[..., bool]:
    text = DOC.read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def test_the_documented_receiver_verifies_loupe_signatures() -> None:
    verify = snippet()
    secret, body, now = "whsec_doc", b'{"id":"x","type":"ping"}', int(time.time())
    headers = {"X-Loupe-Timestamp": str(now), "X-Loupe-Signature": sign(secret, now, body)}
    assert verify(secret, headers, body)
    assert not verify("whsec_other", headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(secret, {**headers, "X-Loupe-Timestamp": str(now + 1)}, body)
    old = now - 3600  # a replay of an old request, correctly signed
    stale = {"X-Loupe-Timestamp": str(old), "X-Loupe-Signature": sign(secret, old, body)}
    assert not verify(secret, stale, body)
    assert not verify(secret, {}, body)


def test_every_event_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for event in (*EVENTS, "ping"):
        assert f"| `{event}` |" in text, event
