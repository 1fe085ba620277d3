"""Example lessons for "Try an example": a few classes, each with examples to teach with
(support images) and images to check whose true class is known.

    handwriting  three characters of Omniglot's test alphabets (Vinyals split: never seen in
                 meta-training), five drawings each to teach with and two more to check,
                 read at run time from the Omniglot files on this machine; the project never
                 ships them.
    photos       brick, grass and gravel: crops of three CC0 texture photos that ship inside
                 scikit-image's wheel (no download); the check crops never overlap a support
                 crop.

Each image has a file-like name that also says its class ("brick-check-1.png"), so its true
class stays known wherever the name goes. The module is pure (no Streamlit) and light to
import: the home page asks `handwriting_missing()` before anything heavy loads.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.paths import data_root

if TYPE_CHECKING:  # imported where used: the home page imports this module on every visit
    from PIL import Image

    from lab.session import SessionData

# A fixed choice, made by eye for characters that look unlike each other, one per test
# alphabet (tests/test_examples.py checks that each is in the Vinyals test split).
HANDWRITING_CHARACTERS = ("Tengwar/character10", "Tibetan/character01", "Mongolian/character08")
SUPPORT_PER_CLASS = 5
CHECKS_PER_CLASS = 2
TEXTURES = ("brick", "grass", "gravel")  # skimage.data functions, each a 512x512 gray photo
TILE = 170  # a 3x3 grid of 170 px crops fits in 512 px: 5 to teach with, 2 to check, 2 unused
EVALUATION = "images_evaluation"  # Omniglot's half that holds every test alphabet

HANDWRITING_CREDIT = (
    "Handwritten characters from Omniglot (Lake, Salakhutdinov & Tenenbaum, 2015; MIT "
    "licence, github.com/brendenlake/omniglot), read from this machine's copy of the test "
    "alphabets, which the models never saw in training."
)
TEXTURES_CREDIT = (
    "Crops of scikit-image's bundled texture photos, all CC0 1.0 (public domain): brick "
    "(Bricks25) and gravel (Gravel04) from CC0Textures (now ambientCG), grass (Grass 01) by "
    "linolafett on DeviantArt."
)


class ExampleMissing(FileNotFoundError):
    """An example's images are not on this machine; the message says where they were looked
    for and how to get them."""


@dataclass(frozen=True)
class ExampleImage:
    """One image of a lesson, under the file name an upload of it would have."""

    name: str
    image: Image.Image

    def png(self) -> bytes:
        """The image as PNG bytes, as if the visitor had uploaded it."""
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()


@dataclass(frozen=True)
class ExampleLesson:
    """A ready lesson: classes with their support images, and check images with their true
    class (an index into `class_names`)."""

    title: str
    input_kind: str  # "character" or "photo": the kind of model it is for
    class_names: list[str]
    support: list[list[ExampleImage]]  # one list per class
    checks: list[tuple[ExampleImage, int]]
    credit: str  # where the images come from and their licence, in one sentence

    def to_session(self) -> SessionData:
        """The lesson as a session (lab.session), ready for lab.workspace.from_session:
        the check images are the queries, labelled with their true class; ProtoNet, which
        adapts at once."""
        from lab.session import SessionData, StoredImage

        return SessionData(
            class_names=list(self.class_names),
            support=[[StoredImage(i.name, i.png()) for i in images] for images in self.support],
            queries=[StoredImage(image.name, image.png()) for image, _ in self.checks],
            query_labels=[self.class_names[label] for _, label in self.checks],
            settings={"input_kind": self.input_kind, "algorithm": "protonet"},
        )


# --- the images of a class: the first ones to teach with, the next ones to check ----------


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _support(slug: str, images: list[Image.Image]) -> list[ExampleImage]:
    """The first SUPPORT_PER_CLASS images, named "<slug>-1.png", "<slug>-2.png", ..."""
    return [
        ExampleImage(f"{slug}-{k + 1}.png", image)
        for k, image in enumerate(images[:SUPPORT_PER_CLASS])
    ]


def _checks(slug: str, images: list[Image.Image], label: int) -> list[tuple[ExampleImage, int]]:
    """The CHECKS_PER_CLASS images after the support images, named "<slug>-check-1.png", ...,
    each with its true class."""
    rest = images[SUPPORT_PER_CLASS : SUPPORT_PER_CLASS + CHECKS_PER_CLASS]
    return [
        (ExampleImage(f"{slug}-check-{k + 1}.png", image), label) for k, image in enumerate(rest)
    ]


# --- handwriting: Omniglot's test alphabets ------------------------------------------------


def _open(data: bytes) -> Image.Image:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _evaluation_source(root: Path) -> Path | None:
    """Omniglot's images_evaluation as a zip or an extracted folder, as core.data finds it."""
    for candidate in (
        root / f"{EVALUATION}.zip",
        root / EVALUATION,
        root / "omniglot-py" / EVALUATION,
    ):
        if candidate.exists():
            return candidate
    return None


