"""Tests of the photo pipeline (core.encoders, core.features, core.training.heads): the
ImageNet backbone (weights mapped by name, real top-1 classes),
the per-image feature cache, the feature head's stored normalisation, the dataset feature
cache used by core.evaluate, and the shipped photo models on real mini-ImageNet test
episodes (the first 60 photos of each class, 600 episodes, floors near the documented figures).
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data as samples

from core import features, load_model
from core.checkpoints import load_checkpoint, models_dir, save_checkpoint
from core.data import first_images, image_folder, load_dataset
from core.encoders import build_encoder, efficientnet, photo
from core.evaluate import EvalConfig, evaluate
from core.images import photo_array
from core.learner import FewShotModel
from core.networks import FeatureHead, build_network
from core.training.config import HeadConfig
from core.training.heads import head_trainer, initial_projection

PHOTO_MODELS = ("photo-protonet", "photo-maml")


@pytest.fixture(scope="module")
def cat_and_coffee() -> list[Image.Image]:
    return [Image.fromarray(samples.chelsea()), Image.fromarray(samples.coffee())]


# ----------------------------------------------------------------------------------------------
# Backbone


def test_shipped_weights_map_onto_timm_by_name_not_position():
    import timm

    shipped = torch.load(efficientnet.weights_path(), map_location="cpu", weights_only=True)
    net = timm.create_model(efficientnet.BACKBONE, pretrained=False)
    blocks = [f"blocks.{s}.{i}" for s, stage in enumerate(net.blocks) for i in range(len(stage))]
    renamed = efficientnet.timm_state_dict(shipped, blocks)
    expected = net.state_dict()
    assert len(shipped) == len(renamed) == len(expected) == 296
    assert {k: tuple(v.shape) for k, v in renamed.items()} == {
        k: tuple(v.shape) for k, v in expected.items()
    }
    # Spot checks of the naming rules: first (separable) block, an inverted residual, top.
    assert renamed["blocks.0.0.conv_pw.weight"] is shipped["_blocks.0._project_conv.weight"]
    assert renamed["blocks.1.0.conv_pw.weight"] is shipped["_blocks.1._expand_conv.weight"]
    assert renamed["blocks.6.0.conv_pwl.weight"] is shipped["_blocks.15._project_conv.weight"]
    assert renamed["classifier.bias"] is shipped["_fc.bias"]
    # Shuffling the shipped order changes nothing: keys are mapped by name.
    items = list(shipped.items())
    random.Random(0).shuffle(items)
    shuffled = efficientnet.timm_state_dict(dict(items), blocks)
    assert all(shuffled[k] is renamed[k] for k in renamed)


def test_unknown_shipped_key_is_named():
    with pytest.raises(ValueError, match="_blocks.0._mystery.weight"):
        efficientnet.timm_state_dict({"_blocks.0._mystery.weight": torch.zeros(1)}, ["blocks.0.0"])


def test_imagenet_top1_of_sample_photos(cat_and_coffee):
    logits = photo.imagenet_logits(cat_and_coffee)
    top1 = logits.argmax(-1).tolist()
    assert top1[0] in (281, 282, 285)  # tabby, tiger cat, Egyptian cat
    assert top1[1] in (967, 968)  # espresso, cup
    assert float(logits.softmax(-1)[1].max()) > 0.5  # the espresso is not a near tie


def test_both_backbone_networks_take_the_weights_and_differ_only_in_padding_and_eps():
    """`tf_efficientnet_lite0` computes as TensorFlow did where the weights were trained: TF
    "same" padding pads a stride-2 3x3 convolution of a 224 input on the right and bottom
    only; it is the default (val's choice). `efficientnet_lite0` pads symmetrically, which
    shifts every sampled window by a pixel, and uses batch-norm epsilon 1e-5."""
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    tf_net = efficientnet.load_backbone()
    torch_net = efficientnet.load_backbone("efficientnet_lite0")
    assert efficientnet.BACKBONE == "tf_efficientnet_lite0"
    assert tf_net.bn1.eps == pytest.approx(1e-3) and torch_net.bn1.eps == pytest.approx(1e-5)
    assert torch.equal(tf_net.conv_stem.weight, torch_net.conv_stem.weight)
    with torch.no_grad():
        tf_same = F.conv2d(F.pad(x, (0, 1, 0, 1)), tf_net.conv_stem.weight, stride=2)
        symmetric = F.conv2d(x, tf_net.conv_stem.weight, stride=2, padding=1)
        torch.testing.assert_close(tf_net.conv_stem(x), tf_same, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch_net.conv_stem(x), symmetric, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(tf_same, symmetric, atol=1e-3)
    with pytest.raises(ValueError, match="unknown photo backbone 'resnet18'"):
        efficientnet.load_backbone("resnet18")


def test_imagenet_top1_of_sample_photos_with_the_pytorch_style_network_too(cat_and_coffee):
    top1 = photo.imagenet_logits(cat_and_coffee, network="efficientnet_lite0").argmax(-1)
    assert top1[0] in (281, 282, 285) and top1[1] in (967, 968)


def test_features_are_the_same_for_a_photo_and_its_mirror_image(cat_and_coffee):
    cat = cat_and_coffee[0]
    mirrored = cat.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    rows = photo.PhotoEncoder(cache_items=0)([cat, mirrored])
    torch.testing.assert_close(rows[0], rows[1], atol=1e-4, rtol=1e-4)
    plain = efficientnet.load_backbone()
    with torch.inference_mode():
        one_view = plain.forward_head(
            plain.forward_features(photo.photo_batch([cat])), pre_logits=True
        )
    assert (one_view[0] - rows[0]).abs().max() > 1e-2  # the mean of two views, not one


# ----------------------------------------------------------------------------------------------
# Encoder


def test_encoder_caches_per_image_and_rows_do_not_depend_on_the_batch(cat_and_coffee):
    encoder = photo.PhotoEncoder(cache_items=1)
    cat, coffee = cat_and_coffee
    together = encoder([cat, coffee])
    assert together.shape == (2, efficientnet.FEATURE_DIM) and together.dtype == torch.float32
    assert (encoder.hits, encoder.misses) == (0, 2)
    again = encoder([coffee])  # the one kept by the 1-item LRU
    assert (encoder.hits, encoder.misses) == (1, 2)
    assert torch.equal(again[0], together[1])
    alone = photo.PhotoEncoder(cache_items=0)([cat])  # computed alone, no cache
    torch.testing.assert_close(alone[0], together[0], atol=1e-4, rtol=1e-4)
    assert photo.image_key(cat) == photo.image_key(cat.copy()) != photo.image_key(coffee)
    assert encoder([]).shape == (0, efficientnet.FEATURE_DIM)


def test_a_crop_view_keeps_the_centre_of_the_fitted_square():
    """A 100x60 photo: its centred 60x60 square is fitted, and crop 0.5 keeps the middle
    30x30 of that. Blue inside, red around, so each view's colours tell what it kept."""
    pixels = np.zeros((60, 100, 3), np.uint8)
    pixels[...] = (255, 0, 0)
    pixels[15:45, 35:65] = (0, 0, 255)
    image = Image.fromarray(pixels)
    whole, centre = photo_array(image, 32), photo_array(image, 32, crop=0.5)
    blue = (np.array([0, 0, 255], np.float32) - 127) / 128
    assert np.allclose(centre[:, 2:-2, 2:-2], blue[:, None, None], atol=0.05)
    assert np.allclose(whole[:, 0, 0], (np.array([255, 0, 0]) - 127) / 128, atol=0.05)
    with pytest.raises(ValueError, match="crop"):
        photo_array(image, 32, crop=0.0)


def test_a_feature_is_the_mean_over_its_crop_views(cat_and_coffee):
    both = photo.PhotoEncoder(crops=(1.0, 0.8), cache_items=0)
    rows = both(cat_and_coffee)
    whole = photo.PhotoEncoder(cache_items=0)(cat_and_coffee)
    close = photo.PhotoEncoder(crops=(0.8,), cache_items=0)(cat_and_coffee)
    torch.testing.assert_close(rows, 0.5 * (whole + close), atol=1e-5, rtol=1e-5)
    assert (whole - close).abs().max() > 1e-2  # the views differ
    rebuilt = build_encoder(both.spec())
    assert rebuilt.crops == (1.0, 0.8) and rebuilt.size == both.size


def test_dataset_features_average_views_cached_one_by_one(tmp_path, monkeypatch):
    monkeypatch.setenv("FEWSHOT_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(1)
    for c in range(2):
        (tmp_path / "photos" / f"class{c}").mkdir(parents=True)
        for i in range(2):
            pixels = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / f"class{c}" / f"{i}.png")
    dataset = image_folder(tmp_path / "photos")
    whole = features.dataset_features(dataset, 64, progress=False)
    assert features.cache_path(dataset, 64).exists()
    assert not features.cache_path(dataset, 64, 0.7).exists()
    both = features.dataset_features(dataset, 64, crops=(1.0, 0.7), progress=False)
    assert features.cache_path(dataset, 64, 0.7).exists()
    images = [dataset.images(c, [i])[0] for c in range(2) for i in range(2)]
    encoded = photo.PhotoEncoder(64, crops=(1.0, 0.7), cache_items=0)(images)
    torch.testing.assert_close(torch.cat(both), encoded, atol=1e-4, rtol=1e-4)
    assert (torch.cat(both) - torch.cat(whole)).abs().max() > 1e-3
    assert features.views_key(64, (1.0,)) == features.features_key(64)  # older caches stay valid
    assert features.views_key(64, (1.0, 0.7)).count(",") == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"size": 8}, "size"),
        ({"weights": "other"}, "other"),
        ({"features": 512}, "512"),
        ({"crops": ()}, "crops"),
        ({"crops": (1.0, 1.5)}, "crops"),
        ({"crops": (0.8, 0.8)}, "distinct"),
    ],
)
def test_encoder_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        photo.PhotoEncoder(**options)


