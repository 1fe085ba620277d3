"""Evaluate a model on N-way K-shot episodes: mean accuracy and 95% confidence interval.

    python -m core.evaluate --model omniglot-protonet --dataset omniglot --split test \\
        --ways 5 --shots 1 --queries 15 --episodes 1000 --seed 0 --json

The interval is 1.96 * std / sqrt(episodes) over per-episode accuracies (the protocol of
Snell et al. and Finn et al.). Fixed seed -> the same episodes every time.

A folder dataset is checked first (every file decoded once): unusable files are left out of
the episodes and listed, with the reason, under "rejected" in the result.

The test split is for reporting: `--split test --log-test WHY` appends the result, the
weights' hash, the commit and the full command, with WHY, to docs/results/test_log.jsonl
(`--test-log PATH` chooses another file), so every look at the test split stays on record.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from tqdm import tqdm

from core.checkpoints import models_dir
from core.data import DatasetMissing, FolderDataset, TensorDataset, first_images, load_dataset
from core.episodes import check_episode_shape, episodes
from core.files import atomic_write_bytes
from core.images import ImageRejected
from core.learner import FewShotModel, load_model
from core.stats import mean_ci95

ROOT = Path(__file__).resolve().parent.parent
TEST_LOG = ROOT / "docs" / "results" / "test_log.jsonl"


@dataclass
class EvalConfig:
    model: str
    dataset: str = "omniglot"  # "omniglot", "miniimagenet" or a folder of class subfolders
    split: str = "test"
    ways: int = 5
    shots: int = 1
    queries: int = 15
    episodes: int = 1000
    seed: int = 0
    inner_steps: int | None = None  # MAML: test-time inner steps (default: the model card's)
    inner_lr_scale: float | None = None  # MAML: multiplies the learned inner step sizes
    device: str = "cpu"
    first: int = 0  # folder datasets: only each class's first N images (0: all)


def episode_inputs(model: FewShotModel, data, episode, device, table=None):
    """Encoded support and query inputs for one episode: (N*K, ...), (N*Q, ...).

    table: optional encodings of every image of `data` (one (M_c, ...) tensor per class).
    """
    if table is not None:
        classes = episode.classes.tolist()
        support = torch.cat([table[c][episode.support[k]] for k, c in enumerate(classes)])
        query = torch.cat([table[c][episode.query[k]] for k, c in enumerate(classes)])
        return support.to(device), query.to(device)
    if isinstance(data, TensorDataset) and model.input_kind == "character":
        support = data.batch(episode.classes, episode.support).flatten(0, 1)
        query = data.batch(episode.classes, episode.query).flatten(0, 1)
        return support.to(device), query.to(device)
    support_images, query_images = [], []
    for k, c in enumerate(episode.classes.tolist()):
        support_images += data.images(c, episode.support[k].tolist())
        query_images += data.images(c, episode.query[k].tolist())
    encoded = model.encode(support_images + query_images)
    return encoded[: len(support_images)].to(device), encoded[len(support_images) :].to(device)


def evaluate(
    config: EvalConfig,
    model: FewShotModel | None = None,
    progress: bool = False,
    on_episode=None,
    data: FolderDataset | TensorDataset | None = None,
) -> dict:
    """Run the episodes; returns the JSON-able result (accuracy and ci95 in percent).

    data: the dataset already loaded, or a part of it (default: config.dataset's
    config.split); the episodes are drawn from its class sizes.
    """
    model = model or load_model(config.model)
    if data is None:
        data = load_dataset(config.dataset, config.split)
        if config.first:
            data = first_images(data, config.first)
    if isinstance(data, FolderDataset):
        # Decode every file once, so episodes are drawn from usable files only; the others
        # are reported in result["rejected"].
        data = data.without_unreadable(progress)
    device = torch.device(config.device)
    if device.type != "cpu":
        model = model.to(device)
    started = time.perf_counter()
    accuracies = []
    iterator = episodes(
        data.class_sizes(), config.ways, config.shots, config.queries, config.episodes, config.seed
    )
    settings: dict = {} if config.inner_steps is None else {"inner_steps": config.inner_steps}
    if config.inner_lr_scale is not None:
        settings["inner_lr_scale"] = config.inner_lr_scale
    # Encoders of heavy backbones may offer every image's encoding at once (cached on disk,
    # core.encoders.photo); None when encoding per episode is cheaper.
    dataset_encodings = getattr(model.encode, "dataset_features", None)
    check_episode_shape(config.ways, config.shots, config.queries, data.class_sizes())
    draws = config.episodes * config.ways * (config.shots + config.queries)
    table = dataset_encodings(data, draws, progress) if dataset_encodings else None
    for episode in tqdm(
        iterator,
        total=config.episodes,
        disable=not progress,
        file=sys.stderr,
        desc=f"{model.name} {config.ways}w{config.shots}s",
    ):
        support, query = episode_inputs(model, data, episode, device, table)
        support_labels = torch.arange(config.ways).repeat_interleave(config.shots)
        query_labels = torch.arange(config.ways).repeat_interleave(config.queries)
        classifier = model.adapt_tensors(
            support, support_labels.to(device), list(range(config.ways)), **settings
        )
        predicted = torch.from_numpy(classifier.predict_proba_tensors(query).argmax(1))
        accuracies.append(float((predicted == query_labels).float().mean()))
        if on_episode is not None:
            on_episode(len(accuracies), accuracies[-1])
    mean, ci = mean_ci95(accuracies)
    result = {
        **asdict(config),
        "accuracy": round(100 * mean, 2),
        "ci95": round(100 * ci, 2),
        "algorithm": model.algorithm,
        "wall_time_s": round(time.perf_counter() - started, 1),
    }
    if model.algorithm == "maml":
        result["inner_steps"] = (
            config.inner_steps if config.inner_steps is not None else model.default_inner_loop.steps
        )
    if isinstance(data, FolderDataset) and data.rejected:
        result["rejected"] = data.rejected
    return result


def _git(*args: str) -> str | None:
    """git's answer in the repository, or None where git or the repository is missing."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def log_entry(result: dict, why: str) -> dict:
    """One line of docs/results/test_log.jsonl (format: docs/results/test_log.md) for a
    test-split `result` of main(): when, at which commit, which weights (sha256 of the
    model's .safetensors), the settings with the full command, and why the test split was
    read. `shipped`: the weights are the committed file in the repository's assets/models,
    unmodified; None where git cannot tell. Whether they are shipped today is computed when
    the log is read (read_test_log), not stamped here."""
    weights = models_dir() / f"{result['model']}.safetensors"
    shipped = False
    if weights.resolve().is_relative_to(ROOT / "assets" / "models"):
        relative = str(weights.resolve().relative_to(ROOT))
        tracked = _git("ls-files", "--", relative)
        changed = _git("status", "--porcelain", "--", relative)
        shipped = None if tracked is None or changed is None else bool(tracked) and not changed
    keys = ("dataset", "split", "ways", "shots", "queries", "episodes", "seed")
    settings = {key: result[key] for key in keys}
    settings |= {k: result[k] for k in ("inner_steps", "inner_lr_scale") if result[k] is not None}
    if result.get("first"):
        settings["first"] = result["first"]
    settings |= {"device": result["device"], "command": result["command"]}
    card = models_dir() / f"{result['model']}.json"
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "model": result["model"],
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        # The card holds MAML's inner loop: the same weights with another loop are another
        # model (omniglot-maml v2 kept v1's weights).
        "model_sha256": model_digest(json.loads(card.read_text())) if card.exists() else None,
        "settings": settings,
        "result": {"mean": result["accuracy"], "ci95": result["ci95"]},
        "shipped": shipped,
        "why": why,
        "source": "python -m core.evaluate --log-test",
    }


