"""The example lessons of "Try an example" (lab.examples): what they hold, where it comes
from, and how well the shipped ProtoNets classify their check images."""

from __future__ import annotations

import io
import socket
from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from core.images import decode_image, omniglot_array
from lab import examples
from lab.examples import (
    CHECKS_PER_CLASS,
    HANDWRITING_CHARACTERS,
    SUPPORT_PER_CLASS,
    TEXTURES,
    ExampleMissing,
    handwriting_lesson,
    handwriting_missing,
    textures_lesson,
    tile_boxes,
)
from lab.workspace import from_session, suggest_kind


@pytest.fixture(scope="module")
def handwriting(omniglot_root):
    return handwriting_lesson(omniglot_root)


@pytest.fixture(scope="module")
def textures():
    return textures_lesson()


def all_names(lesson) -> list[str]:
    return [i.name for images in lesson.support for i in images] + [
        i.name for i, _ in lesson.checks
    ]


def check_shape(lesson) -> None:
    """3 classes, SUPPORT_PER_CLASS images each, CHECKS_PER_CLASS checks per class, every
    name different and saying its class."""
    assert len(lesson.class_names) == 3
    assert [len(images) for images in lesson.support] == [SUPPORT_PER_CLASS] * 3
    assert sorted(label for _, label in lesson.checks) == sorted(
        [c for c in range(3)] * CHECKS_PER_CLASS
    )
    names = all_names(lesson)
    assert len(set(names)) == len(names)
    for image, label in lesson.checks:
        slug = lesson.class_names[label].lower().replace(" ", "-")
        assert image.name.startswith(f"{slug}-check-")


# --- handwriting ---------------------------------------------------------------------------


def test_handwriting_classes_are_characters_of_test_alphabets(handwriting, omniglot_root):
    split = omniglot_root / "splits" / "vinyals"
    test = {line.strip() for line in (split / "test.txt").read_text().splitlines()}
    seen_in_training = (split / "train.txt").read_text() + (split / "val.txt").read_text()
    for character in HANDWRITING_CHARACTERS:
        assert f"{character}/rot000" in test
        alphabet = character.split("/")[0]
        assert f"{alphabet}/" not in seen_in_training  # the whole alphabet is new
    assert handwriting.class_names == ["Tengwar 10", "Tibetan 1", "Mongolian 8"]
    assert handwriting.input_kind == "character"
    check_shape(handwriting)


def test_handwriting_images_are_the_test_splits_drawings(handwriting, omniglot_test):
    """Support = drawings 0-4 of each character (rotation 0) in core.data's order, checks =
    drawings 5 and 6: the same pixels the benchmark reads, so no two are the same drawing."""
    for label, character in enumerate(HANDWRITING_CHARACTERS):
        row = omniglot_test.classes.index(f"{character}/rot000")
        expected = omniglot_test.data[row].numpy() / 255.0  # (20, 28, 28), ink = 1
        support = [omniglot_array(image.image) for image in handwriting.support[label]]
        checks = [omniglot_array(im.image) for im, true in handwriting.checks if true == label]
        for k, array in enumerate(support + checks):
            np.testing.assert_allclose(array, expected[k], atol=1 / 255 + 1e-6)
        assert all(not np.array_equal(s, c) for s in support for c in checks)


def test_handwriting_missing_says_where_it_looked(tmp_path):
    message = handwriting_missing(tmp_path)
    assert message is not None
    assert str(tmp_path) in message and "images_evaluation.zip" in message
    with pytest.raises(ExampleMissing, match="looked for in"):
        handwriting_lesson(tmp_path)


def test_handwriting_is_available_where_omniglot_is(omniglot_root):
    assert handwriting_missing(omniglot_root) is None


