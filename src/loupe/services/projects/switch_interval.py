"""While an import runs, the GIL changes hands more often.

The privacy gate's scan is pure-Python CPU. Run in a server's thread (an upload, with
``LOUPE_GATE_WORKERS=1``), it keeps the GIL for Python's whole switch interval (5 ms)
each time an annotator's request asks for it, and a request needs many handoffs: 8
annotators' next-task + submit p99 was 459 ms during a 100,000-item import, 141 ms with
a 0.5 ms interval (bench/core/bench_import_contention.py). A shorter interval costs
about 5-10% more CPU per labelling loop when nothing is imported
(bench/core/bench_http_loop.py), so it is shortened only while an import runs: the
interval is process-wide, and the first of several concurrent imports shortens it, the
last one to finish restores it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["IMPORT_SWITCH_INTERVAL_S", "import_switch_interval"]

#: The GIL's switch interval while an import runs, in seconds.
IMPORT_SWITCH_INTERVAL_S = 0.0005

_lock = threading.Lock()
_running = 0
_saved = 0.0


@contextmanager
def import_switch_interval() -> Iterator[None]:
    """Run the block with the GIL's switch interval at :data:`IMPORT_SWITCH_INTERVAL_S`
    (or shorter, if it was already), restored when the last such block ends."""
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved, IMPORT_SWITCH_INTERVAL_S))
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                sys.setswitchinterval(_saved)
