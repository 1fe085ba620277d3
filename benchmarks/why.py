"""Timings of issue 30's "why" features, median of several runs on this machine.

    python -m benchmarks.why occlusion [--runs 7] [--out docs/results/why]
    python -m benchmarks.why leave-one-out [--runs 7] [--maml-runs 3] [--models NAME ...]

occlusion: "Why this verdict?" (lab.occlusion) as the app computes it, the occlusion map and
the nearest examples of the winner and runner-up, for the example lessons' first check image
under each shipped model (the photo lesson needs no dataset; the handwriting one reads
../shared/data and is left out without it). One untimed run first (the ONNX Runtime session,
the support features). The load average is recorded beside the times: other processes on
the machine's cores slow the photo backbone in proportion, so the process's CPU seconds (all
its threads) are recorded too: on an otherwise idle machine the wall time of a photo is about
its CPU seconds over the cores its backbone workers use.

leave-one-out: Teach's "Check the lesson" (lab.influence.leave_one_out) on the issue's
largest lesson, 10 classes x 10 examples with 2 check images each, from Omniglot's
evaluation alphabets and mini-ImageNet's test classes (../shared/data), per shipped model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def summary(seconds: list[float], cpu: list[float], loads: list[float]) -> dict[str, float]:
    """Median, min and max wall time, median CPU time and load of the timed runs."""
    return {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "cpu_s_median": round(statistics.median(cpu), 3),
        "load_average_1min_median": round(statistics.median(loads), 2),
    }


def _lesson_task(kind: str):
    from lab.examples import ExampleMissing, lesson

    try:
        found = lesson(kind)
    except ExampleMissing as error:
        print(f"{kind}: left out ({error})", file=sys.stderr)
        return None
    support = [e.image for examples in found.support for e in examples]
    labels = [i for i, examples in enumerate(found.support) for _ in examples]
    return support, labels, found.checks[0][0].image


def time_occlusion(runs: int) -> list[dict]:
    """Seconds per explanation (map + nearest examples), per model: median, min, max."""
    from core import load_model
    from lab import occlusion

    rows = []
    for kind, models in (
        ("photo", ("photo-protonet", "photo-maml")),
        ("character", ("omniglot-protonet", "omniglot-maml")),
    ):
        task = _lesson_task(kind)
        if task is None:
            continue
        support, labels, image = task
        for name in models:
            classifier = load_model(name).adapt(support, labels)
            seconds, cpu, loads = [], [], []
            for run in range(runs + 1):
                start, start_cpu = time.perf_counter(), time.process_time()
                result = occlusion.occlusion_map(classifier, image)
                occlusion.nearest_examples(
                    classifier, image, support, labels, (result.winner, result.runner_up)
                )
                if run:  # the first run is the warm-up
                    seconds.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                    loads.append(os.getloadavg()[0])
            rows.append(
                {
                    "model": name,
                    "copies": result.copies,
                    "patch": result.patch,
                    "stride": result.stride,
                    "runs": runs,
                }
                | summary(seconds, cpu, loads)
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def occlusion_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.why occlusion")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "why")
    args = parser.parse_args(argv)
    import torch

    started = datetime.now(UTC)
    load_at_start = round(os.getloadavg()[0], 2)
    rows = time_occlusion(args.runs)
    record = {
        "command": "python -m benchmarks.why occlusion " + " ".join(argv),
        "date": started.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min_at_start": load_at_start,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"occlusion-{started:%Y-%m-%dT%H%M%S}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


# --- leave-one-out: Teach's "Check the lesson" (lab.influence) ----------------------------

LESSON_CLASSES, LESSON_SHOTS, LESSON_CHECKS = 10, 10, 2  # the largest lesson: 10 x 10


def _omniglot_lesson():
    """10 characters of Omniglot's evaluation alphabets (the first by file name), 10 drawings
    each to teach with and 2 to check; None without the dataset."""
    import io
    import zipfile

    from PIL import Image

    from core.paths import data_root

    source = data_root() / "omniglot" / "images_evaluation.zip"
    if not source.exists():
        print(f"omniglot: left out ({source} not found)", file=sys.stderr)
        return None
    with zipfile.ZipFile(source) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".png"))
        by_character: dict[str, list[str]] = {}
        for name in names:
            by_character.setdefault(name.rsplit("/", 1)[0], []).append(name)
        characters = sorted(by_character)[:LESSON_CLASSES]

        def image(member: str):
            return Image.open(io.BytesIO(archive.read(member))).convert("L")

        drawings = [
            [image(m) for m in by_character[c][: LESSON_SHOTS + LESSON_CHECKS]] for c in characters
        ]
    return drawings


def _miniimagenet_lesson():
    """10 mini-ImageNet test classes (the first by name), 12 photos each; None without it."""
    from PIL import Image

    from core.paths import data_root

    root = data_root() / "miniimagenet" / "test"
    if not root.exists():
        print(f"photos: left out ({root} not found)", file=sys.stderr)
        return None
    classes = sorted(p for p in root.iterdir() if p.is_dir())[:LESSON_CLASSES]
    return [
        [
            Image.open(f).convert("RGB")
            for f in sorted(c.glob("*.jpg"))[: LESSON_SHOTS + LESSON_CHECKS]
        ]
        for c in classes
    ]


def time_leave_one_out(
    runs: int, maml_runs: int, only: list[str] | None = None, classes: int = 10, shots: int = 10
) -> list[dict]:
    """Seconds for lab.influence.leave_one_out on a 10 x 10 lesson with 20 check images of
    known class, per shipped model: the first call (photos: the backbone encodes every image)
    and the median of the runs after it (the images' features cached, as on Teach, where the
    adaptation encoded them already). MAML re-adapts once per example: 100 adaptations."""
    from core import load_model
    from lab.influence import leave_one_out

    rows = []
    for lesson, models in (
        (_omniglot_lesson, ("omniglot-protonet", "omniglot-maml")),
        (_miniimagenet_lesson, ("photo-protonet", "photo-maml")),
    ):
        images_by_class = lesson()
        if images_by_class is None:
            continue
        images_by_class = [images[:shots] + images[LESSON_SHOTS:] for images in images_by_class]
        images_by_class = images_by_class[:classes]
        support = [i for images in images_by_class for i in images[:shots]]
        labels = [c for c, images in enumerate(images_by_class) for _ in images[:shots]]
        checks = [i for images in images_by_class for i in images[shots:]]
        truth = [c for c, images in enumerate(images_by_class) for _ in images[shots:]]
        for name in models:
            if only and name not in only:
                continue
            model = load_model(name)
            count = runs if model.algorithm == "protonet" else maml_runs
            seconds, cpu, loads, first = [], [], [], None
            for run in range(count + 1):
                start, start_cpu = time.perf_counter(), time.process_time()
                result = leave_one_out(model, support, labels, checks, truth)
                elapsed = time.perf_counter() - start
                if run == 0:
                    first = elapsed
                    continue
                seconds.append(elapsed)
                cpu.append(time.process_time() - start_cpu)
                loads.append(os.getloadavg()[0])
            rows.append(
                {
                    "model": name,
                    "classes": classes,
                    "examples": len(support),
                    "check_images": len(checks),
                    "suspects_found": len(result.suspects()),
                    "first_s": round(first, 3),
                    "runs": count,
                }
                | summary(seconds, cpu, loads)
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def leave_one_out_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.why leave-one-out")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per ProtoNet model")
    parser.add_argument("--maml-runs", type=int, default=3, help="timed runs per MAML model")
    parser.add_argument("--models", nargs="*", help="only these models (default: all four)")
    parser.add_argument("--classes", type=int, default=LESSON_CLASSES, help="at most 10")
    parser.add_argument("--shots", type=int, default=LESSON_SHOTS, help="at most 10")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "why")
    args = parser.parse_args(argv)
    import torch

    started = datetime.now(UTC)
    load_at_start = round(os.getloadavg()[0], 2)
    if not (2 <= args.classes <= LESSON_CLASSES and 1 <= args.shots <= LESSON_SHOTS):
        parser.error(f"--classes 2..{LESSON_CLASSES} and --shots 1..{LESSON_SHOTS}")
    rows = time_leave_one_out(args.runs, args.maml_runs, args.models, args.classes, args.shots)
    record = {
        "command": "python -m benchmarks.why leave-one-out " + " ".join(argv),
        "date": started.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min_at_start": load_at_start,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    size = f"{args.classes}x{args.shots}"
    path = args.out / f"leave-one-out-{size}-{started:%Y-%m-%dT%H%M%S}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


COMMANDS = {"occlusion": occlusion_main, "leave-one-out": leave_one_out_main}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m benchmarks.why {{{','.join(COMMANDS)}}} [--flags]")
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
