"""Classify many with known classes: a zip of folders named after the classes (or one class
chosen for every file) adds a "true class" column and the check view, whose numbers match a
computation from the table itself."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd

from tests.app.conftest import character_png, fill_support, ui_state, workspace

# Class 1 is taught circles, class 2 crosses (fill_support). In the zip: three circles and a
# cross in "class 1/" (the cross is a mistake), two crosses and a square in "class_2/", a
# circle in a folder that names no class; beside it a plain file named after class 2.
MEMBERS = {
    "class 1/a0.png": character_png(0, 3),
    "class 1/a1.png": character_png(0, 4),
    "class 1/a2.png": character_png(0, 5),
    "class 1/cross.png": character_png(1, 4),
    "class_2/b0.png": character_png(1, 3),
    "class_2/b1.png": character_png(1, 5),
    "class_2/square.png": character_png(2, 3),
    "other/c.png": character_png(0, 6),
}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _classify(app, files, truth=None):
    app.switch_page("app_pages/classify_many.py").run()
    assert not app.exception
    if truth is not None:
        app.selectbox(key="batch_truth").set_value(truth).run()
    key = f"batch_up_{ui_state(app).nonce('batch')}"
    app.file_uploader(key=key).set_value(files).run()
    app.button(key="batch_run").click().run()
    assert not app.exception


def _charts(app) -> dict[str, dict]:
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {spec["layout"]["title"]["text"]: spec for spec in specs}


def _gallery_names(app, testid: str) -> list[str]:
    html = next(m.value for m in app.markdown if f'data-testid="{testid}"' in m.value)
    return re.findall(r'<img [^>]*alt="([^"]*)"', html)


def test_a_zip_of_class_folders_gives_the_check_view_with_the_tables_numbers(app):
    fill_support(app, classes=2)
    files = [
        ("check.zip", _zip(MEMBERS), "application/zip"),
        ("class 2 extra.png", character_png(1, 6), "image/png"),
    ]
    _classify(app, files)
    table = app.dataframe[0].value
    assert list(table.columns[:3]) == ["file", "true class", "predicted"]
    assert list(table["true class"]) == ["class 1"] * 4 + ["class 2"] * 3 + ["", "class 2"]

    # The expected numbers, straight from the table's columns.
    known = table[table["true class"] != ""]
    crosstab = pd.crosstab(known["true class"], known["predicted"]).reindex(
        index=["class 1", "class 2"], columns=["class 1", "class 2"], fill_value=0
    )
    right = int((known["true class"] == known["predicted"]).sum())
    assert crosstab.loc["class 1", "class 2"] >= 1  # the cross in "class 1/" is a mistake
    headline = f"**{right} of 8 right ("
    assert any(m.value.startswith(headline) for m in app.markdown)
    assert any("(1 image(s) of unknown class left out)" in m.value for m in app.markdown)

    charts = _charts(app)
    bars = charts["Accuracy per true class"]["data"][0]
    for index, name in enumerate(["class 1", "class 2"]):
        rows = known[known["true class"] == name]
        hits = int((rows["predicted"] == name).sum())
        assert bars["x"][index] == hits / len(rows)
        assert bars["text"][index].endswith(f"({hits} of {len(rows)})")
    matrix = charts["Confusion matrix: click a cell to see its images"]
    cells = next(trace for trace in matrix["data"] if trace["name"] == "cells")
    counts = crosstab.to_numpy().ravel().tolist()
    assert [c[2] for c in cells["customdata"]] == counts
    assert cells["text"] == [str(n) if n else "" for n in counts]
    assert [tick.rsplit("</span> ", 1)[1] for tick in matrix["layout"]["xaxis"]["ticktext"]] == [
        "class 1",
        "class 2",
    ]
    assert [t["colorscale"][-1][1] for t in matrix["data"][:2]] == ["#0072B2", "#E69F00"]

    # The biggest mistake is shown first; its images are the table's rows of that cell.
    cell = app.selectbox(key=f"batch_check_{ui_state(app).nonce('batch')}_cell")
    assert cell.value == (0, 1)
    wrong = known[(known["true class"] == "class 1") & (known["predicted"] == "class 2")]
    assert _gallery_names(app, "fsl-check-cell") == list(wrong["file"])
    cell.set_value((1, 1)).run()
    assert not app.exception
    both_right = known[(known["true class"] == "class 2") & (known["predicted"] == "class 2")]
    assert _gallery_names(app, "fsl-check-cell") == list(both_right["file"])
    outlined = _charts(app)["Confusion matrix: click a cell to see its images"]["layout"]
    assert [(s["x0"], s["y0"]) for s in outlined["shapes"]] == [(0.5, 0.5)]

    # Least sure: the known images with the lowest probability, in that order.
    least = known.sort_values("probability", kind="stable")["file"].head(8)
    assert _gallery_names(app, "fsl-check-least-sure") == list(least)


def test_one_class_for_every_file_checks_plain_uploads(app):
    fill_support(app, classes=2)
    files = [(f"q{v}.png", character_png(1, v), "image/png") for v in range(3)]
    files.append(("q_circle.png", character_png(0, 3), "image/png"))
    _classify(app, files, truth=workspace(app).classes[1].id)  # "all of class 2"
    table = app.dataframe[0].value
    assert list(table["true class"]) == ["class 2"] * 4
    right = int((table["predicted"] == "class 2").sum())
    assert right == 3  # the circle is answered class 1
    assert any(m.value.startswith(f"**{right} of 4 right (") for m in app.markdown)
    cell = app.selectbox(key=f"batch_check_{ui_state(app).nonce('batch')}_cell")
    assert cell.value == (1, 0) and _gallery_names(app, "fsl-check-cell") == ["q_circle.png"]


def test_no_known_class_means_no_check_view(app):
    fill_support(app, classes=2)
    _classify(app, [("check.zip", _zip(MEMBERS), "application/zip")], truth=-2)  # not known
    assert "true class" not in app.dataframe[0].value
    assert not any("right (" in m.value for m in app.markdown)
    assert len(app.get("plotly_chart")) == 0
    # Folders that match no class: no check view either, and a hint how to get one.
    _classify(app, [("q.png", character_png(0, 3), "image/png")], truth=-1)
    assert "true class" not in app.dataframe[0].value
    assert any("a folder per class" in c.value for c in app.caption)


def test_the_class_chosen_for_all_stays_that_class_when_another_is_removed(app):
    fill_support(app, classes=3)
    app.switch_page("app_pages/classify_many.py").run()
    third = workspace(app).classes[2]
    app.selectbox(key="batch_truth").set_value(third.id).run()
    workspace(app).remove_class(workspace(app).classes[1].id)
    app.run()
    choice = app.selectbox(key="batch_truth")
    assert (
        choice.value == third.id and choice.format_func(choice.value) == "all of them are class 3"
    )
