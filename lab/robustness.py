"""Does it rely on the wrong cue? Small changes to the check images (issue 30, item 5).

Each check image is changed a little (brighter, darker, rotated by 15 degrees, cropped,
blurred, mirrored) and classified again by the same adapted classifier. We report which
verdicts flip and how far each image moves in the model's own space (the embeddings it
decides in: ProtoNet's network, or MAML's adapted network), relative to the gap between the
class centres: movement / the median distance between two class centres. A move of 0.1 is a
tenth of a typical gap between classes; a move near 1 crosses from one class to another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from core.learner import AdaptedClassifier

ROTATION_DEGREES = 15
CROP_KEEP = 0.8  # the centre crop keeps 80% of each side, scaled back to the original size


def _background(image: Image.Image) -> tuple[int, ...] | int:
    """The colour of the image's top-left corner: what rotation fills the corners with, so a
    drawing on white stays on white."""
    return image.getpixel((0, 0))


def brighter(image: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(1.4)


def darker(image: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(0.6)


def rotated(image: Image.Image) -> Image.Image:
    return image.rotate(
        ROTATION_DEGREES, resample=Image.Resampling.BILINEAR, fillcolor=_background(image)
    )


def cropped(image: Image.Image) -> Image.Image:
    width, height = image.size
    left, top = round(width * (1 - CROP_KEEP) / 2), round(height * (1 - CROP_KEEP) / 2)
    box = (left, top, width - left, height - top)
    return image.crop(box).resize(image.size, Image.Resampling.BILINEAR)


def blurred(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius=max(1.0, min(image.size) / 50)))


def mirrored(image: Image.Image) -> Image.Image:
    return ImageOps.mirror(image)


def identity(image: Image.Image) -> Image.Image:
    """No change: the control (tests; nothing may move)."""
    return image.copy()


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "brighter": brighter,
    "darker": darker,
    f"rotated {ROTATION_DEGREES}°": rotated,
    "cropped": cropped,
    "blurred": blurred,
    "mirrored": mirrored,
}


@dataclass(frozen=True)
class Robustness:
    """T transforms of Q check images, N classes.

    Attributes:
        transforms: the T transform names.
        before: (Q, N) probabilities of the unchanged images.
        after: (T, Q, N) probabilities of the changed images.
        movement: (T, Q) distance each image moved in the model's space.
        centre_gap: the median distance between two class centres, in the same space.
    """

    transforms: tuple[str, ...]
    before: np.ndarray
    after: np.ndarray
    movement: np.ndarray
    centre_gap: float

    def flips(self) -> np.ndarray:
        """(T, Q) whether the verdict changed."""
        return self.after.argmax(2) != self.before.argmax(1)[None, :]

    def relative_movement(self) -> np.ndarray:
        """(T, Q) movement / centre_gap."""
        return self.movement / self.centre_gap if self.centre_gap > 0 else self.movement * np.inf


def class_centres(embeddings: np.ndarray, labels: Sequence[int], n_classes: int) -> np.ndarray:
    """(S, D), (S,) class indices -> (N, D) the mean embedding of each class."""
    labels = np.asarray(labels)
    return np.stack([embeddings[labels == c].mean(0) for c in range(n_classes)])


def median_centre_gap(centres: np.ndarray) -> float:
    """The median Euclidean distance between two different class centres."""
    n = len(centres)
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(n) for b in range(a + 1, n)]
    return float(np.median(gaps))


def robustness(
    classifier: AdaptedClassifier,
    support_images: Sequence[Image.Image],
    support_labels: Sequence[int],
    check_images: Sequence[Image.Image],
    transforms: dict[str, Callable[[Image.Image], Image.Image]] | None = None,
) -> Robustness:
    """Each check image changed by each transform and classified again.

    Args:
        classifier: the adapted classifier (never changed).
        support_images, support_labels: its support set, labels as indices into
            classifier.classes: the class centres are their mean embeddings in the space the
            classifier decides in (for ProtoNet, exactly its prototypes).
        check_images: the Q images to change.
        transforms: name -> function of a PIL image; TRANSFORMS by default.

    Raises:
        ValueError: no check image, or support labels that do not match the images.
    """
    transforms = TRANSFORMS if transforms is None else transforms
    if not check_images:
        raise ValueError("no check images to change: add images to check first")
    if len(support_images) != len(support_labels):
        raise ValueError(
            f"got {len(support_images)} support images but {len(support_labels)} labels"
        )
    centres = class_centres(
        classifier.embed(support_images), support_labels, len(classifier.classes)
    )
    base = classifier.answers(list(check_images))
    changed = [transform(image) for transform in transforms.values() for image in check_images]
    answered = classifier.answers(changed) if changed else None
    t, q = len(transforms), len(check_images)
    after = answered.probabilities.reshape(t, q, -1) if answered else np.zeros((0, q, 0))
    moved = answered.embeddings.reshape(t, q, -1) - base.embeddings[None] if answered else None
    return Robustness(
        tuple(transforms),
        base.probabilities,
        after,
        np.linalg.norm(moved, axis=-1) if moved is not None else np.zeros((0, q)),
        median_centre_gap(centres),
    )