# ----------------------------------------------------------------------------------------------
# Head


def test_feature_head_centres_and_normalises_with_stored_vectors(tmp_path):
    spec = {
        "type": "feature_head",
        "in_features": 2,
        "out_features": 2,
        "hidden": 0,
        "center": True,
        "normalize": True,
    }
    head = build_network(spec)
    assert isinstance(head, FeatureHead)
    with torch.no_grad():
        head.center.copy_(torch.tensor([1.0, 1.0]))
        head.net.weight.copy_(torch.eye(2))
        head.net.bias.zero_()
    # (4, 5) - (1, 1) = (3, 4), unit norm (0.6, 0.8)
    torch.testing.assert_close(head(torch.tensor([[4.0, 5.0]])), torch.tensor([[0.6, 0.8]]))
    save_checkpoint(
        head, {"name": "h", "algorithm": "protonet", "input": "photo", "network": spec}, tmp_path
    )
    loaded, _ = load_checkpoint("h", tmp_path)
    assert torch.equal(loaded.center, torch.tensor([1.0, 1.0]))  # in the weights, not the card
    assert "center" not in FeatureHead(2, 2).state_dict()  # off by default, as before
    unit = FeatureHead(2, 2, normalize_output=True, scale=3.0)
    torch.testing.assert_close(unit(torch.tensor([[4.0, 5.0]])).norm(dim=-1), torch.tensor([3.0]))
    assert "scale" in dict(unit.named_parameters())  # a temperature learned with the head


