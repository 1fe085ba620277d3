"""Teach's "Check the lesson" (ui.lesson_check): a planted mislabel is flagged and one click
moves it, whole, to the class it looks like; the most and least helpful examples; the wrong-
cue table; MAML on a click with a progress bar."""

from __future__ import annotations

from tests.app.conftest import (
    add_queries,
    character_png,
    fill_support,
    ui_state,
    workspace,
)

CIRCLE, CROSS = 0, 1


def plant_cross_in_circles(app):
    """Two classes of three drawings (circles, crosses), then a cross uploaded as a circle."""
    fill_support(app, classes=2, shots=3)
    circles = workspace(app).classes[CIRCLE]
    key = f"class_{circles.id}_up_{ui_state(app).nonce(f'class_{circles.id}')}"
    app.file_uploader(key=key).set_value(
        [("planted-cross.png", character_png(CROSS, 4), "image/png")]
    ).run()
    assert not app.exception
    return next(item for item in circles.items if item.name == "planted-cross.png")


def words(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_planted_mislabel_is_flagged_and_moved_in_one_click(app):
    planted = plant_cross_in_circles(app)
    text = words(app)
    assert "Suspected mislabels** (1)" in text
    assert "**planted-cross.png** is in *class 1*, but this looks like a **class 2**" in text
    app.button(key=f"suspect_move_{planted.id}").click().run()
    assert not app.exception
    ws = workspace(app)
    assert planted in ws.classes[CROSS].items and planted not in ws.classes[CIRCLE].items
    assert [i.name for i in ws.classes[CROSS].items][-1] == "planted-cross.png"
    assert "Suspected mislabels" not in words(app)
    assert any("No example looks mislabelled" in s.value for s in app.success)
    assert any("Moved planted-cross.png to class 2." in s.value for s in app.success)


def test_remove_a_suspect(app):
    planted = plant_cross_in_circles(app)
    app.button(key=f"suspect_remove_{planted.id}").click().run()
    assert not app.exception
    names = [i.name for card in workspace(app).classes for i in card.items]
    assert "planted-cross.png" not in names and len(names) == 6


def test_helpful_examples_and_the_wrong_cue_table(app):
    fill_support(app, classes=2, shots=3)
    add_queries(app, shapes=(CIRCLE, CROSS))
    text = words(app)
    assert "**Helpful** means: leaving the example out lowers the other examples'" in text
    captions = "\n".join(c.value for c in app.caption)
    assert captions.count("Most helpful:") == 2 and captions.count("Least helpful:") == 2
    tables = [frame.value for frame in app.dataframe]
    cues = next(t for t in tables if "mirrored" in t.columns)
    assert list(cues["image"]) == ["query0.png", "query1.png"]
    assert list(cues.columns[1:]) == [
        "brighter",
        "darker",
        "rotated 15°",
        "cropped",
        "blurred",
        "mirrored",
    ]
    every = next(t for t in tables if "helpful" in t.columns)
    assert len(every) == 6 and set(every["class"]) == {"class 1", "class 2"}
    assert (every["check verdicts changed without it"] == 0).all()


def test_maml_checks_on_a_click(app):
    plant_cross_in_circles(app)
    app.radio(key="teach_algorithm").set_value("maml").run()
    assert not app.exception
    assert "Suspected mislabels" not in words(app)  # nothing runs before the click
    app.button(key="lesson_check_maml").click().run()
    assert not app.exception
    jobs = ui_state(app).cache["lesson_check_jobs"]  # it runs in the background
    assert len(jobs) == 1
    for job in jobs.values():
        assert job.wait(600).error is None
    app.run()
    assert not app.exception
    assert any("Most helpful:" in c.value for c in app.caption)
