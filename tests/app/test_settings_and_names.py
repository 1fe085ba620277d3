"""Issue 17: Inside MAML's settings stay on that page, and class names are shown as typed."""

from __future__ import annotations

from core.learner import load_model
from tests.app.conftest import (
    add_queries,
    answer_bars,
    character_png,
    fill_support,
    ui_state,
    workspace,
)

MARKDOWN_NAME = "**md** $x$"
ESCAPED_NAME = r"\*\*md\*\* \$x\$"


def _verdicts(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("Looks like")]


def _probability_bars(at) -> list[list[float]]:
    return [b["values"] for b in answer_bars(at) if b["kind"] == "probability"]


def test_inside_maml_settings_never_change_what_teach_answers(app):
    fill_support(app, classes=2)
    app.radio(key="teach_algorithm").set_value("maml").run()
    add_queries(app, shapes=(0, 1))
    default_verdicts, default_bars = _verdicts(app), _probability_bars(app)
    assert len(default_verdicts) == 2 and len(default_bars) == 2

    app.switch_page("app_pages/inside_maml.py").run()
    # One small step from a zero classifier: close to a coin toss, whatever the model's own.
    app.radio(key="maml_head_init").set_value("zero").run()
    app.slider(key="maml_inner_steps").set_value(1).run()
    app.select_slider(key="maml_lr_scale").set_value(0.1).run()
    assert not app.exception
    notice = " ".join(w.value for w in app.warning)
    assert "Not the model's own settings" in notice and "learning rate x0.1" in notice
    inside = _verdicts(app)
    assert inside and inside[0] not in default_verdicts

    app.switch_page("app_pages/teach.py").run()
    assert not app.exception
    assert _verdicts(app) == default_verdicts
    assert _probability_bars(app) == default_bars
    assert any("apply there only" in c.value for c in app.caption)

    app.switch_page("app_pages/inside_maml.py").run()
    app.button(key="maml_reset").click().run()
    assert not app.exception
    assert not any("Not the model's own settings" in w.value for w in app.warning)
    assert workspace(app).head_init is None and workspace(app).inner_steps is not None
    own = load_model("omniglot-maml").default_inner_loop.head_init
    assert app.radio(key="maml_head_init").value == own


def test_inside_maml_offers_the_other_classifier_start_and_names_it(app):
    """The start the model was not trained with is offered, and choosing it is named as an
    experiment (Proto-MAML beside MAML's zero start, or the other way round)."""
    fill_support(app, classes=2)
    app.radio(key="teach_algorithm").set_value("maml").run()
    app.switch_page("app_pages/inside_maml.py").run()
    own = load_model("omniglot-maml").default_inner_loop.head_init
    other = "proto" if own == "zero" else "zero"
    radio = app.radio(key="maml_head_init")
    labels = {"zero": "zero (MAML)", "proto": "the class centres (Proto-MAML)"}
    assert radio.value == own
    assert radio.options == [
        labels[key] + (" · as trained" if key == own else "") for key in ("zero", "proto")
    ]
    radio.set_value(other).run()
    assert not app.exception and workspace(app).head_init == other
    notice = " ".join(w.value for w in app.warning)
    assert "classifier starts from" in notice


def _label_shown(element) -> bool:
    """False for a widget whose label is collapsed (not on screen; kept raw for readers)."""
    visibility = getattr(element.proto, "label_visibility", None)
    return visibility is None or visibility.value == visibility.VISIBLE


def _shown_texts(at) -> list[str]:
    """Every Markdown body on the page: text elements, widget labels, image captions."""
    texts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader"):
        texts += [element.value for element in at.get(kind) if not _raw_html(element.value)]
    for kind in ("button", "selectbox", "radio", "slider", "text_input", "metric", "expander"):
        texts += [element.label for element in at.get(kind) if _label_shown(element)]
    for images in at.get("image"):
        texts += images.captions
    return texts


def _raw_html(text: str) -> bool:
    """A one-line raw HTML block (ui.thumbnails, the answer bars): Markdown leaves it alone,
    so names in it are HTML-escaped only (test_thumbnails_name_each_file_as_typed,
    tests/app/test_answer_bars.py)."""
    return text.startswith('<div data-testid="fsl-') and "\n" not in text


def _assert_as_typed(texts: list[str], expected_at_least: int) -> None:
    with_name = [text for text in texts if "md" in text]
    assert len(with_name) >= expected_at_least, texts
    for text in with_name:
        assert ESCAPED_NAME in text, text
        assert MARKDOWN_NAME not in text.replace(ESCAPED_NAME, ""), text


def test_markdown_in_a_class_name_is_shown_as_typed_everywhere(app):
    app.switch_page("app_pages/teach.py").run()
    first = workspace(app).classes[0]
    app.text_input(key=f"class_name_{first.id}").set_value(MARKDOWN_NAME).run()
    assert workspace(app).classes[0].name == MARKDOWN_NAME
    # The empty state names the empty class; the class header names it too.
    _assert_as_typed(_shown_texts(app), expected_at_least=2)
    second = workspace(app).classes[1]
    app.text_input(key=f"class_name_{second.id}").set_value("**MD** $X$").run()
    errors = " ".join(e.value for e in app.error)
    assert r"“\*\*md\*\* \$x\$”" in errors  # the rejection quotes the other name as typed

    fill_support(app, classes=2)
    add_queries(app, shapes=(0,))
    # A query whose file name holds Markdown too.
    nonce = ui_state(app).nonce("query")
    app.file_uploader(key=f"query_up_{nonce}").set_value(
        [(f"{MARKDOWN_NAME}.png", character_png(0, 2), "image/png")]
    ).run()
    verdicts = _verdicts(app)
    assert verdicts and all(v.startswith(f"Looks like **{ESCAPED_NAME}**") for v in verdicts)
    _assert_as_typed(_shown_texts(app), expected_at_least=4)  # header, 2 verdicts, name

    app.radio(key="teach_algorithm").set_value("maml").run()
    app.switch_page("app_pages/inside_maml.py").run()
    assert not app.exception
    app.selectbox(key="maml_query").set_value(1).run()
    texts = _shown_texts(app)
    _assert_as_typed(texts, expected_at_least=2)  # the verdict and the thumbnail's caption
    assert f"{ESCAPED_NAME}.png" in texts


def test_thumbnails_name_each_file_as_typed(app):
    """The thumbnail row is one raw HTML block, so Markdown never reads it: a file name is
    escaped for HTML only and shown as typed in the picture's tooltip."""
    fill_support(app, classes=2)
    nonce = ui_state(app).nonce("query")
    app.file_uploader(key=f"query_up_{nonce}").set_value(
        [(f"{MARKDOWN_NAME} <b>&.png", character_png(0, 2), "image/png")]
    ).run()
    rows = [m.value for m in app.markdown if _raw_html(m.value)]
    assert rows and all(row.endswith("</div>") for row in rows)
    assert 'title="**md** $x$ &lt;b&gt;&amp;.png"' in " ".join(rows)
