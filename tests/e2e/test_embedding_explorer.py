"""The embedding explorer in a real browser: load the handwriting example, open Embedding
space, pick the PCA picture, click an image on the chart and see it (larger, with its
nearest images) beside the chart, then drag a box over a region and download its list as
CSV. Screenshots go to test-artifacts/ (look at them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.e2e.test_journey import (  # noqa: F401
    _radio,
    _settle,
    _shot,
    _wait_or_shoot,
    browser,
    playwright,
)

pytestmark = pytest.mark.e2e

# Page pixels of every image's marker on the explorer chart (the first plotly chart): its
# name (hover text), role and index, from plotly's own axes.
POINTS_JS = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[0];
  const box = gd.getBoundingClientRect();
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const out = [];
  for (const trace of gd.data) {
    if (!trace.customdata || !['support', 'query'].includes(trace.customdata[0][0])) continue;
    if (String(trace.name).startsWith('✗')) continue;
    trace.x.forEach((x, i) => out.push({
      name: trace.customdata[i][0] === 'support'
        ? String(trace.text[i]).split(': ').slice(-1)[0] : String(trace.text[i]).split(' → ')[0],
      text: String(trace.text[i]),
      role: trace.customdata[i][0],
      px: box.left + xa._offset + xa.l2p(x),
      py: box.top + ya._offset + ya.l2p(trace.y[i]),
    }));
  }
  return out;
}"""


@pytest.mark.usefixtures("omniglot_root")
def test_click_an_image_then_box_select_a_region_and_download(server_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url, wait_until="networkidle")
    page.get_by_role("button", name="Try an example: handwriting").click()
    _wait_or_shoot(page.get_by_text("Loaded an example"), page, "debug-explorer", 90_000)
    _settle(page)
    page.get_by_role("link", name="Embedding space").click()
    chart = page.locator(".js-plotly-plot").first
    _wait_or_shoot(chart, page, "debug-explorer", 90_000)
    _settle(page)
    _radio(page, "PCA")  # the exact picture comes first; this test is about the projection's
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot')[0]?._fullLayout?.images?.length == 21"
    )
    _shot(page, "30-embedding-explorer")

    # Click one example's picture: it shows beside the chart with its 5 nearest images.
    points = page.evaluate(POINTS_JS)
    assert len(points) == 21
    target = next(p for p in points if p["role"] == "support")
    page.mouse.click(target["px"], target["py"])
    heading = page.get_by_text("Its 5 nearest images")
    _wait_or_shoot(heading, page, "debug-explorer-click", 60_000)
    _settle(page)
    name = page.get_by_text(target["name"], exact=False).first
    name.wait_for()
    chart_box = chart.bounding_box()
    shown = page.locator('[data-testid="stImage"] img').first.bounding_box()
    assert shown["x"] > chart_box["x"] + chart_box["width"] * 0.9  # beside the chart, right
    assert shown["y"] < chart_box["y"] + chart_box["height"]  # not below it
    _shot(page, "31-embedding-explorer-clicked")

    # Drag a box over the left half of the plotted points: those are listed, and downloaded.
    chart.hover()
    chart.locator('[data-title="Box Select"]').click()
    page.wait_for_timeout(300)
    points = page.evaluate(POINTS_JS)
    xs = sorted(p["px"] for p in points)
    ys = sorted(p["py"] for p in points)
    split = (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    left, top, bottom = xs[0] - 8, ys[0] - 8, ys[-1] + 8
    inside = sorted(p["text"] for p in points if p["px"] < split)
    assert 2 <= len(inside) < len(points)
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move((left + split) / 2, (top + bottom) / 2, steps=5)
    page.mouse.move(split, bottom, steps=5)
    page.mouse.up()
    button = page.get_by_role("button", name=f"Download these {len(inside)} as CSV")
    _wait_or_shoot(button, page, "debug-explorer-box", 60_000)
    _settle(page)
    _shot(page, "32-embedding-explorer-region")
    with page.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(inside)
    assert all(any(r["image"] in t for t in inside) for r in rows)
    assert {"image", "role", "class", "predicted", "nearest centre"} <= set(rows[0])
    assert any(k.startswith("distance to Tengwar 10") for k in rows[0])
    assert not errors, errors
    page.close()