def model_digest(card: dict) -> str:
    """sha256 of what, beside the weights, decides a model's answers: its network, encoder
    and algorithm settings (MAML's inner loop, ProtoNet's distance), not its metrics or
    history."""
    notes = ("test_loop_chosen_on", "what_the_steps_do")  # words about the loop, not the loop
    maml_settings = {k: v for k, v in card.get("maml", {}).items() if k not in notes}
    parts = {k: card.get(k) for k in ("network", "encoder", "protonet")} | {"maml": maml_settings}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def read_test_log(path: Path = TEST_LOG) -> list[dict]:
    """The test log's lines, each with `shipped_now` computed when read: the line's weights
    are today's assets/models file and its model settings (model_digest) today's card's.
    A line written before model_sha256 was recorded is compared through the card at its
    commit (git); None where that cannot be told. Never stamped when written: a stamp goes
    stale when a model changes."""
    today: dict[str, tuple[str | None, str | None]] = {}
    then: dict[tuple[str, str], str | None] = {}  # (commit, model) -> its settings digest
    lines = []
    for text in Path(path).read_text().splitlines():
        if not text.strip():
            continue
        line = json.loads(text)
        name = line.get("model")
        if name not in today:
            weights = ROOT / "assets" / "models" / f"{name}.safetensors"
            card = ROOT / "assets" / "models" / f"{name}.json"
            today[name] = (
                hashlib.sha256(weights.read_bytes()).hexdigest() if weights.exists() else None,
                model_digest(json.loads(card.read_text())) if card.exists() else None,
            )
        weights_now, settings_now = today[name]
        settings = line.get("model_sha256")
        if settings is None and line.get("commit"):
            key = (line["commit"], name)
            if key not in then:  # one git call per commit and model, not per line
                card = _git("show", f"{line['commit']}:assets/models/{name}.json")
                then[key] = model_digest(json.loads(card)) if card else None
            settings = then[key]
        if line.get("weights_sha256") is None or weights_now is None:
            line["shipped_now"] = False
        elif settings is None:
            line["shipped_now"] = None
        else:
            line["shipped_now"] = line["weights_sha256"] == weights_now and settings == settings_now
        lines.append(line)
    return lines


