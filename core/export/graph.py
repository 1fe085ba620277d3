"""The ONNX graph of an adapted classifier: prepared images in, class probabilities out.

The graph takes what the model's encoder makes of images: (B, 1, 28, 28) characters (ink 1,
background 0) or, for photos, (B, V, 3, S, S), the V centre-crop views of each photo scaled
as (x - 127) / 128. The mirror images that the app's photo feature averages in are made
inside the graph. core.export writes it with the files that go around it.
"""

from __future__ import annotations

import io
import warnings

import torch
from torch import nn

from core import maml, protonet
from core.learner import AdaptedClassifier, FewShotModel, ProtoTrace

OPSET = 17  # ONNX opset: onnxruntime 1.16 and later run it
INPUT_NAME, OUTPUT_NAME = "images", "probabilities"


class _Constants(nn.Module):
    """Named tensors held as buffers, so that they become the graph's initializers; the
    names ("encoder.0.0.weight") keep the state_dict() names the network reads. Copies on
    the CPU, where the graph is traced, whatever device the classifier is on."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.names = list(tensors)
        for i, tensor in enumerate(tensors.values()):
            self.register_buffer(f"tensor{i}", tensor.detach().to("cpu", copy=True))

    def as_dict(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, f"tensor{i}") for i, name in enumerate(self.names)}


class _PhotoFeatures(nn.Module):
    """(B, V, 3, S, S) views -> (B, 1280) photo features, as core.encoders.photo computes
    them: each view and its mirror image through the backbone, their pooled features
    averaged, then the mean over the views."""

    def __init__(self, backbone: nn.Module, size: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.size = size
        self.register_buffer("mirror", torch.arange(size - 1, -1, -1))  # a left-right flip

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        n_views = views.shape[1]
        flat = views.reshape(-1, 3, self.size, self.size)  # (B V, 3, S, S)
        both = torch.stack([flat, flat.index_select(-1, self.mirror)], 1)  # (B V, 2, 3, S, S)
        both = both.reshape(-1, 3, self.size, self.size)
        pooled = self.backbone.forward_head(self.backbone.forward_features(both), pre_logits=True)
        pooled = pooled.reshape(-1, n_views, 2, pooled.shape[-1])  # (B, V, 2, 1280)
        return (0.5 * (pooled[:, :, 0] + pooled[:, :, 1])).mean(1)


class ExportedClassifier(nn.Module):
    """An AdaptedClassifier as one module: encoded inputs -> (B, N) probabilities.

    It computes what AdaptedClassifier.predict_proba_tensors computes, with the same
    functions: ProtoNet, softmax(-scale * d(f(x), prototypes)) with the meta-trained network
    f; MAML, softmax(head(f'(x))) with the adapted network and head. Every tensor it reads is
    its own copy, so the shared model is never touched. A photo classifier first turns the
    views into backbone features (_PhotoFeatures).
    """

    def __init__(self, classifier: AdaptedClassifier) -> None:
        super().__init__()
        model = classifier.model
        self.algorithm = model.algorithm
        self.features = maml.make_features_fn(model.net)  # reads only the tensors it is given
        params, buffers = maml.split_state(model.net)
        if self.algorithm == "maml":
            if classifier.params is None:
                raise ValueError("this MAML classifier does not carry its adapted parameters")
            params = classifier.params
        elif isinstance(classifier.trace, ProtoTrace):
            self.register_buffer("prototypes", classifier.trace.prototypes.to("cpu", copy=True))
            self.distance = classifier.settings["distance"]
            self.scale = float(classifier.logit_scale)
        else:
            raise ValueError(f"cannot export a {self.algorithm} classifier")
        self.params = _Constants(params)
        self.state_buffers = _Constants(buffers)  # batch norm statistics
        self.photo = _photo_features(model)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.photo is not None:
            inputs = self.photo(inputs)
        params, buffers = self.params.as_dict(), self.state_buffers.as_dict()
        if self.algorithm == "maml":
            logits = maml.predict_logits(self.features, params, buffers, inputs)
        else:
            embedded = self.features(params, buffers, inputs)
            logits = protonet.logits(embedded, self.prototypes, self.distance, self.scale)
        return logits.softmax(-1)


def _photo_features(model: FewShotModel) -> _PhotoFeatures | None:
    """The backbone part of the graph for a photo model; None for characters."""
    if model.input_kind != "photo":
        return None
    from core.encoders.efficientnet import load_backbone

    return _PhotoFeatures(load_backbone(model.encode.network), model.encode.size)


def input_shape(model: FewShotModel) -> list[int | str]:
    """The graph input's shape, "batch" for the free first axis."""
    if model.input_kind == "photo":
        size = model.encode.size
        return ["batch", len(model.encode.crops), 3, size, size]
    return ["batch", 1, model.encode.size, model.encode.size]


def onnx_bytes(classifier: AdaptedClassifier) -> bytes:
    """The classifier as an ONNX graph (opset OPSET) with a free batch axis.

    torch's TorchScript-based exporter (dynamo=False): it needs no further package, and on
    torch 2.14 it exports EfficientNet-Lite0 in a few seconds.
    """
    module = ExportedClassifier(classifier).eval()
    shape = [2 if axis == "batch" else axis for axis in input_shape(classifier.model)]
    example = torch.zeros(shape)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The exporter warns that it is the older one; it is chosen on purpose (above).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            do_constant_folding=True,
        )
    return buffer.getvalue()
