"""Choose and measure "none of these" (core.open_set) on Omniglot or a folder dataset.

    from core.evaluate_open_set import OpenSetConfig, measure, record_threshold
    result = measure(OpenSetConfig("omniglot-protonet", split="val", ways=5))
    record_threshold(OpenSetConfig("omniglot-protonet", ways=5), result)

The command line is core.commands.evaluate_open_set (`python -m core.evaluate_open_set`).

Episodes: N-way K-shot with Q queries per class, plus Q queries from each of U further
classes that have no support images (the unknown). On val the threshold is the one that
maximises Youden's J (the share of known queries kept minus the share of unknown kept);
record_threshold (--record) writes it into the model card, for the number of classes it
was chosen at (card "open_set.by_ways"): run it once per number of classes (2, 5, 10, 20),
since the scores move with N; the app applies the threshold of the nearest N chosen.
Both splits report the AUROC of known against unknown and, at the card's threshold, the
accuracy on known queries (a known query answered "none of these" counts as wrong) and the
share of unknown queries answered "none of these".
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from core.learner import FewShotModel
from core.open_set import SCORES, auroc, novelty, threshold_of, youden_threshold
from core.testlog import TEST_LOG, append_test_log, log_entry


@dataclass(frozen=True)
class OpenSetConfig:
    model: str
    dataset: str = "omniglot"
    split: str = "val"
    ways: int = 5
    shots: int = 5
    queries: int = 15
    unknown_ways: int = 5
    episodes: int = 300
    seed: int = 0
    first: int = 0  # folder datasets: only each class's first N images (core.data.first_images)


def measure(config: OpenSetConfig, model: FewShotModel | None = None, data=None) -> dict:
    """Known and unknown novelty scores over the config's episodes, their AUROC, and (when
    the model has a threshold) the known accuracy and unknown refusal at it."""
    from core.data import first_images, load_dataset
    from core.episodes import episodes
    from core.evaluate import episode_inputs
    from core.learner import load_model

    model = model or load_model(config.model)
    if data is None:
        data = load_dataset(config.dataset, config.split)
        if config.first:
            data = first_images(data, config.first)
    started = time.perf_counter()
    ways, shots, queries = config.ways, config.shots, config.queries
    known, unknown, correct = [], [], []
    draws = episodes(
        data.class_sizes(),
        ways + config.unknown_ways,
        shots,
        queries,
        config.episodes,
        config.seed,
    )
    # A photo encoder serves every image's features from the disk cache (core.evaluate).
    dataset_encodings = getattr(model.encode, "dataset_features", None)
    per_episode = (ways + config.unknown_ways) * (shots + queries)
    table = (
        dataset_encodings(data, config.episodes * per_episode, False) if dataset_encodings else None
    )
    for episode in draws:
        support, query = episode_inputs(model, data, episode, torch.device("cpu"), table)
        support = support.view(ways + config.unknown_ways, shots, *support.shape[1:])[:ways]
        labels = torch.arange(ways).repeat_interleave(shots)
        classifier = model.adapt_tensors(support.flatten(0, 1), labels, list(range(ways)))
        scores = novelty(classifier, query)
        n_known = ways * queries
        known.append(scores[:n_known])
        unknown.append(scores[n_known:])
        predicted = classifier.predict_proba_tensors(query[:n_known]).argmax(1)
        correct.append(predicted == np.repeat(np.arange(ways), queries))
    known_scores, unknown_scores = np.concatenate(known), np.concatenate(unknown)
    right = np.concatenate(correct)
    result = {
        **asdict(config),
        "score": SCORES[model.algorithm],
        "auroc": round(auroc(known_scores, unknown_scores), 4),
        "closed_set_accuracy": round(100 * float(right.mean()), 2),
        "wall_time_s": round(time.perf_counter() - started, 1),
    }
    threshold = threshold_of(model, ways)
    if threshold is not None:
        result["threshold"] = threshold
        result["known_accuracy_at_threshold"] = round(
            100 * float((right & (known_scores <= threshold)).mean()), 2
        )
        result["unknown_refused_at_threshold"] = round(
            100 * float((unknown_scores > threshold).mean()), 2
        )
    if config.split != "test":  # a threshold is chosen on val only: test never offers one
        result["youden_threshold"] = youden_threshold(known_scores, unknown_scores)
    return result


def record_threshold(config: OpenSetConfig, result: dict) -> None:
    """Write the val result's threshold (Youden's J) into the model card, for config.ways
    classes (card "open_set.by_ways"), keeping those chosen for other numbers of classes."""
    from core.checkpoints import models_dir, read_card, write_card

    path = models_dir() / f"{config.model}.json"
    card = read_card(path)
    chosen = {
        "threshold": result["youden_threshold"],
        "chosen_on": {
            k: result[k]
            for k in ("dataset", "split", "ways", "shots", "queries", "unknown_ways")
            + ("episodes", "seed", "first", "auroc", "command")
        },
    }
    entry = card.get("open_set") or {}
    by_ways = dict(entry.get("by_ways", {}))
    if not by_ways and "threshold" in entry:  # an older card: its one threshold, kept by N
        old = {"threshold": entry["threshold"], "chosen_on": entry["chosen_on"]}
        by_ways[str(entry["chosen_on"].get("ways", 5))] = old
    by_ways[str(config.ways)] = chosen
    card["open_set"] = {
        "score": result["score"],
        "by_ways": dict(sorted(by_ways.items(), key=lambda item: int(item[0]))),
    }
    write_card(path, card)


def log_test(result: dict, why: str, path: Path = TEST_LOG) -> None:
    """One line in docs/results/test_log.jsonl (core.testlog), as core.evaluate --log-test
    writes, for a test-split `result` of measure() with the "command" that ran it."""
    shaped = result | {"accuracy": None, "ci95": None, "inner_steps": None}
    shaped |= {"inner_lr_scale": None, "device": "cpu"}
    line = log_entry(shaped, why)
    line["result"] = {
        k: result.get(k)
        for k in ("auroc", "closed_set_accuracy", "threshold")
        + ("known_accuracy_at_threshold", "unknown_refused_at_threshold")
    }
    line["settings"] |= {"unknown_ways": result["unknown_ways"], "first": result["first"]}
    line["source"] = "python -m core.evaluate_open_set --log-test"
    append_test_log(path, line)


_record = record_threshold  # the name it had when it lived beside the command line
