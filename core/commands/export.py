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

import json
import sys
from pathlib import Path

from core.checkpoints import CheckpointError
from core.cli import command_parser, input_error
from core.export import EXAMPLE_FILE, MODEL_FILE, export_folder, size_text

MODULE = "core.export"


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(MODULE, __doc__)
    parser.add_argument("--model", required=True, help="a name from assets/models")
    parser.add_argument("--support", required=True, type=Path, help="folder of class subfolders")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the files into")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    try:
        exported, paths, rejected = export_folder(args.model, args.support, args.out)
    except (ValueError, CheckpointError) as error:
        return input_error(error)
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
