"""Classify many in a real browser: teach two classes, send five images and a zip of folders
to Classify many, read the table and download the CSV."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from tests.app.conftest import character_png
from tests.e2e.test_journey import _settle, _shot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e


def teach_circle_and_cross(page, server_url: str) -> None:
    """On Teach & classify: class 1 gets two circles, class 2 two crosses (handwriting)."""
    page.goto(server_url, wait_until="networkidle")
    page.get_by_role("button", name="Start with handwriting").click()
    page.get_by_text("Add at least one image to each class").first.wait_for()
    # Let Teach's first run finish before uploading, as a person would: files sent to an
    # uploader that a rerun is replacing are lost (seen once in CI under load).
    _settle(page)
    uploaders = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    for index, shape in enumerate((0, 1)):
        uploaders.nth(index).set_input_files(
            [
                {
                    "name": f"s{shape}{v}.png",
                    "mimeType": "image/png",
                    "buffer": character_png(shape, v),
                }
                for v in range(2)
            ]
        )
        page.get_by_text(f"class {index + 1} · 2 image(s)").wait_for(timeout=60_000)
        _settle(page)


def test_a_batch_becomes_a_table_and_a_csv_download(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    teach_circle_and_cross(page, server_url)
    page.get_by_role("link", name="Classify many").click()
    page.get_by_text("Images or zips to classify").first.wait_for()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("round/a.png", character_png(0, 6))
        archive.writestr("plus/b.png", character_png(1, 6))
    files = [
        {"name": f"q{i}.png", "mimeType": "image/png", "buffer": character_png(i % 2, 4)}
        for i in range(5)
    ]
    files.append({"name": "pets.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()})
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files)
    page.get_by_role("button", name="Classify").wait_for(timeout=60_000)
    _settle(page)
    page.get_by_role("button", name="Classify").click()
    page.get_by_text("7 image(s) classified.").wait_for(timeout=60_000)
    _settle(page)
    _shot(page, "16-classify-many")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the table (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["file"] for r in rows] == [f"q{i}.png" for i in range(5)] + [
        "pets.zip/round/a.png",
        "pets.zip/plus/b.png",
    ]
    assert [r["predicted"] for r in rows] == ["class 1", "class 2"] * 2 + ["class 1"] * 2 + [
        "class 2"
    ]
    assert all(abs(float(r["p(class 1)"]) + float(r["p(class 2)"]) - 1) < 1e-4 for r in rows)
    page.close()
