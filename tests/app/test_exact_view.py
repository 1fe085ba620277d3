"""The exact picture on the pages: the Embedding space page opens on it (3 classes: the plane
through the centres, regions and contours, titled exact), its points sit where lab.exact puts
them, and Teach shows the same picture for its verdicts."""

from __future__ import annotations

import base64

import numpy as np

from tests.app.conftest import add_queries, chart_specs, fill_support, workspace


def _array(value) -> np.ndarray:
    """A plotly array from a figure's JSON: a list, or plotly's typed array (base64)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def test_embedding_page_opens_on_the_exact_picture_and_teach_shows_it(app):
    fill_support(app, classes=3, shots=2)
    add_queries(app, shapes=(1, 2))
    teach = [s for s in chart_specs(app) if "Exact" in str(s["layout"].get("title", ""))]
    assert len(teach) == 1  # Teach's verdicts, in the exact picture
    app.switch_page("app_pages/embedding.py").run()
    assert not app.exception
    assert app.radio(key="emb_projection").value == "exact"
    assert app.radio(key="emb_projection").options[0].startswith("exact")
    spec = chart_specs(app)[0]
    assert spec["layout"]["title"]["text"].startswith("Exact")
    kinds = [t["type"] for t in spec["data"]]
    assert kinds[0] == "heatmap" and kinds.count("contour") == 3
    # The regions: three classes answered somewhere on the background.
    assert set(np.unique(_array(spec["data"][0]["z"])).tolist()) == {0, 1, 2}
    # The examples are where lab.exact puts them: 2 per class.
    from core import load_model
    from lab.exact import exact_space

    ws = workspace(app)
    images, labels = ws.support()
    classifier = load_model("omniglot-protonet").adapt(images, labels)
    embeddings = classifier.embed(images)
    xy = exact_space(classifier, embeddings).place(embeddings)
    drawn = [t for t in spec["data"] if str(t.get("name", "")).endswith("(examples)")]
    assert len(drawn) == 3
    got = np.array([[x, y] for t in drawn for x, y in zip(t["x"], t["y"], strict=True)])
    assert np.abs(np.sort(got, 0) - np.sort(xy, 0)).max() < 1e-4
    assert any("Exact:" in c.value for c in app.caption)
