"""What a visitor met (issue 31), each as it was found: a test that failed before the fix."""

from __future__ import annotations

import math
import re

import pytest

from lab.labels import markdown_text
from tests.app.conftest import add_queries, chart_specs, fill_support, workspace
from tests.cards import every_tensor_rates


def _page_text(app) -> str:
    parts = [m.value for m in app.markdown] + [m.value for m in app.error]
    parts += [m.value for m in app.caption] + [str(m.value) for m in app.metric]
    return "\n".join(parts)


@pytest.fixture
def every_tensor_maml(monkeypatch):
    """omniglot-maml as the app's one shared copy, with v2's step sizes for every tensor
    (kept in its card's history, tests.cards): the shipped v4 moves only its classifier, a convex
    loop that x100 steps from zero cannot send to NaN (the next test)."""
    import copy

    from core.learner import FewShotModel, load_model
    from ui import models

    shipped = load_model("omniglot-maml")
    card = copy.deepcopy(shipped.card)
    card["maml"] = {**card["maml"], "lr": every_tensor_rates(card)}
    variant = FewShotModel(shipped.net, card, shipped.encode)
    assert variant.adapts_backbone and not shipped.adapts_backbone
    monkeypatch.setitem(models._LOADED, models._files_key("omniglot-maml"), variant)


@pytest.mark.parametrize("scale, start", [(100.0, "zero"), (100.0, "proto")])
def test_inside_maml_stops_its_charts_where_the_steps_diverge_and_says_so(
    app, every_tensor_maml, scale, start
):
    """Eight classes with x100 steps (or the class-centre start) sent the loss past
    1e6 to NaN: the page said 'Looks like circle (nan%)', then showed LinAlgError's
    traceback. Now: the charts up to the last finite step, and one sentence."""
    fill_support(app, classes=8)
    add_queries(app, shapes=(1,))
    app.switch_page("app_pages/inside_maml.py").run()
    app.select_slider(key="maml_lr_scale").set_value(scale).run()
    app.radio(key="maml_head_init").set_value(start).run()
    assert not app.exception
    text = _page_text(app)
    assert "nan" not in text.lower()
    diverged = [e.value for e in app.error if "diverged at step" in e.value]
    assert len(diverged) == 1, text
    step = int(diverged[0].split("diverged at step ")[1].split(":")[0])
    assert 1 <= step <= workspace(app).inner_steps
    assert "try a smaller learning rate" in diverged[0]
    curves = next(s for s in chart_specs(app) if any(t.get("name") == "loss" for t in s["data"]))
    loss = next(t for t in curves["data"] if t["name"] == "loss")["y"]
    assert len(loss) == step and all(math.isfinite(v) for v in loss)
    table = next(f for f in app.dataframe if "loss" in f.value.columns).value
    assert len(table) == step and table["loss"].map(math.isfinite).all()


def test_the_shipped_classifier_only_loop_stays_finite_at_x100(app):
    """The shipped loop fits a linear classifier on fixed features: at x100 its steps overshoot
    (far past what keeps the convex loss falling) but every loss stays a number, so the page
    shows every step and no 'diverged'."""
    fill_support(app, classes=8)
    add_queries(app, shapes=(1,))
    app.switch_page("app_pages/inside_maml.py").run()
    app.select_slider(key="maml_lr_scale").set_value(100.0).run()
    assert not app.exception
    assert not [e for e in app.error if "diverged" in e.value]
    curves = next(s for s in chart_specs(app) if any(t.get("name") == "loss" for t in s["data"]))
    loss = next(t for t in curves["data"] if t["name"] == "loss")["y"]
    assert len(loss) == workspace(app).inner_steps + 1 and all(math.isfinite(v) for v in loss)


EXPERIMENT = {"inner_lr_scale", "head_init", "inner_steps", "inner_lr"}


def test_inside_maml_settings_stay_on_inside_maml_on_every_page_that_adapts(app, monkeypatch):
    """Proto-MAML set on Inside MAML made Compare's random splits score MAML at 28% ('MAML
    is clearly worse here'): compare.py adapted with the page-only settings. Every MAML
    adaptation outside Inside MAML must use the model's own settings."""
    from core.learner import FewShotModel

    calls: list[tuple[str, dict]] = []
    original = FewShotModel.adapt_tensors

    def recording(self, *args, **kwargs):
        if self.algorithm == "maml":
            used = {k: v for k, v in kwargs.items() if k in EXPERIMENT and v is not None}
            calls.append((page, used))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FewShotModel, "adapt_tensors", recording)
    page = "teach"
    fill_support(app, classes=2, shots=2)
    add_queries(app, shapes=(0, 1))
    for query, card in zip(workspace(app).queries, workspace(app).classes, strict=True):
        query.label = card.id  # labelled: Compare can score them and run splits
    page = "inside_maml"
    app.switch_page("app_pages/inside_maml.py").run()
    app.radio(key="maml_head_init").set_value("proto").run()
    app.select_slider(key="maml_lr_scale").set_value(3.0).run()
    app.slider(key="maml_inner_steps").set_value(2).run()
    assert any(used for name, used in calls if name == "inside_maml")
    del calls[:]  # before: the server's warm-up (one tiny adaptation of its own) and Teach
    for page in ("teach", "classify_many", "compare", "embedding"):
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page
        if page == "teach":
            app.radio(key="teach_algorithm").set_value("maml").run()
        if page == "compare":
            app.number_input(key="compare_splits").set_value(2).run()
            app.button(key="compare_run_splits").click().run()
            assert not app.exception
    outside = [(name, used) for name, used in calls if name != "inside_maml"]
    assert {name for name, _ in outside} >= {"teach", "compare"}
    assert [c for c in outside if c[1]] == [], outside


