"""Embedding space, every mode: the session's images (legend, thumbnails, the picked image's
neighbours, 2-D/3-D, PCA/t-SNE/UMAP, MAML's stars and inner steps), a benchmark slice of
Omniglot's test split (mistakes marked, centres growing), mini-ImageNet photos, and the
example lesson when the benchmark files are absent."""

from __future__ import annotations

import numpy as np
import pytest

from tests.app.conftest import add_queries, chart_specs, fill_support, ui_state, workspace


def _explorer_spec(at) -> dict:
    return chart_specs(at)[0]


def _legend(spec) -> list[str]:
    return [t["name"] for t in spec["data"] if t.get("showlegend", True) and t.get("name")]


def _frame(at, column: str):
    """The one dataframe on the page with this column (AppTest does not keep their keys)."""
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def _ws_data(at):
    """The session's images in omniglot-protonet's space, computed here, not by the page."""
    from core import load_model
    from lab.explorer import from_classifier

    ws = workspace(at)
    images, labels = ws.support()
    classifier = load_model("omniglot-protonet").adapt(images, labels)
    return from_classifier(
        classifier,
        images,
        labels,
        [q.image for q in ws.queries],
        class_names=ws.names(classifier.classes),
        support_names=ws.support_names(),
        query_names=[q.name for q in ws.queries],
    )


def test_session_images_thumbnails_neighbours_and_maml(app):
    fill_support(app, classes=4, shots=2)
    add_queries(app, shapes=(1, 3))
    app.switch_page("app_pages/embedding.py").run()
    assert not app.exception
    assert app.radio(key="emb_source").value == "session"
    app.radio(key="emb_projection").set_value("pca").run()  # the exact picture comes first
    spec = _explorer_spec(app)
    legend = _legend(spec)
    assert "class centres (prototypes)" in legend
    assert len([n for n in legend if n.startswith("images to check →")]) >= 1
    # Thumbnails on: one picture per image (8 examples, 2 queries), placed in data units.
    images = spec["layout"]["images"]
    assert len(images) == 10
    assert {(i["xref"], i["yref"]) for i in images} == {("x", "y")}
    assert images[0]["source"].startswith("data:image/png;base64,")
    # The exact distances table: one row per query, a column per class.
    table = _frame(app, "nearest")
    assert list(table.columns)[-4:] == ["class 1", "class 2", "class 3", "class 4"]
    assert len(table) == 2

    # Pick an image: its 5 nearest images, with the model's own distances.
    app.selectbox(key="emb_pick").set_value(0).run()
    assert not app.exception
    neighbours = _frame(app, "distance")
    assert len(neighbours) == 5
    data = _ws_data(app)
    from lab.explorer import pairwise_distances

    exact = pairwise_distances(data.embeddings[:1], data.embeddings, data.distance)[0]
    expected = np.sort(exact[1:])[:5]
    np.testing.assert_allclose(neighbours["distance"].to_numpy(), expected, rtol=1e-6)

    # Markers instead of pictures; then 3-D.
    app.toggle(key="emb_thumbnails").set_value(False).run()
    assert not _explorer_spec(app)["layout"].get("images")
    app.toggle(key="emb_3d").set_value(True).run()
    assert not app.exception
    kinds = {t["type"] for t in _explorer_spec(app)["data"]}
    assert kinds == {"scatter3d"}
    app.toggle(key="emb_3d").set_value(False).run()

    # MAML: its stars are class means; its inner loop plays step by step on request.
    app.radio(key="emb_model").set_value("maml").run()
    assert not app.exception
    legend = _legend(_explorer_spec(app))
    assert "class means (MAML has no prototypes)" in legend
    app.button(key="emb_run_steps").click().run()
    assert not app.exception
    learning = chart_specs(app)[1]
    steps = ui_state(app).cache[next(k for k in ui_state(app).cache if k[0] == "emb_maml_steps")]
    assert len(learning["frames"]) == len(steps.embeddings) > 1
    assert learning["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_nonlinear_projections_with_their_settings(app, method):
    fill_support(app, classes=3, shots=3)
    app.switch_page("app_pages/embedding.py").run()
    app.radio(key="emb_projection").set_value(method).run()
    assert not app.exception
    slider = "emb_perplexity" if method == "tsne" else "emb_neighbors"
    assert app.slider(key=slider).value == 15
    points = [t for t in _explorer_spec(app)["data"] if t.get("customdata")]
    xy = np.array([[x, y] for t in points for x, y in zip(t["x"], t["y"], strict=True)])
    assert np.isfinite(xy).all() and len(xy) == 9 + 3  # 9 images, 3 centres
    assert any("keeps" in c.value for c in app.caption)


def test_handwriting_slice_marks_mistakes_and_grows_centres(app, omniglot_root):
    app.switch_page("app_pages/embedding.py").run()
    # An empty session explores a benchmark slice at once.
    assert app.radio(key="emb_source").value == "handwriting"
    assert not app.exception
    app.radio(key="emb_projection").set_value("pca").run()  # the exact picture comes first
    spec = _explorer_spec(app)
    assert len(spec["layout"]["images"]) == 400
    wrong = [t for t in spec["data"] if str(t.get("name", "")).startswith("✗")]
    shown = next(c.value for c in app.caption if "are wrong" in c.value)
    count = int(shown.split(" of the ")[0])
    assert count == (len(wrong[0]["x"]) if wrong else 0)
    assert "of the 300 images to check" in shown
    # ProtoNet's centres from 1 to 5 examples per class, one frame each.
    learning = chart_specs(app)[1]
    assert len(learning["frames"]) == 5
    assert learning["frames"][0]["name"] == "0"
    # Fewer shots: more images to check.
    app.slider(key="emb_shots").set_value(1).run()
    assert not app.exception
    assert any("of the 380 images to check" in c.value for c in app.caption)
    assert len(chart_specs(app)[0]["layout"]["images"]) == 400


def test_photo_slice(app, miniimagenet_root):
    app.switch_page("app_pages/embedding.py").run()
    app.radio(key="emb_source").set_value("photos").run()
    assert not app.exception
    app.radio(key="emb_projection").set_value("pca").run()  # the exact picture comes first
    assert len(_explorer_spec(app)["layout"]["images"]) == 100
    assert any("mini-ImageNet's test split" in c.value for c in app.caption)


def test_without_benchmark_files_the_example_lesson(app, tmp_path, monkeypatch):
    monkeypatch.setenv("FEWSHOT_DATA", str(tmp_path))
    app.switch_page("app_pages/embedding.py").run()
    assert not app.exception
    app.radio(key="emb_projection").set_value("pca").run()  # the exact picture comes first
    note = next(c.value for c in app.caption if "example lesson instead" in c.value)
    assert str(tmp_path) in note
    # The photo example (textures): 3 classes x 7 crops.
    assert len(_explorer_spec(app)["layout"]["images"]) == 21
