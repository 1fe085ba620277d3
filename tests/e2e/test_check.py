"""Check it in a real browser: teach two classes, send a zip of folders named after them to
Classify many, read the accuracy, click a cell of the confusion matrix and see its images."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.app.conftest import character_png
from tests.e2e.test_classify_many import teach_circle_and_cross
from tests.e2e.test_journey import _settle, _shot, browser, playwright  # noqa: F401

pytestmark = pytest.mark.e2e

# Where a cell's centre is in the viewport, once the confusion matrix is scrolled into view:
# its Plotly div converts cell (true t, answered p) to pixels with its own axes.
CELL_CENTRE_JS = """([t, p]) => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    const gd = plots.find(g => (g._fullLayout.title.text || '').includes('Confusion matrix'));
    gd.scrollIntoView({block: 'center'});  // a click lands only inside the viewport
    const box = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return [box.left + xa._offset + xa.l2p(p), box.top + ya._offset + ya.l2p(t)];
}"""


def _gallery(page, testid: str) -> list[str]:
    return page.locator(f'[data-testid="{testid}"] img').evaluate_all(
        "images => images.map(i => i.alt)"
    )


def test_a_zip_of_class_folders_is_checked_and_a_cell_shows_its_images(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    teach_circle_and_cross(page, server_url)
    page.get_by_role("link", name="Classify many").click()
    page.get_by_text("Images or zips to classify").first.wait_for()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for v in range(3):
            archive.writestr(f"class 1/circle{v}.png", character_png(0, v + 3))
            archive.writestr(f"class 2/cross{v}.png", character_png(1, v + 3))
        archive.writestr("class 1/a cross.png", character_png(1, 6))  # answered class 2
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [{"name": "check.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()}]
    )
    page.get_by_role("button", name="Classify").wait_for(timeout=60_000)
    _settle(page)
    page.get_by_role("button", name="Classify").click()
    page.get_by_text("6 of 7 right (86%)").wait_for(timeout=60_000)
    page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').nth(1).wait_for()
    _settle(page)
    # The biggest mistake is shown first.
    assert _gallery(page, "fsl-check-cell") == ["check.zip/class 1/a cross.png"]

    # Click the cell "true class 2, answered class 2": its three crosses appear.
    x, y = page.evaluate(CELL_CENTRE_JS, [1, 1])
    page.mouse.click(x, y)
    page.wait_for_function(
        """() => document.querySelectorAll('[data-testid="fsl-check-cell"] img').length === 3""",
        timeout=30_000,
    )
    _settle(page)
    heading = page.get_by_text("3 image(s), right").first.inner_text()
    assert heading.replace("●", "").split() == [
        "True",
        "class",
        "2,",
        "answered",
        "class",
        "2:",
        "3",
        "image(s),",
        "right",
    ]
    assert _gallery(page, "fsl-check-cell") == [f"check.zip/class 2/cross{v}.png" for v in range(3)]
    assert page.locator('[data-testid="fsl-check-cell"] img').first.evaluate(
        "img => img.complete && img.naturalWidth > 0"
    )
    assert len(_gallery(page, "fsl-check-least-sure")) == 7
    _shot(page, "16-check-it")
    page.close()
