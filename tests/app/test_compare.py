"""AppTests of Compare: photos through all three learners, true classes set in bulk, a
failing learner that leaves the other columns, and the random-splits evaluation."""

from __future__ import annotations

import io

import pytest

from tests.app.conftest import add_queries, chart_specs, fill_support, ui_state, workspace

PHOTOS = ("cat", "coffee", "astronaut")


def _photo_png(kind: str, variant: int) -> bytes:
    """Crops of scikit-image's sample photos, shrunk to 160 px (the encoder resizes anyway)."""
    from PIL import Image
    from skimage import data

    array = {"cat": data.chelsea, "coffee": data.coffee, "astronaut": data.astronaut}[kind]()
    h, w = array.shape[:2]
    box = (variant * 14, variant * 10, w - variant * 12, h - variant * 8)
    image = Image.fromarray(array).crop(box)
    image.thumbnail((160, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _upload(app, key: str, files) -> None:
    app.file_uploader(key=f"{key}_{ui_state(app).nonce(key.removesuffix('_up'))}").set_value(
        files
    ).run()
    assert not app.exception


def _accuracies(app) -> list[str]:
    return [m.value for m in app.metric if m.label == "Accuracy"]


def test_photos_train_from_scratch_on_frozen_features_in_three_columns(app):
    """Issue 17: with photos, "Train from scratch" raised "expected (S, C, H, W) inputs, got
    shape (12, 1280)" and the ProtoNet and MAML columns disappeared."""
    app.switch_page("app_pages/teach.py").run()
    app.button(key="add_class").click().run()
    for card, kind in zip(workspace(app).classes, PHOTOS, strict=True):
        app.text_input(key=f"class_name_{card.id}").set_value(kind).run()
        files = [(f"{kind}{v}.png", _photo_png(kind, v), "image/png") for v in (0, 1)]
        _upload(app, f"class_{card.id}_up", files)
    app.radio(key="teach_kind").set_value("photo").run()
    assert workspace(app).input_kind == "photo"
    queries = [(f"{kind.title()}_check.png", _photo_png(kind, 3), "image/png") for kind in PHOTOS]
    _upload(app, "query_up", [*queries, ("IMG_0001.png", _photo_png("cat", 2), "image/png")])

    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    assert any("linear model" in c.value and "EfficientNet" in c.value for c in app.caption)
    app.button(key="compare_from_names").click().run()
    ws = workspace(app)
    assert [q.label for q in ws.queries] == [*(c.id for c in ws.classes), None]
    assert any("3 of 4" in w.value and "IMG" in w.value for w in app.warning)
    app.button(key="compare_run").click().run()
    assert not app.exception
    assert not app.error
    assert len(_accuracies(app)) == 3  # ProtoNet, MAML and from scratch, side by side
    assert _accuracies(app)[0] == "100%"  # ProtoNet on three different photos

    app.number_input(key="compare_splits").set_value(3).run()
    app.button(key="compare_run_splits").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[-1].value
    assert list(table["learner"]) == ["ProtoNet", "MAML", "From scratch"]
    (spec,) = [s for s in chart_specs(app) if "splits" in s["layout"]["title"]["text"]]
    assert spec["data"][0]["error_y"]["visible"]
    assert len(spec["data"][1]["y"]) == 9  # one dot per learner and split


def test_one_failing_learner_leaves_the_other_columns(app, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("expected (S, C, H, W) inputs, got shape (12, 1280)")

    monkeypatch.setattr("lab.baseline.fit_baseline_on_labels", broken)
    fill_support(app, classes=2)
    add_queries(app, shapes=(0, 1))
    for query, card in zip(workspace(app).queries, workspace(app).classes, strict=True):
        query.label = card.id
    app.switch_page("app_pages/compare.py").run()
    app.button(key="compare_run").click().run()
    assert not app.exception
    assert len(_accuracies(app)) == 2  # ProtoNet and MAML still answer
    assert len(app.dataframe) >= 2
    (error,) = app.error
    assert error.value.startswith("Fine-tune from scratch (no meta-learning) could not answer")


def test_one_class_for_many_images_at_once(app):
    fill_support(app, classes=2)
    add_queries(app, shapes=(1, 1, 0))
    app.switch_page("app_pages/compare.py").run()
    ws = workspace(app)
    first, second, third = ws.queries
    app.multiselect(key="compare_many").set_value([first.id, second.id]).run()
    app.selectbox(key="compare_many_class").set_value("class 2").run()
    app.button(key="compare_set_many").click().run()
    assert not app.exception
    assert [q.label for q in ws.queries] == [ws.classes[1].id, ws.classes[1].id, None]
    assert app.multiselect(key="compare_many").value == []
    app.multiselect(key="compare_many").set_value([second.id]).run()
    app.selectbox(key="compare_many_class").set_value("unknown").run()
    app.button(key="compare_set_many").click().run()
    assert [q.label for q in ws.queries] == [ws.classes[1].id, None, None]


@pytest.mark.parametrize("held_out", [1, 2])
def test_random_splits_report_each_learner_with_an_interval(app, held_out):
    fill_support(app, classes=2, shots=2)
    add_queries(app, shapes=(0, 1))
    for query, card in zip(workspace(app).queries, workspace(app).classes, strict=True):
        query.label = card.id  # now 3 labelled images per class
    app.switch_page("app_pages/compare.py").run()
    app.number_input(key="compare_steps").set_value(20).run()
    app.number_input(key="compare_splits").set_value(4).run()
    app.number_input(key="compare_held_out").set_value(held_out).run()
    app.button(key="compare_run_splits").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[-1].value
    assert list(table["learner"]) == ["ProtoNet", "MAML", "From scratch"]
    assert all(len(cell.split()) == 4 for cell in table["each split"])
    assert all(cell.startswith("± ") for cell in table["95% interval"])
    assert any("minus from scratch" in m.value for m in app.markdown)


def test_splits_say_which_classes_need_more_images(app):
    fill_support(app, classes=2, shots=1)
    add_queries(app, shapes=(0,))
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    assert any("Add images to: class 1, class 2" in i.value for i in app.info)
    assert not [b for b in app.button if b.key == "compare_run_splits"]
