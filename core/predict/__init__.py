"""Classify a folder of query images from a support folder of class subfolders.

    from core.predict import predict
    result = predict("omniglot-protonet", Path("support"), Path("queries"))

support/<class name>/<images>: the classes to learn; query/: images to classify (subfolders
are searched too). Files that cannot be used are listed with the reason and skipped; the
rest are still classified. The command line is core.commands.predict
(`python -m core.predict`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tqdm import tqdm

from core.constants import IMAGE_SUFFIXES, MAX_CLASSES, MIN_CLASSES
from core.images import ImageRejected, read_image_file
from core.learner import load_model
from core.rows import result_rows


def _read_images(paths: list[Path], root: Path, rejected: list[dict]) -> tuple[list, list[str]]:
    images, names = [], []
    for path in paths:
        name = str(path.relative_to(root))
        try:
            images.append(read_image_file(path, name))
            names.append(name)
        except ImageRejected as error:
            rejected.append({"file": str(path), "reason": error.reason})
    return images, names


def _files(folder: Path, recursive: bool) -> list[Path]:
    pattern = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in pattern if p.is_file() and not p.name.startswith("."))


def read_support(support: Path) -> tuple[list, list[str], list[dict]]:
    """support/<class name>/<images> -> (images, labels, rejected): the decoded images, the
    class (folder) name of each, and {"file", "reason"} for every file that was skipped.

    Raises ValueError with a message for a person when the folder cannot be used: missing,
    fewer than two or too many class folders, or a class without any usable image.
    """
    if not support.is_dir():
        raise ValueError(f"support folder not found: {support}")
    rejected: list[dict] = []
    class_dirs = sorted(p for p in support.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not MIN_CLASSES <= len(class_dirs) <= MAX_CLASSES:
        raise ValueError(
            f"{support} has {len(class_dirs)} class folders; between {MIN_CLASSES} and "
            f"{MAX_CLASSES} are needed (layout: support/<class name>/<images>)"
        )
    support_images, labels, empty = [], [], []
    for class_dir in class_dirs:
        images, _ = _read_images(_files(class_dir, recursive=True), support, rejected)
        if not images:
            empty.append(class_dir.name)
        support_images += images
        labels += [class_dir.name] * len(images)
    if empty:
        raise ValueError(
            f"no valid image for class(es) {', '.join(empty)} in {support}; every class needs "
            f"at least one readable image ({', '.join(IMAGE_SUFFIXES)})"
            + (f". Rejected: {json.dumps(rejected)}" if rejected else "")
        )
    return support_images, labels, rejected


def predict(model_name: str, support: Path, query: Path, progress: bool = False) -> dict:
    """Returns {"classes", "predictions": [{file, predicted, probabilities}], "rejected",
    "rows"}: rows are core.rows.result_rows, the columns of --csv and of the app's
    Classify many table.

    Raises ValueError with a message for a person when the input cannot be used.
    """
    if not support.is_dir():
        raise ValueError(f"support folder not found: {support}")
    if not query.exists():
        raise ValueError(f"query folder not found: {query}")
    support_images, labels, rejected = read_support(support)
    query_paths = [query] if query.is_file() else _files(query, recursive=True)
    root = query.parent if query.is_file() else query
    query_images, query_names = _read_images(query_paths, root, rejected)
    model = load_model(model_name)
    classifier = model.adapt(support_images, labels)
    with tqdm(
        total=len(query_images), disable=not progress, file=sys.stderr, desc="classifying"
    ) as bar:
        rows = result_rows(
            classifier,
            [str(c) for c in classifier.classes],
            query_names,
            query_images,
            on_progress=lambda done, _: bar.update(done - bar.n),
        )
    predictions = [
        {
            "file": row["file"],
            "predicted": row["predicted"],
            "probabilities": {c: row[f"p({c})"] for c in classifier.classes},
        }
        for row in rows
    ]
    return {
        "model": model_name,
        "classes": list(classifier.classes),
        "support_images": len(support_images),
        "predictions": predictions,
        "rejected": rejected,
        "rows": rows,
    }
