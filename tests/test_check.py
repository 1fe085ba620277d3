"""lab.check: per-class accuracy, the confusion matrix and its cells, the least-sure images
(hand-computed values), and true classes from folders and file names."""

from __future__ import annotations

import numpy as np
import pytest

from lab.check import ClassAccuracy, check, known_classes

# Six images of three classes. Answers (argmax) and top probabilities:
#   0: true 0, answered 0 (0.70)     3: true 1, answered 0 (0.45)
#   1: true 0, answered 1 (0.60)     4: true 2, answered 2 (0.50)
#   2: true 1, answered 1 (0.80)     5: true 2, answered 2 (0.80)
TRUTH = [0, 0, 1, 1, 2, 2]
PROBABILITIES = np.array(
    [
        [0.70, 0.20, 0.10],
        [0.30, 0.60, 0.10],
        [0.10, 0.80, 0.10],
        [0.45, 0.40, 0.15],
        [0.20, 0.30, 0.50],
        [0.10, 0.10, 0.80],
    ]
)


def test_the_confusion_matrix_counts_true_rows_against_answered_columns():
    result = check(TRUTH, PROBABILITIES)
    assert result.confusion.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 2]]
    assert result.predicted.tolist() == [0, 1, 1, 0, 2, 2]
    assert result.cells[0][0] == (0,)
    assert result.cells[0][1] == (1,)
    assert result.cells[1][0] == (3,)
    assert result.cells[1][1] == (2,)
    assert result.cells[2][2] == (4, 5)
    assert result.cells[2][0] == () and result.cells[0][2] == ()
    assert (result.right, result.total) == (4, 6)
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.mistakes() == [(0, 1), (1, 0)]


def test_per_class_accuracy_is_right_over_images_of_that_true_class():
    result = check(TRUTH, PROBABILITIES)
    assert result.per_class == (
        ClassAccuracy(images=2, right=1),
        ClassAccuracy(images=2, right=1),
        ClassAccuracy(images=2, right=2),
    )
    assert [c.accuracy for c in result.per_class] == [0.5, 0.5, 1.0]


def test_least_sure_are_the_lowest_top_probabilities_first():
    result = check(TRUTH, PROBABILITIES, least_sure=3)
    assert result.top_probability.tolist() == pytest.approx([0.7, 0.6, 0.8, 0.45, 0.5, 0.8])
    assert result.least_sure == (3, 4, 1)
    assert check(TRUTH, PROBABILITIES, least_sure=10).least_sure == (3, 4, 1, 0, 2, 5)
    assert check(TRUTH, PROBABILITIES, least_sure=0).least_sure == ()


def test_ties_in_top_probability_keep_the_image_order():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.4, 0.6], [0.6, 0.4]])
    assert check([0, 0, 1, 1], probabilities, least_sure=3).least_sure == (1, 2, 3)


def test_given_answers_are_counted_instead_of_the_argmax():
    # Image 3's answer given as class 1 (a table's "predicted" column): its top probability
    # is then p(class 1) = 0.40, and it counts as right.
    result = check(TRUTH, PROBABILITIES, predicted=[0, 1, 1, 1, 2, 2], least_sure=1)
    assert result.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 2]]
    assert result.least_sure == (3,)
    assert result.top_probability[3] == pytest.approx(0.40)


def test_a_class_without_check_images_has_no_accuracy():
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
    result = check([0, 0], probabilities)
    assert result.per_class[2] == ClassAccuracy(images=0, right=0)
    assert result.per_class[2].accuracy is None
    assert result.per_class[0].accuracy == 0.5
    assert result.confusion.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 0]]


def test_a_permutation_of_the_images_permutes_the_cells():
    order = np.array([5, 3, 0, 1, 4, 2])
    result = check(np.array(TRUTH)[order], PROBABILITIES[order])
    assert result.confusion.tolist() == check(TRUTH, PROBABILITIES).confusion.tolist()
    assert [int(order[i]) for i in result.cells[2][2]] == [5, 4]


@pytest.mark.parametrize(
    ("truth", "probabilities", "predicted", "message"),
    [
        ([], np.zeros((0, 2)), None, "no image"),
        ([0, 1], np.ones((3, 2)) / 2, None, "2 true classes for 3 rows"),
        ([0, 2], np.ones((2, 2)) / 2, None, "class indices 0 to 1, got 2"),
        ([0, -1], np.ones((2, 2)) / 2, None, "got -1"),
        ([0, 1], np.ones((2, 2)) / 2, [0], "1 predicted classes for 2 rows"),
        ([0], np.ones(2), None, "must be (images, classes)"),
    ],
)
def test_bad_input_is_named(truth, probabilities, predicted, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(truth, probabilities, predicted)


CLASSES = ["cat", "dog", "catfish", "class 2"]


def test_true_classes_come_from_the_nearest_matching_folder():
    found, how = known_classes(
        [
            "animals.zip/cat/1.jpg",
            "animals.zip/Dog/x/2.jpg",  # x is no class; Dog is, case ignored
            "animals.zip/dog/cat/3.jpg",  # the nearest folder wins
            "CAT.ZIP/4.jpg",  # the zip's own name, without .zip
            "animals.zip/class_2/5.png",  # _ is a space
            "animals.zip/dog/catfish7.jpg",  # a folder beats the file name
        ],
        CLASSES,
    )
    assert found == [0, 1, 0, 0, 3, 1]
    assert how == ["folder"] * 6


def test_true_classes_come_from_the_file_name_when_no_folder_matches():
    found, how = known_classes(
        ["Cat_3.jpg", "catfish1.jpg", "class-2.b.png", "other/dog.png", "bird.png", "ca.png"],
        CLASSES,
    )
    assert found == [0, 2, 3, 1, None, None]
    assert how == ["file name"] * 4 + ["", ""]


def test_no_class_names_means_nothing_is_known():
    assert known_classes(["a/b.png"], []) == ([None], [""])