def test_feature_head_power_transform_comes_before_centring():
    head = FeatureHead(2, 2, center=True, power=0.5)
    with torch.no_grad():
        head.center.copy_(torch.tensor([1.0, 0.0]))
        head.net.weight.copy_(torch.eye(2))
        head.net.bias.zero_()
    # sign(v)|v|^0.5: (16, -9) -> (4, -3), minus the centre (1, 0) -> (3, -3)
    torch.testing.assert_close(head(torch.tensor([[16.0, -9.0]])), torch.tensor([[3.0, -3.0]]))
    assert torch.equal(FeatureHead(2, 2).powered(torch.tensor([2.0])), torch.tensor([2.0]))
    spec = {"type": "feature_head", "in_features": 2, "out_features": 2, "power": 0.75}
    assert build_network(spec).power == 0.75
    with pytest.raises(ValueError, match="power"):
        FeatureHead(2, 2, power=0.0)


def test_imagenet_svd_init_reproduces_centred_logit_geometry():
    config = HeadConfig(out_features=1000)
    projection = initial_projection(config, torch.Generator().manual_seed(0))
    classifier = efficientnet.load_backbone().classifier.weight.detach()
    centred = torch.randn(6, efficientnet.FEATURE_DIM, generator=torch.Generator().manual_seed(1))
    # Same Gram matrix as the ImageNet logits (up to float error): U is orthonormal.
    torch.testing.assert_close(
        (centred @ projection.T) @ (centred @ projection.T).T,
        (centred @ classifier.T) @ (centred @ classifier.T).T,
        rtol=1e-3,
        atol=1e-2,
    )
    with pytest.raises(ValueError, match="1200"):
        head_trainer(HeadConfig(out_features=1200), "test")


