"""Why this verdict: an occlusion map of one image and the examples nearest to it.

Occlusion (Zeiler & Fergus, ECCV 2014): cover one square of the image at a time with a
neutral patch, run the classifier on every covered copy at once, and record how far each
copy moved from the verdict: ProtoNet, the distance to the winning class's centre (in the
model's own distance); MAML, the winning class's probability. Each pixel gets the mean
effect of the patches that covered it, so a pixel no patch changed the answer for is 0.

The patch is the model's "nothing": for a character, blank paper (0 on the 28x28 input the
network reads, after core.images.character_array has cropped and scaled the drawing); for a
photo, grey 127, which the photo encoder scales to 0 (core.images.photo_array), on the square
the encoder sees (the largest centred square, fitted to its 224 px). A photo's covered copies
go through the encoder's exact views (whole, centre crop, mirrors) in batches
(core.encoders.photo.photo_features), past the encoder's per-image cache, so that they never
push the visitors' own photos out of it.

Pure: no Streamlit. Loaded models are read, never changed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps

from core import protonet
from core.images import to_rgb
from core.learner import AdaptedClassifier

# Defaults: (patch, stride) in pixels of the picture the network reads.
CHARACTER_PATCH = (6, 2)  # 28x28 input: 12 x 12 = 144 copies through Conv-4 (milliseconds)
PHOTO_PATCH = (75, 50)  # 224x224 square: 4 x 4 = 16 overlapping copies, 4 backbone passes each
PHOTO_GREY = 127  # scaled to (127 - 127) / 128 = 0 by core.images.photo_array
MEASURES = {
    "protonet": "distance to the winning class's centre",
    "maml": "probability of the winning class",
}


@dataclass(frozen=True)
class Occlusion:
    """An occlusion map of one image.

    picture: what the network reads, (H, W) ink in [0, 1] for a character or (H, W, 3) uint8
        for a photo (the fitted square); effect has its shape (H, W).
    effect: per pixel, the mean over the patches that covered it of how much covering moved
        the image away from the winning class: ProtoNet, distance to the winning centre with
        the patch minus without (model's distance units); MAML, winning probability without
        the patch minus with it. Positive: covering this hurts the verdict.
    winner, runner_up: class indices (into classifier.classes), by probability.
    base: the winning class's distance (ProtoNet) or probability (MAML) of the whole image.
    """

    picture: np.ndarray
    effect: np.ndarray
    winner: int
    runner_up: int
    measure: str
    base: float
    patch: int
    stride: int
    copies: int


@dataclass(frozen=True)
class Neighbour:
    """A support example near the image: its index in the support list and its distance."""

    index: int
    distance: float


def positions(side: int, patch: int, stride: int) -> list[int]:
    """Top (or left) edges of the patches along one side: every `stride` pixels, and the
    last one flush with the far edge, so every pixel is covered at least once."""
    if not 1 <= patch <= side or stride < 1:
        raise ValueError(
            f"patch must be 1 to {side} pixels and stride at least 1; got {patch}, {stride}"
        )
    starts = list(range(0, side - patch + 1, stride))
    if starts[-1] != side - patch:
        starts.append(side - patch)
    return starts


def boxes(height: int, width: int, patch: int, stride: int) -> list[tuple[int, int]]:
    """The (top, left) corners of every patch, row by row."""
    return [
        (y, x) for y in positions(height, patch, stride) for x in positions(width, patch, stride)
    ]


def spread(
    changes: np.ndarray, corners: Sequence[tuple[int, int]], shape, patch: int
) -> np.ndarray:
    """Per-pixel mean of the changes of the patches covering each pixel: (H, W)."""
    total = np.zeros(shape, dtype=np.float64)
    count = np.zeros(shape, dtype=np.float64)
    for change, (y, x) in zip(changes, corners, strict=True):
        total[y : y + patch, x : x + patch] += float(change)
        count[y : y + patch, x : x + patch] += 1.0
    return (total / np.maximum(count, 1.0)).astype(np.float32)


def _ranked(classifier: AdaptedClassifier, inputs: torch.Tensor) -> tuple[int, int]:
    order = np.argsort(-classifier.predict_proba_tensors(inputs)[0], kind="stable")
    return int(order[0]), int(order[1])


def _scores(classifier: AdaptedClassifier, inputs: torch.Tensor, winner: int) -> np.ndarray:
    """Per copy, the measure of the winning class: distance (ProtoNet) or probability (MAML)."""
    if classifier.model.algorithm == "protonet":
        return classifier.distances_tensors(inputs)[:, winner].astype(np.float64)
    return classifier.predict_proba_tensors(inputs)[:, winner].astype(np.float64)


def _effects(classifier: AdaptedClassifier, base: float, scores: np.ndarray) -> np.ndarray:
    """Positive where covering moved the image away from the winner."""
    return scores - base if classifier.model.algorithm == "protonet" else base - scores


def occlude_inputs(
    classifier: AdaptedClassifier,
    inputs: torch.Tensor,
    patch: int,
    stride: int,
    fill: float = 0.0,
) -> Occlusion:
    """The occlusion map of one encoded input (1, C, H, W) whose pixels the network reads
    directly (a character model's input): every covered copy in one batch."""
    if inputs.dim() != 4 or inputs.shape[0] != 1:
        raise ValueError(f"expected one encoded image (1, C, H, W), got {tuple(inputs.shape)}")
    height, width = inputs.shape[-2:]
    corners = boxes(height, width, patch, stride)
    copies = inputs.repeat(len(corners), 1, 1, 1)
    for i, (y, x) in enumerate(corners):
        copies[i, :, y : y + patch, x : x + patch] = fill
    picture = inputs[0].permute(1, 2, 0).numpy()
    picture = picture[..., 0] if picture.shape[-1] == 1 else picture
    rows = torch.cat([inputs, copies])
    return _occlusion(classifier, rows, picture.copy(), corners, (height, width), patch, stride)


def occlude_photo(
    classifier: AdaptedClassifier, image: Image.Image, patch: int, stride: int
) -> Occlusion:
    """The occlusion map of a photo, on the square the photo encoder fits it to."""
    from core.encoders.photo import PhotoEncoder, photo_features

    encoder = classifier.model.encode
    if not isinstance(encoder, PhotoEncoder):
        raise TypeError(f"{classifier.model.name} does not read photos")
    size = encoder.size
    square = np.asarray(
        ImageOps.fit(to_rgb(image), (size, size), Image.Resampling.BICUBIC), dtype=np.uint8
    )
    corners = boxes(size, size, patch, stride)
    copies = [Image.fromarray(square)]
    for y, x in corners:
        covered = square.copy()
        covered[y : y + patch, x : x + patch] = PHOTO_GREY
        copies.append(Image.fromarray(covered))
    # One batched call: photo_features splits the copies into chunks of views for the
    # backbone's workers (the original is row 0, computed the same way as its copies).
    features = photo_features(copies, size, encoder.crops, encoder.network)
    return _occlusion(classifier, features, square, corners, (size, size), patch, stride)


def _occlusion(
    classifier: AdaptedClassifier,
    rows: torch.Tensor,
    picture: np.ndarray,
    corners: list[tuple[int, int]],
    shape: tuple[int, int],
    patch: int,
    stride: int,
) -> Occlusion:
    """The map from the model inputs of the image (row 0) and of its covered copies (one row
    per corner, in order): the winner and runner-up of the image, each copy's change."""
    winner, runner_up = _ranked(classifier, rows[:1])
    scores = _scores(classifier, rows, winner)
    changes = _effects(classifier, scores[0], scores[1:])
    return Occlusion(
        picture,
        spread(changes, corners, shape, patch),
        winner,
        runner_up,
        MEASURES[classifier.model.algorithm],
        float(scores[0]),
        patch,
        stride,
        len(corners),
    )


def occlusion_map(
    classifier: AdaptedClassifier,
    image: Image.Image,
    patch: int | None = None,
    stride: int | None = None,
) -> Occlusion:
    """The occlusion map of one image under an adapted classifier (defaults: CHARACTER_PATCH
    or PHOTO_PATCH for the model's input)."""
    photo = classifier.model.input_kind == "photo"
    default_patch, default_stride = PHOTO_PATCH if photo else CHARACTER_PATCH
    patch = default_patch if patch is None else int(patch)
    stride = default_stride if stride is None else int(stride)
    if photo:
        return occlude_photo(classifier, image, patch, stride)
    return occlude_inputs(classifier, classifier.model.encode([image]), patch, stride)


def distance_name(classifier: AdaptedClassifier) -> str:
    """Which distance nearest_examples measures, in words."""
    if classifier.model.algorithm == "protonet":
        words = {"sq_euclidean": "squared Euclidean", "euclidean": "Euclidean", "cosine": "cosine"}
        return f"the model's own {words[classifier.settings['distance']]} distance in its embedding"
    return "Euclidean distance in the adapted network's features (before its last layer)"


def example_distances(
    classifier: AdaptedClassifier, image: Image.Image, support: Sequence[Image.Image]
) -> np.ndarray:
    """(S,) distances from the image to each support example, in the space the classifier
    decides in: ProtoNet, its distance between embeddings; MAML, Euclidean distance between
    the adapted network's features."""
    if not support:
        return np.zeros(0, dtype=np.float32)
    embedded = torch.from_numpy(classifier.embed([image, *support]))
    query, examples = embedded[:1], embedded[1:]
    if classifier.model.algorithm == "protonet":
        found = protonet.distances(query, examples, classifier.settings["distance"])
    else:
        found = protonet.distances(query, examples, "euclidean")
    return found[0].numpy()


def nearest_examples(
    classifier: AdaptedClassifier,
    image: Image.Image,
    support: Sequence[Image.Image],
    labels: Sequence[Hashable],
    classes: Sequence[int],
    k: int = 3,
) -> dict[int, list[Neighbour]]:
    """For each class index in `classes`, its (up to) k support examples nearest the image,
    nearest first. labels: each support image's class (one of classifier.classes)."""
    if len(support) != len(labels):
        raise ValueError(f"got {len(support)} examples but {len(labels)} labels")
    distances = example_distances(classifier, image, support)
    out: dict[int, list[Neighbour]] = {}
    for index in classes:
        mine = [i for i, label in enumerate(labels) if label == classifier.classes[index]]
        mine.sort(key=lambda i: (float(distances[i]), i))
        out[index] = [Neighbour(i, float(distances[i])) for i in mine[:k]]
    return out
