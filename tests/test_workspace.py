"""lab.workspace without Streamlit: classes, limits, settings and the session round trip."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.constants import MAX_CLASSES
from core.settings import MamlSettings, ProtoSettings
from lab.labels import LabelRejected
from lab.session import SessionData, StoredImage, export_session, read_session
from lab.workspace import (
    Item,
    Workspace,
    from_session,
    parse_vector,
    suggest_kind,
    to_session,
)
from tests.app.conftest import character_png


def _photo(seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _item(ws: Workspace, name: str, data: bytes, label: int | None = None) -> Item:
    return Item(ws.new_id(), name, data, Image.open(io.BytesIO(data)).convert("RGB"), label)


def _filled() -> Workspace:
    """Two classes with two and one characters, and two queries (one labelled)."""
    ws = Workspace()
    circle, cross = ws.add_class("circle"), ws.add_class("✗ cross")
    circle.items += [
        _item(ws, "c0.png", character_png(0, 0)),
        _item(ws, "c1.png", character_png(0, 1)),
    ]
    cross.items.append(_item(ws, "x0.png", character_png(1, 0)))
    ws.queries += [
        _item(ws, "q0.png", character_png(1, 3), cross.id),
        _item(ws, "q1.png", character_png(2)),
    ]
    return ws


def test_workspace_readiness_messages():
    ws = Workspace()
    assert "second class" in ws.not_ready()
    ws.add_class("a")
    ws.add_class("b")
    assert "still empty: a, b" in ws.not_ready()
    for _ in range(MAX_CLASSES - 2):
        ws.add_class()
    with pytest.raises(ValueError, match="at most 20"):
        ws.add_class()


def test_parse_vector():
    assert parse_vector("(1, 2, 3)").tolist() == [1.0, 2.0, 3.0]
    assert parse_vector("[4 5.5]").tolist() == [4.0, 5.5]
    for bad in ("", "a, b", "1, inf"):
        with pytest.raises(ValueError):
            parse_vector(bad)


def test_new_classes_take_the_first_free_number_and_ids_are_never_reused():
    ws = Workspace()
    first, second, third = ws.add_class(), ws.add_class(), ws.add_class()
    assert [c.name for c in ws.classes] == ["class 1", "class 2", "class 3"]
    ws.remove_class(second.id)
    fourth = ws.add_class()
    assert fourth.name == "class 4"  # "class 3" is taken, so 3 classes -> the next free one
    assert len({first.id, second.id, third.id, fourth.id}) == 4
    ws.remove_class(first.id)
    assert ws.add_class().name == "class 5"  # counting starts after the number of classes


def test_removing_a_class_forgets_the_query_labels_that_named_it():
    ws = _filled()
    cross = ws.classes[1]
    assert ws.queries[0].label == cross.id
    ws.remove_class(cross.id)
    assert [c.name for c in ws.classes] == ["circle"]
    assert [q.label for q in ws.queries] == [None, None]
    assert ws.not_ready().startswith("Add a second class")


def test_rename_cleans_the_name_and_refuses_a_duplicate_keeping_the_old_one():
    ws = _filled()
    circle, cross = ws.classes
    assert ws.rename_class(circle.id, "  round   one ") == "round one"
    with pytest.raises(LabelRejected, match="already named"):
        ws.rename_class(cross.id, "ROUND ONE")
    assert cross.name == "✗ cross"
    with pytest.raises(LabelRejected):
        ws.rename_class(cross.id, "   ")
    assert ws.names((cross.id, circle.id, 999)) == ["✗ cross", "round one", "999"]


def test_support_lists_images_class_by_class_with_their_names_and_key():
    ws = _filled()
    images, labels = ws.support()
    circle, cross = ws.classes
    assert labels == [circle.id, circle.id, cross.id]
    assert len(images) == 3 and all(image.mode == "RGB" for image in images)
    assert ws.support_names() == ["c0.png", "c1.png", "x0.png"]
    key = ws.support_key()
    cross.items.pop()
    assert ws.support_key() != key
    assert ws.not_ready() == "Add at least one image to each class (still empty: ✗ cross)."


def test_adapt_settings_per_algorithm():
    ws = Workspace(distance="cosine", inner_lr_scale=3.0, head_init="zero")
    assert ws.adapt_settings("protonet") == ProtoSettings(distance="cosine")
    assert ws.adapt_settings("maml") == MamlSettings(inner_lr_scale=3.0, head_init="zero")
    ws.inner_steps = 7
    assert ws.adapt_settings("maml").inner_steps == 7


def test_maml_settings_stay_on_inside_maml():
    """Other pages adapt with the model's own settings, whatever Inside MAML set."""
    ws = Workspace(distance="cosine", inner_lr_scale=30.0, head_init="zero", inner_steps=9)
    assert ws.shipped_settings("maml") == MamlSettings()
    assert ws.shipped_settings("protonet") == ProtoSettings(distance="cosine")
    assert ws.maml_changes(2, "proto") == [
        "9 inner steps (the model's own: 2)",
        "learning rate x30",
        "classifier starts from zero",
    ]
    assert ws.maml_changes(9, "zero") == ["learning rate x30"]
    ws.head_init = "proto"
    assert ws.maml_changes(9, "zero")[-1] == "classifier starts from the class centres (Proto-MAML)"
    ws.reset_maml()
    assert ws.maml_changes(2, "proto") == [] and ws.maml_changes(2, "zero") == []
    # None: the model card's own start, whichever it is
    assert ws.adapt_settings("maml") == MamlSettings(inner_lr_scale=1.0)
    ws.inner_steps = 2  # the slider's value when untouched: the model's own
    assert ws.maml_changes(2, "proto") == []