# ----------------------------------------------------------------------------------------------
# Dataset features and core.evaluate


def test_evaluate_gives_the_same_result_from_cached_features(tmp_path, monkeypatch):
    monkeypatch.setenv("FEWSHOT_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    for c, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        folder = tmp_path / "photos" / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(3):
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (24, 24, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i}.png")
    dataset = image_folder(tmp_path / "photos")
    model = load_model("photo-protonet")
    config = EvalConfig(
        "photo-protonet", str(tmp_path / "photos"), ways=3, shots=1, queries=2, episodes=4, seed=0
    )
    # 4 episodes draw 36 images >= half of the 9: the features are computed and cached.
    path = features.cache_path(dataset, network=model.card["encoder"]["type"])
    assert not path.exists()
    cached = evaluate(config, model)
    assert path.exists()
    per_episode = evaluate(config, FewShotModel(model.net, model.card, lambda x: model.encode(x)))
    assert cached["accuracy"] == per_episode["accuracy"] == 100.0


def test_cached_features_follow_the_bytes_not_the_file_times(tmp_path):
    """A fresh copy of the same data (new modification times) must find the features
    computed before (they take most of an hour for mini-ImageNet); a changed byte must not."""
    folder = tmp_path / "photos"
    for c in range(2):
        (folder / f"class{c}").mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (40 * c, 90 * i, 7)).save(folder / f"class{c}" / f"{i}.png")
    before = features.cache_path(image_folder(folder))
    touched = folder / "class1" / "0.png"
    os.utime(touched, (1e9, 1e9))
    assert features.cache_path(image_folder(folder)) == before
    Image.new("RGB", (8, 8), (41, 0, 7)).save(touched)
    assert features.cache_path(image_folder(folder)) != before


def test_a_head_run_is_not_resumed_over_other_backbone_features(tmp_path, monkeypatch):
    """The config alone cannot tell features apart: a run made over another backbone or
    preprocessing must not continue (or be written out) as if over these."""
    config = HeadConfig(run_dir=str(tmp_path / "run"))
    first = head_trainer(config, "test")
    first.run_dir.mkdir()
    first.save_state()
    assert head_trainer(config, "test").try_resume()  # same features: resumes
    monkeypatch.setattr(efficientnet, "PREPROCESSING", "another-preprocessing")
    with pytest.raises(SystemExit, match="inputs"):
        head_trainer(config, "test").try_resume()


def test_a_head_is_not_started_from_a_model_made_over_other_views():
    """photo-maml starts from photo-protonet's head, centre included: over other views its
    centre is another distribution's mean, so the run is refused before it starts."""
    config = HeadConfig(algorithm="maml", init_from="photo-protonet", power=0.75, crops=(0.5,))
    with pytest.raises(ValueError, match="--crops"):
        head_trainer(config, "test")


# ----------------------------------------------------------------------------------------------
# Shipped photo models


