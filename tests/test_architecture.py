"""Imports flow one way: web, cli, demo -> services -> db and the domain packages.

Also held here: every top-level module of ``loupe`` has a layer; the CLI and the demo
query through services; only the item's lifecycle writes its label counters; no
service module grows past :data:`SERVICE_MODULE_LIMIT` lines.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "loupe"

# Domain packages and modules: importable on their own, knowing nothing of HTTP or SQL.
DOMAIN = ["aggregation", "learning", "ledger", "privacy", "reputation", "selection", "simulation"]
DOMAIN_MODULES = [
    "formats",
    "formats_coco",
    "formats_labelstudio",
    "formats_parquet",
    "label_schema",
    "permissions",
    "routing",
]
FORBIDDEN_IN_DOMAIN = (
    "loupe.web",
    "loupe.cli",
    "loupe.demo",
    "loupe.services",
    "loupe.db",
    "fastapi",
    "sqlalchemy",
)
# Below the services: the database, blob storage, settings and errors serve them.
INFRASTRUCTURE = ["db", "errors", "settings", "storage"]
SHELLS = ["cli", "demo", "reports", "web"]
# Beside the layers: the Python SDK (an HTTP client; it shares only the ledger
# verifier) and test helpers Loupe itself never imports.
BESIDE = ["client", "testing"]
LAYERS = [*DOMAIN, *DOMAIN_MODULES, *INFRASTRUCTURE, "services", *SHELLS, *BESIDE]

SERVICES = SRC / "services"
SERVICE_PACKAGES = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
SERVICE_TOP_MODULES = sorted(p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py")
FORBIDDEN_IN_SERVICES = (
    "loupe.web",
    "loupe.cli",
    "loupe.demo",
    "loupe.reports",
    "fastapi",
    "typer",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules_of(name: str) -> list[Path]:
    """The files of top-level package or module ``name``."""
    package = SRC / name
    return sorted(package.rglob("*.py")) if package.is_dir() else [SRC / f"{name}.py"]


def test_every_top_level_module_has_a_layer() -> None:
    found = {
        p.stem
        for p in SRC.iterdir()
        if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
        or (p / "__init__.py").exists()
    }
    assert found == set(LAYERS), "place the new module in a layer of this test"
    assert len(LAYERS) == len(set(LAYERS))


@pytest.mark.parametrize("name", DOMAIN + DOMAIN_MODULES)
def test_domain_packages_know_nothing_of_http_or_sql(name: str) -> None:
    for path in modules_of(name):
        bad = {n for n in imports_of(path) if n.startswith(FORBIDDEN_IN_DOMAIN)}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


@pytest.mark.parametrize("name", INFRASTRUCTURE)
def test_infrastructure_serves_the_services_and_not_the_reverse(name: str) -> None:
    for path in modules_of(name):
        bad = {
            n for n in imports_of(path) if n.startswith(("loupe.services", *FORBIDDEN_IN_SERVICES))
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


@pytest.mark.parametrize("name", SERVICE_PACKAGES + SERVICE_TOP_MODULES)
def test_services_do_not_import_the_shells(name: str) -> None:
    paths = [SERVICES / name] if name.endswith(".py") else sorted((SERVICES / name).rglob("*.py"))
    for path in paths:
        bad = {n for n in imports_of(path) if n.startswith(FORBIDDEN_IN_SERVICES)}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_the_architecture_page_names_every_service_package_and_real_paths() -> None:
    root = SRC.parents[1]
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in SERVICE_PACKAGES + SERVICE_TOP_MODULES:
        assert f"services/{name}" in page, f"docs/architecture.md: describe services/{name}"
    # A path cited in backticks is the repository's, or src/loupe's (`web/background.py`).
    for cited in re.findall(r"`(\w[\w.-]*/[\w/.-]*\.(?:py|js|md|html|css))`", page):
        assert (root / cited).exists() or (SRC / cited).exists(), f"docs/architecture.md: {cited}"


def test_ledger_verifier_is_stand_alone() -> None:
    names = imports_of(SRC / "ledger" / "verify.py")
    assert not {n for n in names if n.startswith("loupe")}


def test_import_loupe_is_light() -> None:
    code = "import sys, loupe; print(sorted(m for m in ('fastapi', 'sqlalchemy', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# The CLI and the demo are shells: they open transactions and call services, which own
# every query. Allowed from SQLAlchemy: the ``Session`` type and the exceptions; from
# ``loupe.db``: the ``Database`` handle and the ``utcnow`` clock, never a model class.
QUERYLESS_SHELLS = ["cli", "demo"]
SHELL_IMPORTS = {
    "sqlalchemy.orm": {"Session"},
    "loupe.db.models": {"utcnow"},
}
SHELL_MODULES = ("sqlalchemy.exc", "loupe.db.database")
QUERY_METHODS = {"execute", "scalar", "scalars", "get", "query"}


def shell_violations(path: Path) -> list[str]:
    """Imports of SQLAlchemy's query API or of ORM models, and queries on a ``session``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name.startswith(("sqlalchemy", "loupe.db"))
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if module.startswith(SHELL_MODULES) or not module.startswith(
                ("sqlalchemy", "loupe.db")
            ):
                continue
            allowed = SHELL_IMPORTS.get(module, set())
            found += [f"from {module} import {a.name}" for a in node.names if a.name not in allowed]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
        ):
            found.append(f"line {node.lineno}: session.{node.func.attr}(...)")
    return found