HOSTILE_NAMES = [
    "[login](https://evil.example)",
    "www.evil.example",
    '=HYPERLINK("http://x","y")',
    ":red[red]",
]
# What Markdown (with GitHub's autolinks) or Streamlit's directives would read as a link or
# a colour, unescaped: a backslash before the ":", "." or "[" breaks each.
LIVE = re.compile(r"(?<!\\)(https?(?<!\\):|www(?<!\\)\.|(?<!\\):red(?<!\\)\[|\]\()")


def _markdown_texts(app) -> list[str]:
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "toast")
    return [element.value for kind in kinds for element in app.get(kind)]


def test_link_and_directive_class_names_are_never_read_as_markup_on_any_page(app):
    """[login](https://evil.example) and www.evil.example rendered as links, =HYPERLINK(...)
    as a live link, :red[red] lost its :red. On every page that shows class names, each
    Markdown text holding one holds it escaped (the browser test looks at the result)."""
    fill_support(app, classes=4, shots=2)
    for card, name in zip(workspace(app).classes, HOSTILE_NAMES, strict=True):
        app.text_input(key=f"class_name_{card.id}").set_value(name).run()
    assert [card.name for card in workspace(app).classes] == HOSTILE_NAMES
    add_queries(app, shapes=(0, 1, 2, 3))
    seen = 0
    for page in ("teach", "classify_many", "inside_maml", "embedding", "compare", "save_load"):
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page
        for text in _markdown_texts(app):
            if text.startswith('<div data-testid="fsl-') and "\n" not in text:
                # One raw HTML block (the bars, the thumbnails): Markdown never reads it,
                # its names are escaped for HTML, and it holds no link of its own.
                assert "<a" not in text, (page, text)
                continue
            assert not LIVE.search(text), (page, text)
            seen += any(markdown_text(name) in text for name in HOSTILE_NAMES)
    assert seen >= 8, seen  # chips, verdicts, captions: the names were on the pages


def test_home_draws_every_card_without_waiting_for_the_warm_up(monkeypatch):
    """On a server's first visit Home showed one card with a blank button for about 10 s:
    the example button made the session's workspace, which waits for the warm-up's import
    of torch. Home must draw all of itself without waiting."""
    from streamlit.testing.v1 import AppTest

    import ui.models
    from tests.app.conftest import APP

    def refuse(timeout_s: float = 300.0) -> None:
        raise AssertionError("Home waited for the warm-up's imports")

    monkeypatch.setattr(ui.models, "wait_for_imports", refuse)
    home = AppTest.from_file(APP, default_timeout=60)
    home.run()
    assert not home.exception, home.exception
    keys = {button.key for button in home.button}
    assert {"home_handwriting", "home_example_handwriting", "home_photos"} <= keys
    assert {"home_example_photos", "home_how"} <= keys
    assert len(home.subheader) == 3


def test_right_after_prepare_only_the_download_shows_and_the_export_says_what_it_lacks(app):
    """Both buttons showed after Prepare; the export did not say it has no "none of these"."""
    fill_support(app, classes=2)
    app.button(key="onnx_prepare").click().run()
    assert not app.exception
    assert app.get("download_button")
    assert not [b for b in app.button if b.key == "onnx_prepare"]
    assert any('Not included: "none of these"' in m.value for m in app.markdown)


def test_the_exported_readme_says_none_of_these_is_not_included(protonet_model):
    from core.export import export_classifier
    from core.images import decode_image
    from tests.app.conftest import character_png

    images = [decode_image(character_png(s, v), "a.png") for s in (0, 1) for v in range(2)]
    classifier = protonet_model.adapt(images, ["circle", "circle", "cross", "cross"])
    readme = export_classifier(classifier, ("circle", "cross")).readme
    assert 'Not included: the app\'s "none of these" answer.' in readme


def test_compare_gives_the_none_of_these_answers_that_teach_gives(app):
    """Compare forced every image into a class while Teach answered "none of these"."""
    fill_support(app, classes=2)  # circle and cross
    add_queries(app, shapes=(0, 2, 3))  # a circle, then a square and a triangle
    app.toggle(key="teach_open_set").set_value(True).run()
    verdicts = [m.value for m in app.markdown if m.value.startswith(("Looks like", "**None"))]
    refused_on_teach = [v.startswith("**None") for v in reversed(verdicts)]  # upload order
    assert refused_on_teach == [False, True, True]
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    tables = [f.value for f in app.dataframe if "looks like" in f.value.columns]
    protonet = tables[0]  # the first column: ProtoNet, as Teach adapted it
    refused = [answer.startswith("none of these") for answer in protonet["looks like"]]
    assert refused == refused_on_teach