@pytest.mark.parametrize("name", PHOTO_MODELS)
def test_photo_cards_describe_backbone_head_caveat_and_metrics(name):
    card = json.loads((models_dir() / f"{name}.json").read_text())
    assert card["input"] == "photo"
    assert card["network"]["type"] == "feature_head" and card["network"]["center"]
    assert card["encoder"]["type"] == efficientnet.BACKBONE
    assert build_encoder(card["encoder"]).spec() == card["encoder"]  # every option recorded
    assert "ImageNet-1k" in card["caveat"] and "49.4" in card["caveat"]
    assert card["training"]["command"].startswith("python -m core.photo train")
    for setting in ("5w1s", "5w5s"):  # on all test photos, or on a stated first N of each class
        keys = [
            k
            for k in card["metrics"]
            if re.fullmatch(rf"miniimagenet/test(-first\d+)? {setting}", k)
        ]
        assert keys, card["metrics"].keys()
        assert all(
            card["metrics"][k]["command"].startswith("python -m core.evaluate") for k in keys
        )
    assert (models_dir() / f"{name}.safetensors").stat().st_size < 5_000_000


def test_photo_maml_serves_any_ways_uneven_shots_and_ignores_class_order(first60):
    """Real test features (the first-60 fixture): 2 and 20 classes with 1 to 3 shots each;
    the answer does not depend on the class order, and it is mostly right (2-way 95% and
    20-way 73% when written; chance is 50% and 5%)."""
    _, table = first60
    rows = next(v for k, v in table.items() if len(k) == 2)  # the model's two views
    model = load_model("photo-maml")
    generator = torch.Generator().manual_seed(0)
    for ways, floor in ((2, 0.9), (20, 0.6)):
        shots = [1 + (k % 3) for k in range(ways)]  # uneven
        labels = torch.tensor([k for k in range(ways) for _ in range(shots[k])])
        support = torch.cat([rows[k][: shots[k]] for k in range(ways)])
        queries = torch.cat([rows[k][10:20] for k in range(ways)])
        truth = np.repeat(np.arange(ways), 10)
        order = torch.randperm(ways, generator=generator)  # class k becomes class rank[k]
        rank = torch.argsort(order)
        first = model.adapt_tensors(support, labels, list(range(ways)))
        second = model.adapt_tensors(support, rank[labels], list(range(ways)))
        probs = first.predict_proba_tensors(queries)
        permuted = second.predict_proba_tensors(queries)
        np.testing.assert_allclose(permuted[:, rank.numpy()], probs, atol=1e-5)
        assert (probs.argmax(1) == truth).mean() >= floor, ways
        losses = [record.support_loss for record in first.trace]
        assert losses[0] == pytest.approx(np.log(ways), rel=1e-5) and losses[-1] < 0.2 * losses[0]


# The first 60 photos of each mini-ImageNet test class (1200), the protocol of
# `python -m scripts.frozen_baseline --first 60 --episodes 600 --model photo-protonet`
# (docs/results/photo/frozen_baseline_first60.jsonl): features of all 12,000 test photos take
# too long for CI. 5-way, 15 queries, seed 0, 600 episodes: the script's episodes exactly.
FIRST, EPISODES = 60, 600
# shots -> photo-protonet's figure on those episodes (mean, ci95), and the frozen features'
# best (centred on the train mean, L2-normalised), from that file.
# photo-maml (the zero-head model, 20 inner steps at its step sizes x0.25, chosen on val):
# docs/results/photo-maml-v2/eval-test-first60.jsonl (its 5 steps at x1 had 87.61 / 96.04).
FIRST60 = {
    "photo-protonet": {1: (87.60, 0.63), 5: (95.89, 0.23)},
    "photo-maml": {1: (87.62, 0.63), 5: (96.05, 0.24)},
}
FROZEN_FIRST60 = {1: 82.82, 5: 94.17}


@pytest.fixture(scope="session")
def first60(miniimagenet_root):
    """(the first-60 dataset, its features: {crops: (M_c, 1280) per class}).

    The features go to the project's feature cache (core.features, keyed by the files'
    bytes), so they are computed once (about 2 min on 2 CPU threads) and later sessions
    read them.
    """
    data = first_images(load_dataset("miniimagenet", "test"), FIRST)
    assert data.name == "miniimagenet/test-first60"  # the name its cached features carry
    encoder = load_model("photo-protonet").encode
    crops, network = tuple(encoder.crops), encoder.network
    two_views = features.dataset_features(data, crops=crops, progress=False, network=network)
    one_view = features.dataset_features(data, crops=(1.0,), progress=False, network=network)
    return data, {crops: two_views, (1.0,): one_view}


