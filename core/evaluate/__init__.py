"""Evaluate a model on N-way K-shot episodes: mean accuracy and 95% confidence interval.

    from core.evaluate import EvalConfig, evaluate
    result = evaluate(EvalConfig("omniglot-protonet", ways=5, shots=1, episodes=1000))

The interval is 1.96 * std / sqrt(episodes) over per-episode accuracies (the protocol of
Snell et al. and Finn et al.). Fixed seed -> the same episodes every time.

A folder dataset is checked first (every file decoded once): unusable files are left out of
the episodes and listed, with the reason, under "rejected" in the result.

The command line is core.commands.evaluate (`python -m core.evaluate`); the test log it
appends to is core.testlog.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass

import torch
from tqdm import tqdm

from core.data import FolderDataset, TensorDataset, first_images, load_dataset, some_classes
from core.episodes import check_episode_shape, episodes
from core.learner import FewShotModel, load_model
from core.stats import mean_ci95


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
    classes: int = 0  # only N of the split's classes, a fixed draw (core.data.some_classes)


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
        data = some_classes(data, config.classes)
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