@pytest.mark.parametrize("package", QUERYLESS_SHELLS)
def test_the_cli_and_the_demo_query_through_services(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        bad = shell_violations(path)
        assert not bad, f"{path.relative_to(SRC)}: {bad}; add a service function instead"


def test_the_shell_rule_catches_queries(tmp_path: Path) -> None:
    shell = tmp_path / "shell.py"
    shell.write_text(
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\n"
        "from loupe.db.models import User, utcnow\n"
        "def f(session):\n"
        "    return session.scalar(select(User.id))\n",
        encoding="utf-8",
    )
    assert shell_violations(shell) == [
        "from sqlalchemy import select",
        "from loupe.db.models import User",
        "line 5: session.scalar(...)",
    ]


# An item's label counters (items.label_count, items.is_complete) have one owner:
# loupe.services.labelling.lifecycle, which writes them with the consensus on every
# label added, withdrawn or settled. Its statements may live in loupe.db.queries.items,
# imported by the lifecycle alone. The other writers, each for a reason that is not a
# label's life:
COUNTER_WRITERS = {
    "services/labelling/lifecycle.py": {"label_count", "is_complete"},
    # an import's INSERT: a new item starts with no labels, open
    "services/projects/items.py": {"label_count", "is_complete"},
    # a new overlap re-decides every item's is_complete from its label_count (a rule
    # change, not a label); the count itself is untouched
    "services/projects/definition.py": {"is_complete"},
    # an item the model resolved is complete with no label: the queue never serves it
    "services/model_loop/predictions.py": {"is_complete"},
}
COUNTER_OWNER = "services/labelling/lifecycle.py"
QUERIES = "db/queries"
COUNTERS = ("label_count", "is_complete")
_UPDATE = re.compile(
    r"\bUPDATE\s+items\s+SET\b(?P<set>.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.I | re.S
)
_INSERT = re.compile(r"\bINSERT\s+INTO\s+items\s*\((?P<columns>[^)]*)\)", re.I)


def _sql_writes(sql: str) -> set[str]:
    """The counters a SQL text writes: in an ``UPDATE items SET`` or ``INSERT INTO items``."""
    written: set[str] = set()
    for match in _UPDATE.finditer(sql):
        written |= {c for c in COUNTERS if re.search(rf"\b{c}\s*=", match["set"])}
    for match in _INSERT.finditer(sql):
        written |= {c for c in COUNTERS if re.search(rf"\b{c}\b", match["columns"])}
    return written


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # an f-string: its literal parts, joined
        return "?".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


def _node_writes(node: ast.AST) -> set[str]:
    """Counter writes by one AST node: SQL text, ``.values(label_count=…)``, a row dict
    with a counter key, or ``item.is_complete = …`` (``Raw.insert``: see
    :func:`_raw_insert_writes`)."""
    text = _text(node)
    if text is not None:
        return _sql_writes(text)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "values"
    ):
        return {k.arg for k in node.keywords if k.arg in COUNTERS}
    if isinstance(node, ast.Dict):
        return {k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in COUNTERS}
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {t.attr for t in targets if isinstance(t, ast.Attribute) and t.attr in COUNTERS}
    return set()


