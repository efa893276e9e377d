"""The layout's rules (README, "Architecture"), checked on the source: services know no storage
library, the domain does no I/O, and nothing leans on PynamoDB's private names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "chalicelib"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _top(module: str) -> str:
    return module.split(".")[0]


def test_services_import_no_storage_or_aws_library():
    for path in (LIB / "services").glob("*.py"):
        bad = {m for m in _imports(path) if _top(m) in {"pynamodb", "boto3", "botocore"}}
        bad |= {
            m
            for m in _imports(path)
            if m.startswith(("chalicelib.store.dynamo", "chalicelib.store.models"))
        }
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_domain_is_pure():
    allowed_top = {
        "__future__",
        "collections",
        "dataclasses",
        "datetime",
        "re",
        "typing",
        "unicodedata",  # the standard library's accent folding (domain/search.py)
        "chalicelib",
        "zoneinfo",
    }
    for path in (LIB / "domain").glob("*.py"):
        for module in _imports(path):
            assert _top(module) in allowed_top, f"{path.name} imports {module}"
            if module.startswith("chalicelib."):
                assert module.startswith("chalicelib.domain"), f"{path.name} imports {module}"


def _pynamodb_private_names() -> set[str]:
    """Every `_name` PynamoDB defines: methods, class and instance attributes."""
    import pynamodb

    names: set[str] = set()
    for path in Path(pynamodb.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def test_nothing_touches_a_pynamodb_private_name():
    ours: set[str] = set()
    trees = {p: ast.parse(p.read_text()) for p in LIB.rglob("*.py")}
    for tree in trees.values():  # private names we define ourselves are ours to use
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                ours.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                ours.add(node.target.id)
    private = _pynamodb_private_names() - ours
    assert {"_get_connection", "_update_items", "_connection", "_get_schema"} <= private
    for path, tree in trees.items():
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & private
        assert not used, f"{path.relative_to(ROOT)} uses PynamoDB's private {sorted(used)}"
