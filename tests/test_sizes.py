"""The sizes issue 29 set: no page (app_pages/) over 150 lines, and no Python module of the
library, the lab or the app (core/, lab/, ui/, app_pages/, app.py) over 400. A page reads
widgets and calls one function per action; a module that grows past 400 lines splits along
a seam (see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_PAGE_LINES = 150
MAX_MODULE_LINES = 400


def lines(path: Path) -> int:
    """The lines of a file as `wc -l` counts them (newlines)."""
    return path.read_text(encoding="utf-8").count("\n")


def pages() -> list[Path]:
    return sorted((ROOT / "app_pages").glob("*.py"))


def modules() -> list[Path]:
    found = [ROOT / "app.py"]
    for package in ("core", "lab", "ui", "app_pages"):
        found += sorted((ROOT / package).rglob("*.py"))
    return found


def too_long(paths: list[Path], limit: int, root: Path = ROOT) -> list[str]:
    """'path: N lines' for each file over `limit` lines (exactly `limit` is allowed)."""
    return [
        f"{path.relative_to(root)}: {lines(path)} lines" for path in paths if lines(path) > limit
    ]


def test_the_count_is_wc_and_sees_every_layer(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("a = 1\n\nb = 2\n")
    assert lines(sample) == 3
    names = {str(path.relative_to(ROOT)) for path in modules()}
    assert {"app.py", "app_pages/teach.py", "core/maml.py", "lab/workspace.py"} <= names
    assert {"ui/models.py", "lab/viz/explorer.py", "core/export/graph.py"} <= names
    assert {str(p.relative_to(ROOT)) for p in pages()} >= {"app_pages/embedding.py"}
    assert too_long([sample], 2, tmp_path) == ["m.py: 3 lines"]
    assert too_long([sample], 3, tmp_path) == []


def test_no_page_over_150_lines():
    assert len(pages()) >= 10
    assert too_long(pages(), MAX_PAGE_LINES) == []


def test_no_module_over_400_lines():
    assert too_long(modules(), MAX_MODULE_LINES) == []
