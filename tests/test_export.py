"""core.export: the ONNX file gives the app's probabilities, in onnxruntime, on real images.

For each shipped model a classifier is taught three classes from real images (Omniglot test
characters; mini-ImageNet val photos), exported, and run in onnxruntime on other real images
of the same classes, prepared by the exported example.py's own preprocess(): its
probabilities must equal AdaptedClassifier.predict_proba's to 1e-4. example.py itself is run
in a fresh process, outside the project, on image files.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from core import load_model
from core.commands.export import main
from core.encoders.efficientnet import load_backbone
from core.encoders.views import photo_batch
from core.export import (
    CLASSES_FILE,
    EXAMPLE_FILE,
    MODEL_FILE,
    README_FILE,
    Export,
    export_classifier,
    size_text,
)
from core.learner import AdaptedClassifier
from tests.conftest import need

TOLERANCE = 1e-4
CLASSES = (0, 7, 13)  # dataset class indices: three classes of each (mini-ImageNet val has 16)
SHOTS, QUERIES = 2, 2  # images per class to teach with, and others to check


@pytest.fixture(scope="module")
def omniglot_data(omniglot_root):
    from core.data import omniglot

    return omniglot("test", omniglot_root)


@pytest.fixture(scope="module")
def photo_data(miniimagenet_root):
    from core.data import load_dataset

    need(miniimagenet_root / "val", "mini-ImageNet val")
    return load_dataset("miniimagenet", "val")


def _lesson(data):
    """(support images, their labels, query images) of CLASSES: real images, none twice."""
    support, labels, queries = [], [], []
    for c in CLASSES:
        images = data.images(c, range(SHOTS + QUERIES))
        support += images[:SHOTS]
        labels += [data.classes[c].replace("/", "_")] * SHOTS
        queries += images[SHOTS:]
    return support, labels, queries


def _load_example(folder: Path):
    """The exported example.py as a module (its __main__ part does not run)."""
    spec = importlib.util.spec_from_file_location(f"example_{folder.name}", folder / EXAMPLE_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Case:
    classifier: AdaptedClassifier
    export: Export
    folder: Path  # the four files, written
    queries: list  # real images of the taught classes, not taught with
    before: np.ndarray  # the app's probabilities for them, before the export


CASES = {  # id -> (model, adapt() settings)
    "omniglot-protonet": ("omniglot-protonet", {}),
    "omniglot-protonet-cosine": ("omniglot-protonet", {"distance": "cosine"}),
    "omniglot-maml": ("omniglot-maml", {}),
    "photo-protonet": ("photo-protonet", {}),
    "photo-maml": ("photo-maml", {}),
}


@pytest.fixture(scope="module")
def exported(request, tmp_path_factory, omniglot_root):
    """case id -> Case, made once per case for this module."""
    made = {}

    def get(case: str):
        if case not in made:
            name, settings = CASES[case]
            data = request.getfixturevalue("photo_data" if "photo" in name else "omniglot_data")
            support, labels, queries = _lesson(data)
            classifier = load_model(name).adapt(support, labels, **settings)
            before = classifier.predict_proba(queries)  # computed before any export
            export = export_classifier(classifier)
            folder = tmp_path_factory.mktemp(case)
            export.write(folder)
            made[case] = Case(classifier, export, folder, queries, before)
        return made[case]

    return get


@pytest.mark.parametrize("case", list(CASES))
def test_onnxruntime_gives_the_apps_probabilities(exported, case):
    made = exported(case)
    queries = made.queries
    example = _load_example(made.folder)
    info = json.loads((made.folder / CLASSES_FILE).read_text())
    batch = np.stack(
        [example.preprocess(image, **info["preprocessing"]["arguments"]) for image in queries]
    )
    # example.py prepares an image exactly as the app's encoder does.
    model = made.classifier.model
    if model.input_kind == "character":
        np.testing.assert_array_equal(batch, model.encode(queries).numpy())
    else:
        views = [photo_batch(queries, model.encode.size, crop) for crop in model.encode.crops]
        np.testing.assert_array_equal(batch, torch.stack(views, 1).numpy())
    session = onnxruntime.InferenceSession(str(made.folder / MODEL_FILE))
    assert [i.name for i in session.get_inputs()] == [info["input"]["name"]]
    (probabilities,) = session.run(None, {info["input"]["name"]: batch})
    expected = made.before  # AdaptedClassifier.predict_proba(queries)
    difference = float(np.abs(probabilities - expected).max())
    print(f"{case}: {made.export.onnx_size} bytes, max |onnx - app| = {difference:.2e}")
    assert probabilities.shape == (len(queries), len(CLASSES))  # 6 rows; traced with 2
    assert difference <= TOLERANCE
    assert np.allclose(probabilities.sum(1), 1.0, atol=1e-5)
    # Real predictions, not one answer for every image: the winners are the app's.
    np.testing.assert_array_equal(probabilities.argmax(1), expected.argmax(1))
    assert np.ptp(probabilities, axis=0).max() > 0.05
    assert info["classes"] == [str(c) for c in made.classifier.classes]


@pytest.mark.parametrize("case", ["omniglot-maml", "photo-protonet"])
def test_the_example_program_runs_outside_the_project(exported, case, tmp_path):
    """example.py, in a fresh process in another folder without the project on its path,
    prints the app's winning class for each image file."""
    made = exported(case)
    paths = []
    for i, image in enumerate(made.queries):
        path = tmp_path / f"query{i}.png"  # lossless: the file holds the app's pixels
        image.save(path)
        paths.append(path.name)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(made.folder / EXAMPLE_FILE), *paths],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths)
    for path, line, row in zip(paths, lines, made.before):
        label = line.removeprefix(f"{path}: ").rpartition(" (")[0]
        assert label == made.export.classes[int(row.argmax())], line
        assert line.endswith(f"({row.max():.1%})")
    imports = {
        line.split()[1].split(".")[0]
        for line in made.export.example.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imports == {"json", "sys", "pathlib", "numpy", "onnxruntime", "PIL"}


def test_the_files_say_what_they_hold_and_the_size(exported):
    made = exported("omniglot-maml")
    export, folder = made.export, made.folder
    files = export.files()
    assert list(files) == [MODEL_FILE, CLASSES_FILE, EXAMPLE_FILE, README_FILE]
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    with zipfile.ZipFile(io.BytesIO(export.zip_bytes())) as archive:
        assert archive.namelist() == list(files)
        assert archive.read(MODEL_FILE) == export.onnx
    info = json.loads(files[CLASSES_FILE])
    assert info["onnx_bytes"] == export.onnx_size == (folder / MODEL_FILE).stat().st_size
    assert info["algorithm"] == "maml" and info["input"]["shape"] == ["batch", 1, 28, 28]
    readme = files[README_FILE].decode()
    assert f"{export.onnx_size:,} bytes" in readme and size_text(export.onnx_size) in readme
    assert "weights MAML adapted" in readme


def test_exporting_leaves_the_shared_model_as_it_was(exported):
    """The graph holds copies: the loaded model (shared by every session in the app), the
    classifier's adapted weights and the shared photo backbone are as they were."""
    model = load_model("omniglot-maml")
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    classifier = model.adapt(*_lesson_of_two())
    adapted = {k: v.clone() for k, v in classifier.params.items()}
    export_classifier(classifier)
    assert not model.net.training
    assert all(torch.equal(before[k], v) for k, v in model.net.state_dict().items())
    assert all(torch.equal(adapted[k], v) for k, v in classifier.params.items())
    photo = exported("photo-protonet")
    backbone = load_backbone(photo.classifier.model.encode.network)
    assert not backbone.training and not any(p.requires_grad for p in backbone.parameters())
    photo.classifier.model.encode._cache.clear()  # the features computed again after export
    after = photo.classifier.predict_proba(photo.queries)
    assert np.abs(after - photo.before).max() <= 1e-6


def _lesson_of_two():
    from PIL import Image

    from tests.app.conftest import character_png

    images = [Image.open(io.BytesIO(character_png(s, v))) for s in (0, 1) for v in (0, 1)]
    return images, ["circle", "circle", "cross", "cross"]


def test_example_py_is_the_packaged_file_read_as_data(protonet_model):
    """example.py is core/export/program/example.py as it is, for every model: nothing is
    filled into it in code; what differs between exports (the class names, the input's
    name, the preparation's arguments) it reads from classes.json when it runs."""
    from core.export import EXAMPLE_SOURCE, INPUT_NAME, example_program

    shipped = EXAMPLE_SOURCE.read_text(encoding="utf-8")
    export = export_classifier(protonet_model.adapt(*_lesson_of_two()))
    assert export.example == example_program() == shipped
    assert export.files()[EXAMPLE_FILE] == EXAMPLE_SOURCE.read_bytes()
    assert f'(here / "{CLASSES_FILE}")' in shipped and f'(here / "{MODEL_FILE}")' in shipped
    assert 'info["input"]["name"]' in shipped and export.info["input"]["name"] == INPUT_NAME
    assert "{{" not in shipped and "{preprocess}" not in shipped  # no template left over
    compile(shipped, str(EXAMPLE_SOURCE), "exec")


def test_size_text():
    assert size_text(16_156_624) == "16.2 MB"
    assert size_text(449_218) == "449 KB"


def test_class_names_must_match_the_classes(protonet_model):
    classifier = protonet_model.adapt(*_lesson_of_two())
    with pytest.raises(ValueError, match="got 3 class names for a classifier of 2 classes"):
        export_classifier(classifier, ["a", "b", "c"])
    export = export_classifier(classifier, ["round", "crossed"])
    assert export.classes == ["round", "crossed"]


# --- the command line ------------------------------------------------------------------------


def _support_folder(root: Path, data, classes=CLASSES) -> Path:
    for c in classes:
        folder = root / data.classes[c].replace("/", "_")
        folder.mkdir(parents=True)
        for i, image in enumerate(data.images(c, range(SHOTS))):
            image.save(folder / f"{i}.png")
    return root


def test_the_command_line_writes_the_files(omniglot_data, tmp_path, capsys):
    support = _support_folder(tmp_path / "support", omniglot_data)
    (support / "notes.txt").write_text("not a class")  # a file beside the class folders
    out = tmp_path / "exported"
    assert main(["--model", "omniglot-protonet", "--support", str(support), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    size = (out / MODEL_FILE).stat().st_size
    assert f"{MODEL_FILE} is {size_text(size)} ({size:,} bytes)" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MODEL_FILE, CLASSES_FILE, EXAMPLE_FILE, README_FILE]
    )
    info = json.loads((out / CLASSES_FILE).read_text())
    assert info["classes"] == sorted(p.name for p in support.iterdir() if p.is_dir())
    # The file classifies as the app does with the same folder (as core.predict reads it).
    classifier = load_model("omniglot-protonet").adapt(*_read_support_images(support))
    queries = [omniglot_data.images(c, [SHOTS])[0] for c in CLASSES]
    session = onnxruntime.InferenceSession(str(out / MODEL_FILE))
    (probabilities,) = session.run(None, {"images": classifier.model.encode(queries).numpy()})
    assert np.abs(probabilities - classifier.predict_proba(queries)).max() <= TOLERANCE

    assert (
        main(["--model", "omniglot-maml", "--support", str(support), "--out", str(out), "--json"])
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["onnx_bytes"] == (out / MODEL_FILE).stat().st_size
    assert document["classes"] == info["classes"] and document["rejected"] == []
    assert json.loads((out / CLASSES_FILE).read_text())["algorithm"] == "maml"


def _read_support_images(support: Path):
    from core.predict import read_support

    images, labels, _ = read_support(support)
    return images, labels


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, "has 0 class folders; between 2 and 20 are needed"),
        ({"only": ["a.png"]}, "has 1 class folders; between 2 and 20 are needed"),
        ({"good": ["a.png"], "empty": []}, "no valid image for class(es) empty"),
        ({"good": ["a.png"], "broken": ["b.png"]}, "no valid image for class(es) broken"),
    ],
)
def test_unusable_support_folders_get_a_clear_error(tmp_path, capsys, layout, message):
    from tests.app.conftest import character_png

    support = tmp_path / "support"
    support.mkdir()
    for name, files in layout.items():
        (support / name).mkdir()
        for file in files:
            data = b"not an image" if name == "broken" else character_png(0)
            (support / name / file).write_bytes(data)
    out = tmp_path / "out"
    code = main(["--model", "omniglot-protonet", "--support", str(support), "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("error: ") and message in error
    assert not out.exists()  # nothing written


def test_missing_folder_and_unknown_model_are_named(tmp_path, omniglot_data, capsys):
    assert (
        main(
            [
                "--model",
                "omniglot-protonet",
                "--support",
                str(tmp_path / "nope"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert f"support folder not found: {tmp_path / 'nope'}" in capsys.readouterr().err
    support = _support_folder(tmp_path / "support", omniglot_data, CLASSES[:2])
    assert (
        main(["--model", "no-such-model", "--support", str(support), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "no-such-model" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert (
        main(
            [
                "--model",
                "omniglot-protonet",
                "--support",
                str(support),
                "--out",
                str(tmp_path / "file"),
            ]
        )
        == 2
    )
    assert "--out must be a folder" in capsys.readouterr().err


def test_python_dash_m_core_export_has_help():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "core.export", "--help"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert "usage: python -m core.export" in result.stdout and "--support" in result.stdout
