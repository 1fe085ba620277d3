"""The ONNX export's size per shipped model, as the README states it: each model taught 5
classes of 5 real images (the first 5 classes and images of Omniglot test for handwriting, of
mini-ImageNet val for photos), exported with `python -m core.export --json`.

    python -m scripts.export_sizes > docs/results/export_sizes.jsonl
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from core.data import load_dataset
from core.learner import list_checkpoints, load_model

CLASSES = IMAGES = 5


def support_folder(root: Path, dataset: str, split: str) -> Path:
    data = load_dataset(dataset, split)
    folder = root / f"{dataset}-{split}"
    for c in range(CLASSES):
        (folder / f"class {c + 1}").mkdir(parents=True)
        for i, image in enumerate(data.images(c, list(range(IMAGES)))):
            image.save(folder / f"class {c + 1}" / f"{i}.png")
    return folder


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = {
            "character": support_folder(root, "omniglot", "test"),
            "photo": support_folder(root, "miniimagenet", "val"),
        }
        for name in list_checkpoints():
            kind = load_model(name).card["input"]
            out = root / f"out-{name}"
            command = [
                sys.executable, "-m", "core.export", "--model", name,
                "--support", str(folders[kind]), "--out", str(out), "--json",
            ]  # fmt: skip
            document = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
            with zipfile.ZipFile(root / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(out.iterdir()):
                    archive.write(path, path.name)
            onnx_bytes = (out / "model.onnx").stat().st_size
            print(
                json.dumps(
                    {
                        "model": name,
                        "support": f"{CLASSES} classes x {IMAGES} images",
                        "model_onnx_bytes": onnx_bytes,
                        "zip_bytes": (root / f"{name}.zip").stat().st_size,
                        "classes": document.get("classes"),
                        "command": "python -m core.export --model "
                        f"{name} --support SUPPORT --out OUT --json",
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
