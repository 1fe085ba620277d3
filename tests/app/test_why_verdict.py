""" "Why this verdict?" on Teach and Classify many (ui.why_verdict): the occlusion map of the
chosen image and its nearest examples, the same as lab.occlusion computes."""

from __future__ import annotations

import numpy as np

from lab import occlusion
from tests.app.conftest import character_png, chart_specs, fill_support, ui_state, workspace


def _why(app):
    """The one cached explanation of the session: (Occlusion, nearest examples)."""
    cache = ui_state(app).cache["why"]
    assert len(cache) == 1
    return next(iter(cache.values()))


def test_teach_explains_the_chosen_check_image(app):
    app.button(key="home_example_photos").click().run()
    assert not app.exception
    assert not chart_specs(app) or all(
        d.get("name") != "occlusion" for s in chart_specs(app) for d in s["data"]
    )
    app.toggle(key="why_teach").set_value(True).run()
    assert not app.exception
    ws = workspace(app)
    query = ws.queries[-1]  # the picker starts with the newest, as the verdicts do
    assert app.selectbox(key="why_teach_pick").value == query.id
    result, near = _why(app)
    # The same answer as the classifier's verdict on that image, and the map of the
    # library computed afresh.
    from ui.models import adapted

    classifier = adapted(ws, "photo-protonet")
    assert result.winner == int(classifier.predict_proba([query.image])[0].argmax())
    assert result.winner == ws.classes.index(ws.card(query.label))  # the example is right
    fresh = occlusion.occlusion_map(classifier, query.image)
    np.testing.assert_allclose(result.effect, fresh.effect, atol=1e-5)
    specs = [d for s in chart_specs(app) for d in s["data"] if d.get("name") == "occlusion"]
    assert len(specs) == 1 and specs[0]["zmid"] == 0
    assert specs[0]["colorbar"]["ticktext"] == [
        "helps the verdict",
        "no change",
        "hurts the verdict",
    ]
    captions = " ".join(c.value for c in app.caption)
    assert "distance to the winning class's centre" in captions
    assert "the model's own squared Euclidean distance" in captions
    # Three nearest examples each of the winner and of the runner-up, nearest first.
    assert [len(near[result.winner]), len(near[result.runner_up])] == [3, 3]
    for found in near.values():
        distances = [n.distance for n in found]
        assert distances == sorted(distances)
        assert f"distance {distances[0]:.3g}" in captions
    # Another image: a second explanation; the first stays cached.
    other = ws.queries[0]
    app.selectbox(key="why_teach_pick").set_value(other.id).run()
    assert not app.exception
    assert len(ui_state(app).cache["why"]) == 2


def test_classify_many_explains_a_picked_file(app):
    fill_support(app, classes=2, shots=3)
    app.switch_page("app_pages/classify_many.py").run()
    key = f"batch_up_{ui_state(app).nonce('batch')}"
    app.file_uploader(key=key).set_value([("q.png", character_png(1, 4), "image/png")]).run()
    app.button(key="batch_run").click().run()
    assert not app.exception
    app.toggle(key="why_many").set_value(True).run()
    app.file_uploader(key="why_many_file").set_value(
        [("q.png", character_png(1, 4), "image/png")]
    ).run()
    assert not app.exception
    result, near = _why(app)
    assert result.copies == 144 and result.picture.shape == (28, 28)
    assert result.measure == "distance to the winning class's centre"
    assert set(near) == {result.winner, result.runner_up}
    # The table's answer for the same file is the explained winner.
    row = ui_state(app).cache["batch"]["rows"][0]
    assert (
        row["predicted"]
        == workspace(app).names(tuple(card.id for card in workspace(app).classes))[result.winner]
    )
    app.file_uploader(key="why_many_file").set_value(
        [("notes.png", b"not an image", "image/png")]
    ).run()
    assert any(e.value.startswith("notes.png cannot be explained: ") for e in app.error)