def _strings(node: ast.AST | None) -> list[str]:
    if isinstance(node, (ast.Tuple, ast.List)):
        return [v for e in node.elts if (v := _text(e)) is not None]
    return []


def _raw_insert_writes(tree: ast.Module) -> set[str]:
    """Counters among the columns of ``Raw.insert("items", columns, ...)`` calls: a literal
    tuple, or a module-level name bound to one."""
    named = {
        target.id: _strings(node.value)
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    written: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "insert"
            and len(node.args) >= 2
            and _text(node.args[0]) == "items"
        ):
            continue
        columns = node.args[1]
        names = named.get(columns.id, []) if isinstance(columns, ast.Name) else _strings(columns)
        written |= {c for c in COUNTERS if c in names}
    return written


def counter_writes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {c for node in ast.walk(tree) for c in _node_writes(node)}
    return found | _raw_insert_writes(tree)


def counter_statements(path: Path) -> dict[str, set[str]]:
    """The module-level names of a queries module whose statement writes a counter, and
    the counters each writes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    statements: dict[str, set[str]] = {}
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        written = {c for n in ast.walk(node.value) for c in _node_writes(n)}
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if written and isinstance(target, ast.Name):
                statements[target.id] = written
    return statements


def uses_of(path: Path, module: str, names: set[str]) -> set[str]:
    """Which of ``names`` of ``module`` (``loupe.db.queries.items``) ``path`` uses:
    imported by name, or read as an attribute where the module itself is imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package, _, leaf = module.rpartition(".")
    used: set[str] = set()
    module_imported = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            used |= {a.name for a in node.names if a.name in names}
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            module_imported |= any(a.name == leaf for a in node.names)
        elif isinstance(node, ast.Import):
            module_imported |= any(a.name == module for a in node.names)
    if module_imported:
        used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in names}
    return used


def _source() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def test_only_the_lifecycle_writes_an_items_label_counters() -> None:
    found = {}
    for path in _source():
        name = path.relative_to(SRC).as_posix()
        if name.startswith(QUERIES):
            continue  # statements, not writes: who may use them is checked below
        written = counter_writes(path)
        if written - COUNTER_WRITERS.get(name, set()):
            found[name] = sorted(written)
        elif name != COUNTER_OWNER and name in COUNTER_WRITERS:
            assert written == COUNTER_WRITERS[name], f"{name} writes {written}: update the list"
    assert not found, f"only the item's lifecycle writes its counters: {found}"


def test_the_counter_statements_are_the_lifecycles_alone() -> None:
    owned = counter_writes(SRC / COUNTER_OWNER)
    for queries in sorted((SRC / QUERIES).glob("*.py")):
        statements = counter_statements(queries)
        if not statements:
            continue
        module = "loupe." + queries.relative_to(SRC).with_suffix("").as_posix().replace("/", ".")
        for path in _source():
            name = path.relative_to(SRC).as_posix()
            used = uses_of(path, module, set(statements))
            if name == COUNTER_OWNER:
                owned |= {c for s in used for c in statements[s]}
            else:
                assert not used, f"{name} uses {sorted(used)} of {module}: call the lifecycle"
    assert owned == set(COUNTERS), "the lifecycle no longer writes both counters"