def handwriting_missing(root: Path | None = None) -> str | None:
    """Why the handwriting example cannot load here, in one sentence; None when it can.

    Only looks for files (no decoding), so a page may ask on every run.
    """
    root = Path(root or data_root() / "omniglot")
    if _evaluation_source(root) is not None:
        return None
    return (
        f"The handwriting example needs Omniglot's {EVALUATION}.zip (or its extracted folder), "
        f"looked for in {root}. Put it there from github.com/brendenlake/omniglot, or set "
        "FEWSHOT_DATA to the folder that holds omniglot/."
    )


def _drawings(source: Path, character: str) -> list[tuple[str, bytes]]:
    """(file name, PNG bytes) of one character's 20 drawings, sorted by file name as
    core.data orders them."""
    if source.suffix == ".zip":
        prefix = f"{EVALUATION}/{character}/"
        with zipfile.ZipFile(source) as archive:
            members = sorted(
                m for m in archive.namelist() if m.startswith(prefix) and m.endswith(".png")
            )
            return [(m.rsplit("/", 1)[1], archive.read(m)) for m in members]
    return [(p.name, p.read_bytes()) for p in sorted((source / character).glob("*.png"))]


def character_class_name(character: str) -> str:
    """'Tengwar/character10' -> 'Tengwar 10'; 'Syriac_(Serto)/character03' -> 'Syriac (Serto) 3'."""
    alphabet, number = character.split("/")
    return f"{alphabet.replace('_', ' ')} {int(number.removeprefix('character'))}"


def handwriting_lesson(root: Path | None = None) -> ExampleLesson:
    """Three Omniglot test characters: the first 5 drawings of each (by file name) to teach
    with, the next 2 to check.

    Raises:
        ExampleMissing: the Omniglot files (or one of the characters) are not under `root`
            (default: data_root()/omniglot); the message says where it looked.
    """
    root = Path(root or data_root() / "omniglot")
    source = _evaluation_source(root)
    if source is None:
        raise ExampleMissing(handwriting_missing(root))
    names, support, checks = [], [], []
    needed = SUPPORT_PER_CLASS + CHECKS_PER_CLASS
    for index, character in enumerate(HANDWRITING_CHARACTERS):
        drawings = _drawings(source, character)
        if len(drawings) < needed:
            raise ExampleMissing(
                f"The handwriting example needs {needed} drawings of {character} in {source}; "
                f"found {len(drawings)}. The Omniglot files there look incomplete."
            )
        name = character_class_name(character)
        slug = _slug(name)
        images = [_open(data) for _, data in drawings[:needed]]
        names.append(name)
        support.append(_support(slug, images))
        checks.extend(_checks(slug, images, index))
    return ExampleLesson(
        "three handwritten characters from Omniglot's test alphabets",
        "character",
        names,
        support,
        checks,
        HANDWRITING_CREDIT,
    )


# --- photos: scikit-image's CC0 textures ---------------------------------------------------


def texture_photo(name: str) -> Image.Image:
    """One of scikit-image's bundled texture photos (brick, grass, gravel) as RGB.

    These three ship inside the scikit-image wheel: skimage.data reads them from disk and
    never downloads.
    """
    if name not in TEXTURES:
        raise ValueError(f"unknown texture {name!r}; expected one of {TEXTURES}")
    import skimage.data
    from PIL import Image

    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def tile_boxes(size: int = 512, tile: int = TILE) -> list[tuple[int, int, int, int]]:
    """The (left, top, right, bottom) boxes of a grid of tile x tile crops, centred in a
    size x size photo, row by row; no two overlap."""
    per_side = size // tile
    margin = (size - per_side * tile) // 2
    return [
        (margin + c * tile, margin + r * tile, margin + (c + 1) * tile, margin + (r + 1) * tile)
        for r in range(per_side)
        for c in range(per_side)
    ]


def textures_lesson() -> ExampleLesson:
    """Brick, grass and gravel: the first 5 crops of each photo's 3x3 grid to teach with,
    the next 2 to check."""
    boxes = tile_boxes()
    support, checks = [], []
    for index, name in enumerate(TEXTURES):
        photo = texture_photo(name)
        crops = [photo.crop(box) for box in boxes]
        support.append(_support(name, crops))
        checks.extend(_checks(name, crops, index))
    return ExampleLesson(
        "brick, grass and gravel, from CC0 texture photos",
        "photo",
        list(TEXTURES),
        support,
        checks,
        TEXTURES_CREDIT,
    )


LESSONS: dict[str, Callable[[], ExampleLesson]] = {
    "character": handwriting_lesson,
    "photo": textures_lesson,
}


def lesson(input_kind: str) -> ExampleLesson:
    """The example lesson for "character" (handwriting) or "photo" images.

    Raises:
        ValueError: another input kind. ExampleMissing: its images are not on this machine.
    """
    if input_kind not in LESSONS:
        raise ValueError(f"no example for {input_kind!r}; expected one of {tuple(LESSONS)}")
    return LESSONS[input_kind]()
