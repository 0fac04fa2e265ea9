"""The package layout: imports point one way (see the README's developer section).

Every module of ``src/policyidx`` is parsed (not imported) and each ``import`` of a
policyidx module, at module level or inside a function, is checked against the layers
below.  A package may import itself and the layers listed for it, nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "policyidx"

#: What each part of the package may import (besides itself).  Order = layers, bottom up.
BASE = {"policyidx", "policyidx.errors", "policyidx._io"}  # ``policyidx`` = ``from policyidx import __version__``
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_io": set(),
    "text": BASE,
    "model": BASE | {"policyidx.text"},
    "catalog": BASE,
    "parsers": BASE | {"policyidx.model", "policyidx.text"},
    "corpus": BASE | {"policyidx.model", "policyidx.catalog", "policyidx.parsers"},
    "parallel": BASE | {"policyidx.text"},
    "retrieval": BASE | {"policyidx.text", "policyidx.parallel"},
    "alignment": BASE | {"policyidx.text", "policyidx.model", "policyidx.retrieval.encoders"},
    "review": BASE | {"policyidx.text", "policyidx.model", "policyidx.corpus", "policyidx.alignment"},
    "adhoc": BASE | {"policyidx.text", "policyidx.model", "policyidx.catalog", "policyidx.corpus", "policyidx.parsers", "policyidx.alignment"},
    "index": BASE | {"policyidx.text", "policyidx.model", "policyidx.catalog", "policyidx.corpus", "policyidx.parallel",
                     "policyidx.retrieval", "policyidx.alignment", "policyidx.review"},
    "concordance": BASE | {"policyidx.text", "policyidx.corpus", "policyidx.retrieval", "policyidx.index"},
    "export": BASE | {"policyidx.text", "policyidx.model", "policyidx.alignment"},
    "evaluate": BASE | {"policyidx.index", "policyidx.retrieval"},
    "bench": BASE | {"policyidx.text", "policyidx.model", "policyidx.corpus", "policyidx.parsers", "policyidx.parallel",
                     "policyidx.retrieval", "policyidx.alignment", "policyidx.index"},
    "web": BASE | {"policyidx.text", "policyidx.model", "policyidx.catalog", "policyidx.corpus", "policyidx.retrieval",
                   "policyidx.alignment", "policyidx.index", "policyidx.concordance", "policyidx.export",
                   "policyidx.review", "policyidx.adhoc"},
    "cli": BASE | {"policyidx.text", "policyidx.model", "policyidx.corpus", "policyidx.retrieval", "policyidx.alignment",
                   "policyidx.index", "policyidx.concordance", "policyidx.export", "policyidx.bench", "policyidx.web",
                   "policyidx.review", "policyidx.adhoc", "policyidx.evaluate"},
}
#: Parts that nothing of the core may import (only the CLI, lazily, and themselves).
OUTSIDE_CORE = {"bench", "evaluate", "cli"}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for f in sorted(SRC.rglob("*.py")):
        parts = f.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(("policyidx",) + parts), f))
    return out


def _imports(name: str, path: Path) -> list[tuple[int, str]]:
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "policyidx"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "policyidx":
                continue
            if target == "policyidx" or target == package and is_pkg:  # ``from . import x``: the submodules
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _ok(target: str, allowed: set[str]) -> bool:
    return target in BASE or any(target == a or target.startswith(a + ".") for a in allowed if a != "policyidx")


def test_every_module_belongs_to_a_known_part():
    unknown = sorted({_part(m) for m, _ in _modules()} - set(ALLOWED) - {""})
    assert not unknown, f"add these to the layer table (and the README's developer section): {unknown}"


@pytest.mark.parametrize("module, path", _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_down(module, path):
    part = _part(module)
    if not part:
        return  # policyidx/__init__.py: lazy names for the public API
    allowed = ALLOWED[part] | {f"policyidx.{part}"}
    bad = []
    for line, target in _imports(module, path):
        if target == "policyidx.__version__" or target in ("policyidx", f"policyidx.{part}"):
            continue
        if not _ok(target, allowed):
            bad.append(f"{path.relative_to(SRC)}:{line} imports {target}")
        elif _part(target) in OUTSIDE_CORE and part not in OUTSIDE_CORE:
            bad.append(f"{path.relative_to(SRC)}:{line} imports {target}, which is outside the core")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_the_table_has_no_cycles_between_parts():
    graph = {p: {_part(a) for a in allowed if _part(a) and _part(a) != p} for p, allowed in ALLOWED.items()}
    seen: dict[str, int] = {}

    def visit(p: str, stack: tuple[str, ...]) -> None:
        assert seen.get(p) != 1, f"cycle: {' -> '.join(stack + (p,))}"
        if seen.get(p) == 2:
            return
        seen[p] = 1
        for q in graph.get(p, ()):
            visit(q, stack + (p,))
        seen[p] = 2

    for p in graph:
        visit(p, ())


def test_the_check_sees_lazy_imports(tmp_path):
    """A function-level import is seen like a module-level one (the check can fail)."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from ..index import Index\n    return Index\n", encoding="utf-8")
    assert _imports("policyidx.text.m", f) == [(2, "policyidx.index")]
    assert not _ok("policyidx.index", ALLOWED["text"])
