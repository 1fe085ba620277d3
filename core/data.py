"""Benchmark datasets: Omniglot (Vinyals split, rotations as classes), mini-ImageNet and any
folder of class subfolders (the torchvision ImageFolder layout).

Data is read from ../shared/data by default (FEWSHOT_DATA overrides it); decoded Omniglot
is cached once under ~/.cache/fewshotlab (FEWSHOT_CACHE overrides it), outside the repo.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from core.constants import IMAGE_SUFFIXES
from core.files import atomic_write
from core.images import CHARACTER_SIZE, ImageRejected, omniglot_array, read_image_file
from core.paths import cache_root, data_root

OMNIGLOT_SPLITS = ("train", "val", "test", "trainval")
MINIIMAGENET_SPLITS = ("train", "val", "test")


def hash_files(digest: Any, paths: Iterable[Path], root: Path) -> None:
    """Feed each file's name (relative to `root`), size and bytes into a hashlib digest.

    Cache keys follow content, not modification times: a fresh copy of the same data (every
    new machine's ../shared, a restored backup) keeps its caches; any changed byte drops them.
    """
    for path in paths:
        digest.update(f"{path.relative_to(root)}|{path.stat().st_size}\n".encode())
        digest.update(path.read_bytes())


class DatasetMissing(FileNotFoundError):
    """A benchmark dataset is not where it was looked for; the message says how to get it."""


# --- Omniglot ------------------------------------------------------------------------------


@dataclass
class TensorDataset:
    """Classes of equal size held as one uint8 tensor (C, M, H, W), ink = 255.

    `name` and `classes` describe it; `batch` returns float tensors for the network.
    """

    name: str
    classes: list[str]
    data: torch.Tensor  # (C, M, H, W) uint8

    def class_sizes(self) -> list[int]:
        return [self.data.shape[1]] * self.data.shape[0]

    def batch(self, classes: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """(N,), (N, K) -> (N, K, 1, H, W) float in [0, 1]."""
        picked = self.data[classes.to(self.data.device)[:, None], items.to(self.data.device)]
        return picked.unsqueeze(2).float().div_(255.0)

    def images(self, class_index: int, items: Sequence[int]) -> list[Image.Image]:
        """As PIL images, dark ink on white, as a person would upload them."""
        return [Image.fromarray(255 - self.data[class_index, i].cpu().numpy(), "L") for i in items]

    def to(self, device: torch.device | str) -> TensorDataset:
        return TensorDataset(self.name, self.classes, self.data.to(device))


def _omniglot_sources(root: Path) -> list[Path]:
    """Both background and evaluation sets, as zips or as extracted folders."""
    found = []
    for part in ("images_background", "images_evaluation"):
        for candidate in (root / f"{part}.zip", root / part, root / "omniglot-py" / part):
            if candidate.exists():
                found.append(candidate)
                break
        else:
            raise DatasetMissing(
                f"Omniglot not found: expected {root / (part + '.zip')} "
                f"or the folder {root / part}. "
                "Put images_background.zip and images_evaluation.zip from "
                "https://github.com/brendenlake/omniglot there, or download them with "
                "torchvision.datasets.Omniglot(download=True) and point FEWSHOT_DATA at it."
            )
    return found


def _read_omniglot_characters(sources: list[Path], size: int) -> dict[str, np.ndarray]:
    """'Alphabet/characterNN' -> (20, size, size) uint8 with ink = 255."""
    drawings: dict[str, list[tuple[str, bytes]]] = {}
    for source in sources:
        if source.suffix == ".zip":
            with zipfile.ZipFile(source) as archive:
                for member in archive.namelist():
                    parts = member.split("/")
                    if member.endswith(".png") and len(parts) >= 4:
                        key = f"{parts[-3]}/{parts[-2]}"
                        drawings.setdefault(key, []).append((parts[-1], archive.read(member)))
        else:
            for path in source.glob("*/*/*.png"):
                key = f"{path.parent.parent.name}/{path.parent.name}"
                drawings.setdefault(key, []).append((path.name, path.read_bytes()))
    characters = {}
    for key, files in drawings.items():
        arrays = [omniglot_array(Image.open(io.BytesIO(data)), size) for _, data in sorted(files)]
        characters[key] = (np.stack(arrays) * 255.0).round().astype(np.uint8)
    return characters


def omniglot_characters(
    root: Path | None = None, size: int = CHARACTER_SIZE
) -> dict[str, np.ndarray]:
    """All 1623 characters, decoded once and cached as .npz outside the repo."""
    root = Path(root or data_root() / "omniglot")
    sources = _omniglot_sources(root)
    digest = hashlib.sha1()
    for source in sources:
        hash_files(digest, sorted(source.glob("*/*/*.png")) if source.is_dir() else [source], root)
    stamp = digest.hexdigest()[:12]
    cache = cache_root() / f"omniglot-{size}px-{stamp}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            return {key.replace("|", "/"): stored[key] for key in stored.files}
    characters = _read_omniglot_characters(sources, size)
    arrays = {key.replace("/", "|"): value for key, value in characters.items()}
    atomic_write(cache, lambda tmp: np.savez(tmp, **arrays))
    return characters


def omniglot(
    split: str = "test", root: Path | None = None, size: int = CHARACTER_SIZE
) -> TensorDataset:
    """The Vinyals et al. (2016) split: each line 'Alphabet/characterNN/rotXXX' is a class."""
    if split not in OMNIGLOT_SPLITS:
        raise ValueError(f"unknown Omniglot split {split!r}; expected one of {OMNIGLOT_SPLITS}")
    root = Path(root or data_root() / "omniglot")
    split_file = root / "splits" / "vinyals" / f"{split}.txt"
    if not split_file.exists():
        raise DatasetMissing(f"Omniglot split file not found: {split_file}")
    characters = omniglot_characters(root, size)
    lines = [line.strip() for line in split_file.read_text().splitlines() if line.strip()]
    arrays = []
    for line in lines:
        character, rotation = line.rsplit("/", 1)
        if character not in characters:
            raise DatasetMissing(f"{split_file} names {character}, which the Omniglot files lack")
        quarter_turns = int(rotation.removeprefix("rot")) // 90
        arrays.append(np.rot90(characters[character], k=quarter_turns, axes=(1, 2)))
    data = torch.from_numpy(np.ascontiguousarray(np.stack(arrays)))
    return TensorDataset(f"omniglot/{split}", lines, data)


# --- folders of class subfolders (mini-ImageNet, a user's own) ----------------------------


@dataclass
class FolderDataset:
    """root/<class>/<image>: classes and files sorted by name, decoded on demand.

    Indexing does not open the files, so a damaged one is only found when it is read.
    Call `without_unreadable()` before drawing episodes: it decodes every file once and
    returns the dataset of the readable ones, listing the others in `rejected` (core.evaluate
    does this), so no episode ever contains a file that cannot be used.
    """

    name: str
    root: Path
    classes: list[str]
    files: list[list[Path]]
    rejected: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"} each

    def class_sizes(self) -> list[int]:
        return [len(f) for f in self.files]

    def images(self, class_index: int, items: Sequence[int]) -> list[Image.Image]:
        """Decoded RGB images; raises ImageRejected (naming the file) for an unusable one."""
        return [
            read_image_file(path, str(path.relative_to(self.root)))
            for path in (self.files[class_index][i] for i in items)
        ]

    def without_unreadable(self, progress: bool = False) -> FolderDataset:
        """The same dataset without the files that cannot be used (a pre-scan).

        Every file is decoded once (about 0.4 ms for an 84x84 JPEG). Each unusable file is
        listed in the result's `rejected` with the reason; classes left without any file are
        dropped and listed too. Class and file order are kept, so the same seed draws the
        same episodes whenever nothing was rejected.
        """
        classes, files, rejected = [], [], list(self.rejected)
        total = sum(self.class_sizes())
        with tqdm(total=total, disable=not progress, desc=f"checking {self.name}") as bar:
            for class_name, paths in zip(self.classes, self.files, strict=True):
                readable = []
                for path in paths:
                    try:
                        read_image_file(path, str(path.relative_to(self.root)))
                        readable.append(path)
                    except ImageRejected as error:
                        rejected.append({"file": error.name, "reason": error.reason})
                    bar.update(1)
                if readable:
                    classes.append(class_name)
                    files.append(readable)
                else:
                    rejected.append(
                        {"file": f"{class_name}/", "reason": "no usable image in this class"}
                    )
        return FolderDataset(self.name, self.root, classes, files, rejected)


def image_folder(root: Path | str, name: str | None = None) -> FolderDataset:
    """Index a folder of class subfolders (files are not opened yet).

    Hidden files are ignored; other files whose names do not end in an image suffix are
    listed in `rejected`. Raises DatasetMissing if there is no such folder or it holds fewer
    than two classes with images."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetMissing(f"no folder at {root}: expected class subfolders of images")
    classes, files, rejected = [], [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = []
        for path in sorted(p for p in sub.iterdir() if p.is_file() and not p.name.startswith(".")):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                images.append(path)
            else:
                rejected.append(
                    {
                        "file": str(path.relative_to(root)),
                        "reason": f"not an image file name ({', '.join(IMAGE_SUFFIXES)})",
                    }
                )
        if images:
            classes.append(sub.name)
            files.append(images)
    if len(classes) < 2:
        raise DatasetMissing(
            f"{root} holds {len(classes)} class folder(s) with images; at least 2 are needed "
            "(layout: root/<class name>/<image files>)"
        )
    return FolderDataset(name or str(root), root, classes, files, rejected)


def miniimagenet(split: str = "test", root: Path | None = None) -> FolderDataset:
    """mini-ImageNet with the Ravi & Larochelle (2017) class split, 84x84 JPEGs."""
    if split not in MINIIMAGENET_SPLITS:
        raise ValueError(f"unknown mini-ImageNet split {split!r}; expected {MINIIMAGENET_SPLITS}")
    root = Path(root or data_root() / "miniimagenet")
    if not (root / split).is_dir():
        raise DatasetMissing(
            f"mini-ImageNet not found at {root / split}. It needs the ImageNet images "
            "(non-commercial terms); put them in <class>/<image> folders per split there."
        )
    return image_folder(root / split, f"miniimagenet/{split}")


def first_images(data: FolderDataset, n: int) -> FolderDataset:
    """The first `n` files of each class of `data` (all of them when n is 0), named
    "<name>-first<n>": a fixed subset, so its cached features are its own."""
    if n <= 0:
        return data
    return replace(data, name=f"{data.name}-first{n}", files=[f[:n] for f in data.files])


def some_classes(data: TensorDataset | FolderDataset, n: int) -> TensorDataset | FolderDataset:
    """`n` of the dataset's classes (all of them when n is 0 or at least their number), drawn
    once by a fixed generator (seed 0) and kept in dataset order, named "<name>-classes<n>": a
    fixed subset, so its cached features are its own and every model sees the same one."""
    if n <= 0 or n >= len(data.classes):
        return data
    generator = torch.Generator().manual_seed(0)
    keep = sorted(torch.randperm(len(data.classes), generator=generator)[:n].tolist())
    name = f"{data.name}-classes{n}"
    classes = [data.classes[c] for c in keep]
    if isinstance(data, TensorDataset):
        return TensorDataset(name, classes, data.data[torch.tensor(keep)])
    return replace(data, name=name, classes=classes, files=[data.files[c] for c in keep])


def load_dataset(name: str, split: str = "test") -> TensorDataset | FolderDataset:
    """'omniglot', 'miniimagenet', or a path to a folder of class subfolders."""
    if name == "omniglot":
        return omniglot(split)
    if name == "miniimagenet":
        return miniimagenet(split)
    return image_folder(name)


__all__ = [
    "DatasetMissing",
    "FolderDataset",
    "ImageRejected",
    "TensorDataset",
    "first_images",
    "image_folder",
    "load_dataset",
    "miniimagenet",
    "omniglot",
    "some_classes",
]


VINYALS_SPLITS_URL = (
    "https://raw.githubusercontent.com/jakesnell/prototypical-networks/master/"
    "data/omniglot/splits/vinyals/{split}.txt"
)


def download_omniglot(root: Path) -> Path:
    """Download Omniglot (torchvision) and the Vinyals split files into `root`.

    torchvision leaves root/omniglot-py/images_{background,evaluation}/, which
    _omniglot_sources reads like the extracted zips; the split files (from the Prototypical
    Networks repository, MIT) go to root/splits/vinyals/. Needs internet access; the app and
    the tests never call this. Returns `root`, ready for FEWSHOT_DATA=<root's parent>.
    """
    import urllib.request

    from torchvision.datasets import Omniglot

    root = Path(root)
    for background in (True, False):
        Omniglot(str(root), background=background, download=True)
    splits = root / "splits" / "vinyals"
    splits.mkdir(parents=True, exist_ok=True)
    for split in OMNIGLOT_SPLITS:
        target = splits / f"{split}.txt"
        if not target.exists():
            with urllib.request.urlopen(VINYALS_SPLITS_URL.format(split=split), timeout=60) as r:
                target.write_bytes(r.read())
    return root
