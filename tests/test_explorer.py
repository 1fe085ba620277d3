"""The embedding explorer's library: neighbours and distances from the model's own space,
regions, selections, projections (3-D, subsampling said, UMAP repeatable), learning steps,
and its figures."""

from __future__ import annotations

import base64
import copy
import io

import numpy as np
import pytest
import torch
from PIL import Image

from core import protonet
from core.learner import FewShotModel
from lab.embedding import MAX_NONLINEAR_POINTS, project
from lab.explorer import (
    centres_growing,
    from_classifier,
    from_slice,
    maml_steps,
    movement,
    nearest_images,
    region_rows,
    selected_indices,
)
from lab.viz.explorer import explorer_figure, learning_figure, sprite_uri
from tests.app.conftest import character_png


def _images(shapes, variants=3):
    return [[Image.open(io.BytesIO(character_png(s, v))) for v in range(variants)] for s in shapes]


@pytest.fixture(scope="module")
def data(protonet_model):
    """3 classes x 3 drawings: 2 to teach with, 1 to check."""
    return from_slice(protonet_model, ["a", "b", "c"], _images((0, 1, 2)), 2, title="t")


def test_distances_to_centres_are_the_classifiers_own(protonet_model, data):
    support = [data.images[i] for i in range(data.n_support)]
    classifier = protonet_model.adapt(support, data.labels[: data.n_support].tolist())
    np.testing.assert_allclose(
        data.centre_distances(), classifier.distances(data.images), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(data.centres, classifier.trace.prototypes.numpy(), rtol=1e-6)
    assert (
        data.predictions[data.queries].tolist()
        == classifier.predict_proba([data.images[i] for i in data.queries]).argmax(1).tolist()
    )


def test_nearest_images_are_the_nearest_in_the_model_space(data):
    embedded = data.embeddings
    for index in range(len(data.images)):
        found = nearest_images(data, index, k=4)
        assert index not in [j for j, _ in found] and len(found) == 4
        exact = protonet.distances(
            torch.from_numpy(embedded[index : index + 1]), torch.from_numpy(embedded), data.distance
        )[0].numpy()
        others = sorted((d, j) for j, d in enumerate(exact) if j != index)[:4]
        assert [j for j, _ in found] == [j for _, j in others]
        np.testing.assert_allclose([d for _, d in found], [d for d, _ in others], rtol=1e-5)
    # By hand for one pair: squared Euclidean in the embedding space.
    j, d = nearest_images(data, 0, 1)[0]
    assert d == pytest.approx(float(((embedded[0] - embedded[j]) ** 2).sum()), rel=1e-5)
    with pytest.raises(IndexError, match="no image 99"):
        nearest_images(data, 99)


def test_region_rows_and_selection(data):
    rows = region_rows(data, [0, len(data.images) - 1])
    assert [r["image"] for r in rows] == ["a #1", "c #3"]
    assert rows[0]["role"] == "example (support)" and rows[0]["predicted"] == ""
    assert rows[1]["role"] == "to check (query)" and rows[1]["class"] == "c"
    exact = data.centre_distances([0])[0]
    assert [rows[0][f"distance to {n}"] for n in "abc"] == pytest.approx(exact.tolist())
    assert rows[0]["nearest centre"] == "abc"[int(exact.argmin())]
    points = [
        {"customdata": ["query", 1]},
        {"customdata": ["support", 2]},
        {"customdata": ["prototype", 0]},
        {"customdata": ["support", 2]},
        {},
    ]
    assert selected_indices(points, data.n_support) == [2, data.n_support + 1]


def test_maml_data_uses_class_means_and_steps_move(maml_model):
    data = from_slice(maml_model, ["a", "b"], _images((0, 3)), 2, title="m")
    assert data.centre_name == "class mean" and data.distance == "sq_euclidean"
    steps = maml_steps(maml_model, data, inner_steps=3)
    assert steps.embeddings.shape == (4, 6, data.embeddings.shape[1])
    assert steps.centres.shape == (4, 2, data.embeddings.shape[1])
    assert steps.predictions.shape == (4, 2)
    # The last step's embeddings are the adapted classifier's (same loop, same settings).
    again = maml_model.adapt(
        [data.images[i] for i in range(4)], data.labels[:4].tolist(), inner_steps=3
    )
    np.testing.assert_allclose(steps.embeddings[-1], again.embed(data.images), rtol=1e-4, atol=1e-4)
    # The shipped model adapts its classifier only: the images stay, the answers change.
    assert not maml_model.adapts_backbone
    assert movement(steps.embeddings[0], steps.embeddings[-1], steps.centres[-1]) == 0
    assert (steps.predictions[0] != steps.predictions[-1]).any()
    # With step sizes for the network too, every step moves the images.
    card = copy.deepcopy(maml_model.card)
    card["maml"]["lr"] = {k: (v or 0.01) for k, v in card["maml"]["lr"].items()}
    moving = FewShotModel(maml_model.net, card, maml_model.encode)
    assert moving.adapts_backbone
    steps = maml_steps(moving, data, inner_steps=3)
    assert movement(steps.embeddings[0], steps.embeddings[-1], steps.centres[-1]) > 0


def test_centres_growing_end_at_the_prototypes(data):
    growing = centres_growing(data)
    assert growing.shape == (2, 3, data.embeddings.shape[1])
    np.testing.assert_allclose(growing[0], data.embeddings[[0, 2, 4]])
    np.testing.assert_allclose(growing[-1], data.centres, rtol=1e-5, atol=1e-6)


def test_movement_is_relative_to_the_gap_between_classes():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    before = np.zeros((3, 2))
    after = before + np.array([0.0, 1.0])
    assert movement(before, after, centres) == pytest.approx(0.1)


def test_from_slice_checks_shots(protonet_model):
    with pytest.raises(ValueError, match="shots must be 1 to 2"):
        from_slice(protonet_model, ["a", "b"], _images((0, 1)), 3, title="x")


def test_from_classifier_unknown_query_classes(protonet_model):
    support = _images((0, 1), 2)
    images = support[0] + support[1]
    classifier = protonet_model.adapt(images, ["x", "x", "y", "y"])
    query = _images((1,), 1)[0]
    data = from_classifier(
        classifier,
        images,
        ["x", "x", "y", "y"],
        query,
        class_names=["X", "Y"],
        support_names=list("abcd"),
        query_names=["q"],
    )
    assert data.labels.tolist() == [0, 0, 1, 1, -1]
    assert data.misclassified().size == 0  # its class is unknown: never marked wrong


# --- projections ---------------------------------------------------------------------------


@pytest.mark.slow  # UMAP compiles with numba on first use: about a minute
@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_projections_in_3d(method):
    points = np.random.default_rng(0).normal(size=(30, 8))
    result = project(points, method, dims=3)
    assert result.xy.shape == (30, 3) and np.isfinite(result.xy).all()
    assert not result.subsampled and result.note() is None


@pytest.mark.slow  # UMAP's first call compiles with numba (about 25 s): outside the fast tier
def test_umap_is_repeatable_with_a_seed_and_keeps_its_settings():
    points = np.random.default_rng(1).normal(size=(40, 6))
    a = project(points, "umap", n_neighbors=5, min_dist=0.3, seed=3)
    b = project(points, "umap", n_neighbors=5, min_dist=0.3, seed=3)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert a.settings == {"n_neighbors": 5.0, "min_dist": 0.3}


def test_subsampling_is_reported():
    points = np.arange(50 * 4, dtype=float).reshape(50, 4) + np.random.default_rng(2).normal(
        size=(50, 4)
    )
    result = project(points, "tsne", max_points=20)
    assert result.subsampled and len(result.kept) == 20 == len(result.xy)
    assert result.kept[0] == 0 and result.kept[-1] == 49
    assert "20 of the 50 points" in result.note()
    assert len(project(points, "pca", max_points=20).xy) == 50  # PCA draws every point
    assert MAX_NONLINEAR_POINTS >= 1000


def test_projection_settings_and_dims_are_checked():
    points = np.zeros((5, 3))
    with pytest.raises(ValueError, match="tsne has no setting"):
        project(points, "tsne", min_dist=0.1)
    with pytest.raises(ValueError, match="2 or 3 dimensions"):
        project(points, "pca", dims=4)
    with pytest.raises(ValueError, match="unknown projection"):
        project(points, "isomap")


# --- figures ---------------------------------------------------------------------------------


def test_sprite_is_a_framed_png():
    uri = sprite_uri(Image.new("L", (10, 30), 0), "#FF0000", size=20, border=2)
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.size == (20, 20)
    assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert image.convert("RGB").getpixel((10, 10)) == (0, 0, 0)


def test_explorer_figure_thumbnails_3d_and_mistakes(data):
    n = len(data.images)
    xy = np.arange(n * 2, dtype=float).reshape(n, 2)
    centres = np.zeros((3, 2))
    sprites = [sprite_uri(image, "#000000") for image in data.images]
    figure = explorer_figure(data, xy, centres, sprites=sprites)
    assert len(figure.layout.images) == n
    assert figure.layout.images[4].x == xy[4, 0] and figure.layout.images[4].xref == "x"
    xyz = np.arange(n * 3, dtype=float).reshape(n, 3)
    figure_3d = explorer_figure(data, xyz, np.zeros((3, 3)))
    assert {t.type for t in figure_3d.data} == {"scatter3d"}
    with pytest.raises(ValueError, match="positions for"):
        explorer_figure(data, xy[:2], centres)


def test_learning_figure_has_a_frame_per_step(data):
    n, steps = len(data.images), 3
    xy = np.random.default_rng(0).normal(size=(steps, n, 2))
    centres = np.random.default_rng(1).normal(size=(steps, 3, 2))
    predictions = np.zeros((steps, len(data.queries)), dtype=int)
    figure = learning_figure(data, xy, centres, predictions, ["a", "b", "c"])
    assert [f.name for f in figure.frames] == ["0", "1", "2"]
    assert len({len(f.data) for f in figure.frames}) == 1  # same traces in every frame
    assert figure.layout.xaxis.range[0] <= xy[..., 0].min()
    with pytest.raises(ValueError, match="title for each"):
        learning_figure(data, xy, centres, predictions, ["a"])


def test_only_classes_keeps_the_first_classes(data):
    two = data.only_classes(2)
    assert two.class_names == ["a", "b"]
    assert two.names == ["a #1", "a #2", "b #1", "b #2", "a #3", "b #3"]
    assert two.roles.count("support") == 4 and two.centres.shape[0] == 2
    np.testing.assert_array_equal(two.embeddings[0], data.embeddings[0])


def test_pca_basis_maps_other_points_into_the_same_picture():
    from lab.embedding import pca_apply, pca_basis, project_2d

    rng = np.random.default_rng(4)
    last = rng.normal(size=(12, 5))
    basis = pca_basis(last)
    np.testing.assert_allclose(pca_apply(last, basis), project_2d(last), atol=1e-12)
    moved = last + np.array([1.0, 0, 0, 0, 0])  # a shift in the space is a shift in the picture
    shift = pca_apply(moved, basis) - pca_apply(last, basis)
    np.testing.assert_allclose(shift, np.tile(basis[1][:, 0], (12, 1)), atol=1e-12)


def test_benchmark_slices_name_the_missing_folder(tmp_path):
    from core.data import DatasetMissing
    from lab.slices import omniglot_test_slice, photo_test_slice

    with pytest.raises(DatasetMissing, match=str(tmp_path / "omniglot")):
        omniglot_test_slice(root=tmp_path / "omniglot")
    with pytest.raises(DatasetMissing):
        photo_test_slice(root=tmp_path / "miniimagenet")


def test_omniglot_slice_is_seeded_and_from_the_test_split(omniglot_root):
    from lab.slices import omniglot_test_slice

    names, images = omniglot_test_slice(n_characters=3, drawings=4, root=omniglot_root)
    assert len(names) == len(set(names)) == 3
    assert [len(per_class) for per_class in images] == [4, 4, 4]
    again, _ = omniglot_test_slice(n_characters=3, drawings=4, root=omniglot_root)
    other, _ = omniglot_test_slice(n_characters=3, drawings=4, seed=1, root=omniglot_root)
    assert again == names != other
    test_split = (omniglot_root / "splits" / "vinyals" / "test.txt").read_text()
    alphabets = {line.split("/")[0] for line in test_split.splitlines() if line.strip()}
    assert all(any(name.startswith(a.replace("_", " ")) for a in alphabets) for name in names), (
        names
    )