def test_widget_nonces_count_per_key():
    from ui.session_state import SessionUI  # the widget counters are UI state, not the lesson's

    state = SessionUI()
    assert state.nonce("query") == 0
    state.bump("query")
    state.bump("query")
    assert (state.nonce("query"), state.nonce("class_1")) == (2, 0)


def test_round_trip_through_session_data_and_the_zip_is_exact():
    ws = _filled()
    ws.algorithm, ws.inner_steps, ws.distance, ws.head_init = "maml", 5, "euclidean", "proto"
    ws.open_set = True
    session = to_session(ws)
    assert session.class_names == ["circle", "✗ cross"]
    assert session.query_labels == ["✗ cross", None]
    assert session.support[0][1] == StoredImage("c1.png", character_png(0, 1))

    back = from_session(read_session(export_session(session)), first_id=100)
    assert to_session(back) == session
    assert min(c.id for c in back.classes) > 100  # no id of the old workspace is reused
    assert back.queries[0].label == back.classes[1].id
    assert (back.algorithm, back.inner_steps, back.distance, back.head_init) == (
        "maml",
        5,
        "euclidean",
        "proto",
    )
    assert back.open_set is True
    assert back.classes[0].items[0].image.mode == "RGB"


def test_from_session_ignores_settings_outside_their_values():
    png = character_png(0)
    session = SessionData(
        ["a", "b"],
        [[StoredImage("a.png", png)], [StoredImage("b.png", png)]],
        settings={
            "input_kind": "video",
            "algorithm": "knn",
            "inner_steps": 500,
            "inner_lr_scale": -1,
            "head_init": "random",
            "distance": "manhattan",
        },
    )
    ws = from_session(session)
    defaults = Workspace()
    for name in (
        "input_kind",
        "algorithm",
        "inner_steps",
        "inner_lr_scale",
        "head_init",
        "distance",
    ):
        assert getattr(ws, name) == getattr(defaults, name), name


def test_sessions_saved_before_the_start_followed_the_card_load_with_the_cards_start():
    """Old session files carry "first_order" and always wrote head_init "proto", the default
    then: they load with the model's own start; a new file's explicit choice is kept."""
    png = character_png(0)
    support = [[StoredImage("a.png", png)], [StoredImage("b.png", png)]]
    old = SessionData(["a", "b"], support, settings={"first_order": False, "head_init": "proto"})
    assert from_session(old).head_init is None
    assert (
        from_session(SessionData(["a", "b"], support, settings={"head_init": "proto"})).head_init
        == "proto"
    )


def test_suggest_kind_from_how_the_images_look():
    ws = Workspace()
    card = ws.add_class()
    assert suggest_kind(ws) is None
    card.items.append(_item(ws, "c.png", character_png(0)))
    kind, why = suggest_kind(ws)
    assert kind == "character" and why.startswith("1 of your 1 images look like drawn characters")
    card.items += [_item(ws, "p0.png", _photo(0)), _item(ws, "p1.png", _photo(1))]
    kind, why = suggest_kind(ws)
    assert kind == "photo" and why.startswith("2 of your 3 images look like photos")