def test_the_counter_rule_catches_writes(tmp_path: Path) -> None:
    module = tmp_path / "writer.py"
    module.write_text(
        "A = 'UPDATE items SET metadata = :m WHERE id = :i AND NOT is_complete'\n"
        "B = ('UPDATE items SET label_count = label_count + 1 '\n"
        "     'WHERE id = :item')\n"
        "def f(session, item, n):\n"
        "    session.execute(update(Item).values(is_complete=True))\n"
        "    item.label_count += 1\n"
        "    rows = [{'label_count': 0}]\n"
        "    return f'INSERT INTO items (project_id, is_complete) VALUES ({n}, 0)'\n",
        encoding="utf-8",
    )
    assert counter_writes(module) == {"label_count", "is_complete"}
    reader = tmp_path / "reader.py"
    reader.write_text(
        "A = 'SELECT label_count, is_complete FROM items WHERE id = :item'\n"
        "B = 'UPDATE items SET withheld = :w WHERE NOT is_complete AND label_count = 0'\n"
        "state = ItemState(label_count=1)\n",
        encoding="utf-8",
    )
    assert counter_writes(reader) == set()
    queries = tmp_path / "items.py"
    queries.write_text(
        "SET_COUNTERS = 'UPDATE items SET label_count = :n, is_complete = :c WHERE id = :i'\n"
        "OPEN = Query('SELECT id FROM items WHERE NOT is_complete', Open)\n",
        encoding="utf-8",
    )
    assert counter_statements(queries) == {"SET_COUNTERS": {"label_count", "is_complete"}}
    user = tmp_path / "user.py"
    user.write_text(
        "from loupe.db.queries import items\n"
        "def f(raw):\n"
        "    raw.run(items.SET_COUNTERS, n=1, c=True, i=2)\n",
        encoding="utf-8",
    )
    assert uses_of(user, "loupe.db.queries.items", {"SET_COUNTERS"}) == {"SET_COUNTERS"}


# Small modules: the largest service modules are ~730 lines (model_loop/model_versions.py,
# payments/ledger_store.py); split one by concept rather than raise the limit.
SERVICE_MODULE_LIMIT = 750


def test_no_service_module_is_longer_than_the_limit() -> None:
    long = {
        path.relative_to(SRC).as_posix(): n
        for path in sorted(SERVICES.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > SERVICE_MODULE_LIMIT
    }
    assert not long, f"split these by concept (limit {SERVICE_MODULE_LIMIT} lines): {long}"


# A column is known by its name: in the services ``row`` and ``r`` (and an element of
# ``rows``) name database rows, read as ``row.item_id``, never ``row[0]``. The rule goes by
# those names because the AST has no types; no service binds them to anything else.
ROW_NAMES = {"row", "r"}


def _is_row(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ROW_NAMES
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "rows"
    )


def _is_position(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def positional_rows(path: Path) -> list[str]:
    """``path:line: expr`` for every row read by position in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript) and _is_row(node.value) and _is_position(node.slice)
    ]


def test_service_rows_are_read_by_column_name() -> None:
    found = [hit for path in sorted(SERVICES.rglob("*.py")) for hit in positional_rows(path)]
    assert not found, f"read these columns by name (row.item_id), not position: {found}"


def test_the_row_rule_catches_positions(tmp_path: Path) -> None:
    module = tmp_path / "rows.py"
    module.write_text(
        "a = [r[0] for r in rows]\n"
        "b = row[-1]\n"
        "c = rows[-1][0]\n"
        "d = [r.item_id for r in rows] + [rows[-1].id, pair[0], row[key]]\n",
        encoding="utf-8",
    )
    hits = sorted(hit.split(": ", 1)[1] for hit in positional_rows(module))
    assert hits == ["r[0]", "row[-1]", "rows[-1][0]"]
