"""Home: the one-sentence pitch, three ways in (with an example lesson for each kind of
image), and nothing heavy loaded."""

from __future__ import annotations

from tests.app.conftest import workspace


def test_home_explains_and_offers_three_choices(app):
    assert app.title[0].value == "Few-Shot Lab"
    assert "Few-shot learning" in app.markdown[0].value
    labels = [b.label for b in app.button]
    assert labels == [
        "Start with handwriting",
        "Try an example: handwriting",
        "Start with photos",
        "Try an example: photos",
        "Read how it works",
    ]


def test_handwriting_choice_opens_teach_with_two_empty_classes(app):
    app.button(key="home_handwriting").click().run()
    assert not app.exception
    assert app.title[0].value == "Teach & classify"
    assert len(workspace(app).classes) == 2
    assert workspace(app).input_kind == "character"
    assert any("at least one image to each class" in i.value for i in app.info)


def test_how_it_works_choice(app):
    app.button(key="home_how").click().run()
    assert not app.exception
    assert app.title[0].value == "How it works"