def append_test_log(path: Path, line: dict) -> None:
    """Append one JSON line to `path`: the whole file is rewritten atomically
    (core.files), so a reader never sees half a line."""
    path = Path(path)
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    atomic_write_bytes(path, old + (json.dumps(line) + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="a name from assets/models")
    parser.add_argument(
        "--dataset",
        default="omniglot",
        help="omniglot, miniimagenet, or a folder of class subfolders",
    )
    parser.add_argument("--split", default="test")
    for name, default in (
        ("ways", 5),
        ("shots", 1),
        ("queries", 15),
        ("episodes", 1000),
        ("seed", 0),
    ):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument(
        "--inner-steps",
        type=int,
        default=None,
        help="MAML test-time inner steps (default: the model card's)",
    )
    parser.add_argument(
        "--inner-lr-scale",
        type=float,
        default=None,
        help="MAML: multiply the learned inner step sizes (default 1)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--first",
        type=int,
        default=0,
        help="folder datasets: only each class's first N images (0: all), e.g. cached features",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument(
        "--log-test",
        metavar="WHY",
        default=None,
        help="with --split test: append the result and WHY to the test log",
    )
    parser.add_argument(
        "--test-log",
        metavar="PATH",
        type=Path,
        default=TEST_LOG,
        help="the file --log-test appends to (default: docs/results/test_log.jsonl)",
    )
    args = parser.parse_args(argv)
    if args.log_test is not None and args.split != "test":
        parser.error(f"--log-test records test-split evaluations; got --split {args.split}")
    if args.log_test is not None and not args.log_test.strip():
        parser.error("--log-test needs a reason (WHY), got an empty one")
    flags = vars(args)
    as_json = flags.pop("json")
    why, log_path = flags.pop("log_test"), flags.pop("test_log")
    config = EvalConfig(**flags)
    try:
        result = evaluate(config, progress=True)
    except (DatasetMissing, ValueError, ImageRejected) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result["command"] = "python -m core.evaluate " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    if why is not None:
        append_test_log(log_path, log_entry(result, why))
    if as_json:
        print(json.dumps(result))
    else:
        print(
            f"{result['model']} on {result['dataset']}/{result['split']} "
            f"{config.ways}-way {config.shots}-shot: {result['accuracy']:.2f} "
            f"+- {result['ci95']:.2f}% ({config.episodes} episodes)"
        )
        for item in result.get("rejected", []):
            print(f"skipped {item['file']}: {item['reason']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
