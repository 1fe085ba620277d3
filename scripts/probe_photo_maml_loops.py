"""Probe (issue 28): photo-maml's inner loop on val, in its own domain and beside it.

    python -m scripts.probe_photo_maml_loops --episodes 300 [--out F]

Each candidate is the shipped weights with another inner loop (steps, a factor on the
learned step sizes, and whether the projection layer adapts or only the classifier), run on
the same val episodes of mini-ImageNet (each class's first 100 photos) and of Omniglot drawn
through the photo backbone (200 val classes, core.data.some_classes): photos unlike the
ones it was meta-trained on. photo-protonet runs beside them. With --monotone, also the
share of episodes (the first 100) whose support loss rises at some step. Test is never read.
Candidates: "steps,scale,all" or "steps,scale,head" (head: every other step size 0).
"""

from __future__ import annotations

import argparse
import copy

import torch

from core.cli import report_line
from core.data import FolderDataset, first_images, load_dataset, some_classes
from core.episodes import episodes
from core.evaluate import EvalConfig, episode_inputs, evaluate
from core.learner import FewShotModel, load_model
from core.maml_head import HEAD_BIAS, HEAD_WEIGHT

DATASETS = [("miniimagenet", 100, 0), ("omniglot", 0, 200)]  # name, first, classes


def variant(model: FewShotModel, steps: int, scale: float, adapts: str) -> FewShotModel:
    card = copy.deepcopy(model.card)
    learned = card["maml"].get("lr_meta_learned", card["maml"]["lr"])  # before a chosen scale
    rates = {k: float(v) * scale for k, v in learned.items()}
    if adapts == "head":
        rates = {k: (v if k in (HEAD_WEIGHT, HEAD_BIAS) else 0.0) for k, v in rates.items()}
    card["maml"] |= {"lr": rates, "inner_steps": steps}
    return FewShotModel(model.net, card, model.encode)


def val_data(dataset: str, first: int, classes: int):
    """The val images a probe draws from, loaded (and, for photos, checked) once."""
    data = some_classes(first_images(load_dataset(dataset, "val"), first), classes)
    return data.without_unreadable() if isinstance(data, FolderDataset) else data


def rising_share(model: FewShotModel, data, ways, shots, count) -> float:
    """The share of `count` val episodes in which the support loss rises at some step."""
    table = model.encode.dataset_features(data, None, False)
    labels = torch.arange(ways).repeat_interleave(shots)
    rising = 0
    for episode in episodes(data.class_sizes(), ways, shots, 15, count, seed=0):
        support, _ = episode_inputs(model, data, episode, "cpu", table)
        trace = model.adapt_tensors(support, labels, list(range(ways))).trace
        losses = [r.support_loss for r in trace]
        rising += any(b > a for a, b in zip(losses, losses[1:]))
    return rising / count


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--episodes", type=int, default=300)
    p.add_argument("--candidates", nargs="+", default=["5,1,all", "20,1,all", "20,1,head"])
    p.add_argument("--settings", nargs="+", default=["5w1s", "5w5s"])
    p.add_argument("--protonet", action="store_true")
    p.add_argument("--monotone", action="store_true")
    p.add_argument("--out")
    a = p.parse_args(argv)
    maml = load_model("photo-maml")
    runs = [("photo-protonet", load_model("photo-protonet"))] if a.protonet else []
    for c in a.candidates:
        steps, scale, adapts = c.split(",")
        runs.append((c, variant(maml, int(steps), float(scale), adapts)))
    for dataset, first, classes in DATASETS:
        data = val_data(dataset, first, classes)
        for setting in a.settings:
            ways, shots = (int(x) for x in setting[:-1].split("w"))
            for label, model in runs:
                cfg = EvalConfig(
                    model.name, dataset, "val", ways, shots, 15, a.episodes, seed=0,
                    first=first, classes=classes,
                )  # fmt: skip
                r = evaluate(cfg, model, data=data)
                line = {"candidate": label, "dataset": dataset, "setting": setting}
                line |= {k: r[k] for k in ("accuracy", "ci95", "episodes", "wall_time_s")}
                if a.monotone and model.algorithm == "maml":
                    line["rising_share"] = rising_share(model, data, ways, shots, 100)
                report_line(line, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
