"""The benchmark slices the Embedding space page explores: a few test classes of Omniglot
and mini-ImageNet, read from the data folder, small enough to embed in seconds on a CPU.
Pure (no Streamlit); lab.explorer.from_slice teaches a model with them.

    omniglot_test_slice   characters of Omniglot's test split, read straight from the zip
    photo_test_slice      a few mini-ImageNet test classes, named by their words
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Small enough to embed in a few seconds on a CPU.
OMNIGLOT_CHARACTERS, OMNIGLOT_DRAWINGS = 20, 20
PHOTO_CLASSES, PHOTO_IMAGES = 5, 20  # photo features take ~60 ms each on a CPU: 100 photos


def omniglot_test_slice(
    n_characters: int = OMNIGLOT_CHARACTERS,
    drawings: int = OMNIGLOT_DRAWINGS,
    seed: int = 0,
    root: Path | None = None,
) -> tuple[list[str], list[list[Image.Image]]]:
    """`n_characters` characters of Omniglot's test split (Vinyals et al. 2016, unrotated),
    drawn at random with `seed`, `drawings` drawings each, read straight from the zip (only
    these files are decoded, unlike core.data.load_dataset, which decodes all 1623 once).

    Raises:
        core.data.DatasetMissing: the Omniglot files or the split file are not under root.
    """
    from core.data import DatasetMissing
    from core.paths import data_root
    from lab.examples import (
        _drawings,
        _evaluation_source,
        character_class_name,
        handwriting_missing,
    )

    root = Path(root or data_root() / "omniglot")
    source = _evaluation_source(root)
    split = root / "splits" / "vinyals" / "test.txt"
    if source is None:
        raise DatasetMissing(handwriting_missing(root))
    if not split.exists():
        raise DatasetMissing(f"Omniglot's test split file is missing: {split}")
    characters = sorted(
        {line.strip().rsplit("/", 1)[0] for line in split.read_text().splitlines() if line.strip()}
    )
    chosen = np.random.default_rng(seed).choice(len(characters), n_characters, replace=False)
    names, images = [], []
    for character in (characters[i] for i in sorted(chosen)):
        files = _drawings(source, character)[:drawings]
        names.append(character_class_name(character))
        images.append([_open_image(data) for _, data in files])
    return names, images


def photo_test_slice(
    n_classes: int = PHOTO_CLASSES,
    photos: int = PHOTO_IMAGES,
    seed: int = 0,
    root: Path | None = None,
) -> tuple[list[str], list[list[Image.Image]]]:
    """`n_classes` mini-ImageNet test classes drawn with `seed`, their first `photos` photos,
    named by their words from classes.tsv when it is there (else their WordNet ids).

    Raises:
        core.data.DatasetMissing: mini-ImageNet's test split is not on this machine.
    """
    from core.data import miniimagenet

    data = miniimagenet("test", root)
    chosen = sorted(np.random.default_rng(seed).choice(len(data.classes), n_classes, replace=False))
    words = _class_words(data.root.parent / "classes.tsv")
    names = [words.get(data.classes[k], data.classes[k]) for k in chosen]
    return names, [data.images(int(k), range(photos)) for k in chosen]


def _class_words(path: Path) -> dict[str, str]:
    """WordNet id -> its first word, from a 'wnid<TAB>split<TAB>words' file (the last
    column holds the words); empty when absent."""
    if not path.exists():
        return {}
    words = {}
    for line in path.read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 2:
            words[parts[0]] = parts[-1].split(",")[0].strip()
    return words


def _open_image(data: bytes) -> Image.Image:
    import io

    image = Image.open(io.BytesIO(data))
    image.load()
    return image