def test_an_incomplete_omniglot_folder_is_named(tmp_path):
    folder = tmp_path / "images_evaluation" / HANDWRITING_CHARACTERS[0]
    folder.mkdir(parents=True)
    for k in range(3):
        Image.new("L", (105, 105), 255).save(folder / f"0001_{k:02d}.png")
    with pytest.raises(ExampleMissing, match=r"needs 7 drawings of Tengwar/character10.*found 3"):
        handwriting_lesson(tmp_path)


# --- textures ------------------------------------------------------------------------------


def test_tile_boxes_do_not_overlap_and_fit():
    boxes = tile_boxes()
    assert len(boxes) == 9
    for left, top, right, bottom in boxes:
        assert 0 <= left < right <= 512 and 0 <= top < bottom <= 512
        assert (right - left, bottom - top) == (170, 170)
    for a, b in combinations(boxes, 2):
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, (a, b)


def test_textures_are_rgb_crops_of_each_photo_none_shared(textures):
    assert textures.class_names == list(TEXTURES)
    assert textures.input_kind == "photo"
    check_shape(textures)
    boxes = tile_boxes()
    for label, name in enumerate(TEXTURES):
        photo = np.asarray(examples.texture_photo(name))
        crops = [i.image for i in textures.support[label]]
        crops += [i.image for i, true in textures.checks if true == label]
        assert all(c.mode == "RGB" and c.size == (170, 170) for c in crops)
        for crop, (left, top, right, bottom) in zip(crops, boxes, strict=False):
            np.testing.assert_array_equal(np.asarray(crop), photo[top:bottom, left:right])
        pixels = [np.asarray(c).tobytes() for c in crops]
        assert len(set(pixels)) == len(pixels)


def test_textures_load_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    lesson = textures_lesson()
    assert sum(len(images) for images in lesson.support) == 15


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="no example for 'audio'"):
        examples.lesson("audio")


# --- into a workspace, and classified -------------------------------------------------------


@pytest.mark.parametrize("which", ["handwriting", "textures"])
def test_a_lesson_becomes_a_workspace_with_labelled_checks(which, request):
    lesson = request.getfixturevalue(which)
    ws = from_session(lesson.to_session(), first_id=10)
    assert [card.name for card in ws.classes] == lesson.class_names
    assert [len(card.items) for card in ws.classes] == [SUPPORT_PER_CLASS] * 3
    assert [q.name for q in ws.queries] == [image.name for image, _ in lesson.checks]
    assert [ws.names((q.label,))[0] for q in ws.queries] == [
        lesson.class_names[label] for _, label in lesson.checks
    ]
    assert (ws.input_kind, ws.algorithm) == (lesson.input_kind, "protonet")
    assert ws.not_ready() is None
    # The app's own guess agrees, so Teach shows no "Suggested: ..." warning.
    assert suggest_kind(ws)[0] == lesson.input_kind


def classify(model_name: str, lesson) -> tuple[int, int]:
    """(right, total) over the lesson's check images, with images decoded from the bytes the
    workspace holds, as the app classifies them."""
    from core import load_model

    session = lesson.to_session()
    images = [decode_image(s.data, s.name) for stored in session.support for s in stored]
    labels = [c for c, stored in enumerate(session.support) for _ in stored]
    classifier = load_model(model_name).adapt(images, labels)
    queries = [decode_image(s.data, s.name) for s in session.queries]
    predicted = np.asarray(classifier.classes)[classifier.predict_proba(queries).argmax(1)]
    truth = np.array([label for _, label in lesson.checks])
    return int((predicted == truth).sum()), len(truth)


def test_omniglot_protonet_gets_the_handwriting_checks_right(handwriting):
    right, total = classify("omniglot-protonet", handwriting)
    assert total == 6
    assert right >= 5  # measured: 6 of 6


def test_photo_protonet_gets_the_texture_checks_right(textures):
    right, total = classify("photo-protonet", textures)
    assert total == 6
    assert right >= 5  # measured: 6 of 6


def test_png_bytes_decode_to_the_same_pixels(textures):
    image = textures.support[0][0]
    decoded = Image.open(io.BytesIO(image.png()))
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(image.image))