@pytest.fixture(scope="session")
def frozen_first60(first60):
    """shots -> {frozen variant: accuracy} on the same episodes, nearest prototype of the
    backbone's features with no trained head. scripts.frozen_baseline centres on the mean
    of all 38,400 train features, too slow to compute in CI; here: L2-normalised, centred
    on the mean of these 1200 photos (label-free), and the two views as the heads see them
    before their projection (power, centred on the head's stored train mean)."""
    _, table = first60
    head = load_model("photo-protonet").net
    one_view, two_views = table[(1.0,)], next(v for k, v in table.items() if len(k) == 2)
    sample_mean = torch.cat(one_view).mean(0)
    variants = {
        "l2": (one_view, lambda x: F.normalize(x, dim=-1)),
        "centred_on_sample_l2": (one_view, lambda x: F.normalize(x - sample_mean, dim=-1)),
        "two_views_head_input": (
            two_views,
            lambda x: F.normalize(head.powered(x) - head.center, dim=-1),
        ),
    }
    return {
        shots: {
            name: features.prototype_accuracy(features.FeatureTable(rows), shots, EPISODES, embed)[
                0
            ]
            for name, (rows, embed) in variants.items()
        }
        for shots in (1, 5)
    }


@pytest.mark.parametrize("shots", [1, 5])
@pytest.mark.parametrize("name", PHOTO_MODELS)
def test_shipped_photo_model_beats_frozen_features_on_test_episodes(
    name, shots, first60, frozen_first60
):
    """Floors: each model >= its figure on these episodes minus one 95% CI (photo-protonet
    86.97 / 95.66, photo-maml 86.98 / 95.80), above the frozen features' 82.82 / 94.17; and
    both > the best frozen variant measured here on the same episodes."""
    data, _ = first60
    config = EvalConfig(name, "miniimagenet", "test", 5, shots, 15, EPISODES, seed=0)
    result = evaluate(config, load_model(name), data=data)
    frozen = max(frozen_first60[shots].values())
    print(f"{name} 5w{shots}s: {result['accuracy']}; frozen {frozen_first60[shots]}")
    assert result["accuracy"] > frozen, (result, frozen_first60[shots])
    mean, ci95 = FIRST60[name][shots]
    assert round(mean - ci95, 2) > FROZEN_FIRST60[shots]
    assert result["accuracy"] >= round(mean - ci95, 2), result


def test_photo_maml_before_its_inner_loop_is_at_chance_and_learns_in_its_steps(first60):
    """photo-maml's classifier starts at zero: with 0 inner steps every class is equally
    likely, the answer is the first class and accuracy is exactly chance (20%); the card's
    steps take it above the frozen features on the same episodes (issue 13)."""
    data, _ = first60
    model = load_model("photo-maml")
    assert model.default_inner_loop.head_init == "zero"
    config = EvalConfig("photo-maml", "miniimagenet", "test", 5, 1, 15, 20, seed=0)
    before = evaluate(replace(config, inner_steps=0), model, data=data)
    after = evaluate(config, model, data=data)
    print(f"photo-maml 5w1s, 20 episodes: 0 steps {before['accuracy']}, after {after['accuracy']}")
    assert before["accuracy"] == pytest.approx(20.0)
    assert after["accuracy"] > FROZEN_FIRST60[1]


def test_photo_maml_uses_its_learned_step_sizes_scaled_by_the_val_choice():
    """photo-maml's loop (issue 28) is its meta-learned step sizes x0.25 and 20 steps: the
    loop it runs uses the scaled sizes, the step-size chart the learned ones, and the page
    reads the factor from step_size_scale (None for a model that uses them as learned)."""
    model = load_model("photo-maml")
    loop = model.default_inner_loop
    start, learned = model.step_sizes
    assert model.step_size_scale == 0.25 and loop.steps == 20
    assert set(loop.lr) == set(learned)
    for name, rate in loop.lr.items():
        assert rate == pytest.approx(0.25 * learned[name]) and learned[name] > 1.0
    assert load_model("omniglot-maml").step_size_scale is None
