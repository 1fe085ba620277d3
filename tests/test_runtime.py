"""The photo backbone run by ONNX Runtime gives PyTorch eager's features (core.encoders.runtime)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from core.encoders import efficientnet, runtime
from core.encoders.efficientnet import backbone_features
from core.encoders.photo import PhotoEncoder
from core.encoders.views import photo_batch


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    from skimage import data as samples

    return [
        Image.fromarray(samples.chelsea()),
        Image.fromarray(samples.coffee()),
        Image.fromarray(samples.astronaut()),
    ]


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest difference of a feature, relative to the largest value of its photo's
    feature (elementwise ratios of near-zero ReLU6 outputs would measure float noise only)."""
    return float(((a - b).abs().amax(1) / b.abs().amax(1)).max())


def test_onnxruntime_features_equal_eager_ones(photos):
    for crop in (1.0, 0.8):
        pixels = photo_batch(photos, crop=crop)
        eager = backbone_features(pixels, runtime="torch")
        fast = backbone_features(pixels, runtime="onnxruntime")
        assert fast.shape == eager.shape == (3, 1280)
        assert _relative(fast, eager) <= 1e-4
        # and the features are real ones: different photos differ far more than the paths do
        assert float((eager[0] - eager[1]).abs().max()) > 0.1


def test_any_batch_size_and_row_independence(photos):
    pixels = photo_batch(photos)
    together = backbone_features(pixels, runtime="onnxruntime")
    alone = torch.cat(
        [backbone_features(pixels[i : i + 1], runtime="onnxruntime") for i in (0, 1, 2)]
    )
    assert _relative(alone, together) <= 1e-4
    assert backbone_features(pixels[:0], runtime="onnxruntime").shape == (0, 1280)


def test_the_environment_chooses_and_bad_names_are_named(monkeypatch, photos):
    monkeypatch.setenv(runtime.ENV, "torch")
    assert runtime.default_runtime() == "torch"
    monkeypatch.setenv(runtime.ENV, "tensorrt")
    with pytest.raises(ValueError, match="onnxruntime"):
        runtime.default_runtime()
    monkeypatch.delenv(runtime.ENV)
    assert runtime.default_runtime() == "onnxruntime"
    with pytest.raises(ValueError, match="tensorrt"):
        backbone_features(photo_batch(photos[:1]), runtime="tensorrt")


def test_the_apps_encoder_uses_the_fast_path_with_the_same_features(monkeypatch, photos):
    fast = PhotoEncoder(crops=(1.0, 0.8))(photos)
    monkeypatch.setenv(runtime.ENV, "torch")
    eager = PhotoEncoder(crops=(1.0, 0.8))(photos)
    assert _relative(fast, eager) <= 1e-4
    assert efficientnet._onnx_session.cache_info().currsize >= 1  # the session the fast path built


def test_the_export_is_kept_on_disk_and_read_back(monkeypatch, tmp_path, photos):
    monkeypatch.setenv("FEWSHOT_CACHE", str(tmp_path))
    efficientnet._onnx_session.cache_clear()
    try:
        pixels = photo_batch(photos[:2])
        first = backbone_features(pixels, runtime="onnxruntime")
        path = efficientnet.onnx_path(efficientnet.BACKBONE)
        assert path.parent == tmp_path / "onnx" and path.stat().st_size > 1_000_000
        efficientnet._onnx_session.cache_clear()  # a new server: the file, not an export
        monkeypatch.setattr(efficientnet, "onnx_model", _no_export)
        again = backbone_features(pixels, runtime="onnxruntime")
        assert torch.equal(first, again)
    finally:
        efficientnet._onnx_session.cache_clear()  # later tests build from the real cache


def _no_export(*args, **kwargs):
    raise AssertionError("exported again although the file was there")


def test_photos_split_over_the_workers_give_the_one_call_features(photos):
    from core.encoders.photo import CHUNK, photo_features

    many = [photo.rotate(angle) for angle in range(CHUNK + 3) for photo in photos[:1]]
    crops = (1.0, 0.8)
    split = photo_features(many, crops=crops, runtime="onnxruntime")  # 2 crops x 2 chunks
    whole = torch.stack(
        [backbone_features(photo_batch(many, crop=c), runtime="onnxruntime") for c in crops]
    ).mean(0)
    assert split.shape == (CHUNK + 3, 1280)
    assert _relative(split, whole) <= 1e-6
    assert float((split[0] - split[-1]).abs().max()) > 0.01  # rotated photos differ
    assert photo_features([], crops=crops, runtime="onnxruntime").shape == (0, 1280)
