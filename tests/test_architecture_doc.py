"""docs/architecture.md describes the tree as it is: every package module and page is named
there, and every path it names in its tables exists (issue 29: "the tree is described in
docs/architecture.md and matches it")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()


def named_in_doc(path: Path) -> bool:
    """A module is named by its file name (`x.py`), its dotted name (`ui.x`, `lab.viz.x`) or,
    for a package's parts, its folder (`encoders/`)."""
    rel = path.relative_to(ROOT)
    parts = rel.with_suffix("").parts
    dotted = ".".join(parts)
    return (
        path.name in DOC
        or re.search(rf"\b{re.escape(dotted)}\b", DOC) is not None
        or any(f"{folder}/" in DOC for folder in parts[1:-1])
    )


def test_every_module_and_page_is_named():
    modules = [
        path
        for package in ("core", "lab", "ui", "app_pages")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py")
    ]
    assert len(modules) > 80  # the tree was read
    missing = [str(p.relative_to(ROOT)) for p in modules if not named_in_doc(p)]
    assert missing == []


def module_file(parts: list[str]) -> Path | None:
    path = ROOT.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def test_every_module_and_name_the_doc_names_exists():
    """`lab.exact` must be a module; `core.maml.adapt_with_trace` a name that module defines
    or imports (the longest prefix that is a module, then at most one attribute)."""
    named = set(re.findall(r"\b((?:core|lab|ui)(?:\.[A-Za-z_]+)+)\b", DOC))
    assert len(named) > 30
    missing = []
    for name in sorted(named):
        parts = name.split(".")
        k = max(k for k in range(1, len(parts) + 1) if module_file(parts[:k]) or k == 1)
        rest = parts[k:]
        source = module_file(parts[:k])
        defined = (
            rf"\b(def|class) {rest[0]}\b|^{rest[0]}\b|\b{rest[0]},|import[^\n]*\b{rest[0]}\b"
            if rest
            else ""
        )
        ok = source is not None and (
            not rest or (len(rest) == 1 and re.search(defined, source.read_text(), re.M))
        )
        if not ok:
            missing.append(name)
    assert missing == []
