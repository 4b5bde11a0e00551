"""The page templates leave escaping to Jinja2: no ``|safe``, no autoescape switched off."""

from __future__ import annotations

import re

from loupe.web.ui.render import HERE


def test_no_template_turns_escaping_off() -> None:
    # The wallet's data block was json.dumps(...) | safe, and a "</script>" in it broke
    # out of the block; JSON for a page goes through | tojson, which escapes < > & '.
    unsafe = re.compile(r"\|\s*safe\b|autoescape\s+false|Markup\(", re.IGNORECASE)
    found = [
        f"{path.name}: {line.strip()}"
        for path in sorted((HERE / "templates").glob("*.html"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if unsafe.search(line)
    ]
    assert found == []
