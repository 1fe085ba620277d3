"""Lake et al.'s one-shot classification task on Omniglot: 20-way, one drawing per character,
every character from one alphabet.

Lake, Salakhutdinov & Tenenbaum (Science 2015) showed people one drawing of a new character
and asked them to pick the drawing of the same character among 20 characters of the same
alphabet, each drawn by another person; people scored 95.5% (4.5% error). Within one alphabet
the candidates look alike, so this is harder than the usual benchmark's 20 characters drawn
from anywhere.

A trial here: an alphabet of Omniglot's test split with at least `ways` characters, `ways`
of its characters (unrotated), two different drawers; the support is drawer A's drawing of
each character, the queries drawer B's. Every query is one of Lake's trials (pick its twin
among the 20 support drawings), so a trial gives `ways` answers. Seeded, so the same seed
gives the same trials on every machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from core.data import TensorDataset
from core.stats import mean_ci95

HUMAN_ACCURACY = 95.5  # Lake et al. 2015, 20-way within-alphabet one-shot (4.5% error)


@dataclass(frozen=True)
class Trial:
    alphabet: str
    classes: tuple[int, ...]  # class indices into the dataset, one per character
    support_drawer: int  # which drawing of each character is shown
    query_drawer: int  # which drawing is to be matched


def alphabets(data: TensorDataset) -> dict[str, list[int]]:
    """Unrotated characters of each alphabet: {alphabet: [class index, ...]} in split order."""
    grouped: dict[str, list[int]] = {}
    for index, name in enumerate(data.classes):
        alphabet, _character, rotation = name.split("/")
        if rotation == "rot000":
            grouped.setdefault(alphabet, []).append(index)
    return grouped


def trials(data: TensorDataset, ways: int = 20, count: int = 100, seed: int = 0) -> Iterator[Trial]:
    """`count` seeded trials from the alphabets with at least `ways` characters.

    Raises:
        ValueError: no alphabet of `data` has `ways` characters.
    """
    usable = {a: c for a, c in alphabets(data).items() if len(c) >= ways}
    if not usable:
        raise ValueError(f"no alphabet of {data.name} has {ways} unrotated characters")
    names = sorted(usable)
    drawings = int(data.data.shape[1])
    generator = torch.Generator().manual_seed(seed)
    for _ in range(count):
        alphabet = names[int(torch.randint(len(names), (1,), generator=generator))]
        characters = usable[alphabet]
        chosen = torch.randperm(len(characters), generator=generator)[:ways].tolist()
        support_drawer, query_drawer = torch.randperm(drawings, generator=generator)[:2].tolist()
        yield Trial(alphabet, tuple(characters[i] for i in chosen), support_drawer, query_drawer)


def trial_tensors(data: TensorDataset, trial: Trial) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, H, W) support and query images of a trial, as the models read them."""
    classes = torch.tensor(trial.classes)
    support = data.batch(classes, torch.full((len(classes), 1), trial.support_drawer))
    query = data.batch(classes, torch.full((len(classes), 1), trial.query_drawer))
    return support.flatten(0, 1), query.flatten(0, 1)


def score(model, data: TensorDataset, ways: int = 20, count: int = 100, seed: int = 0) -> dict:
    """A model's accuracy (%) over `count` trials, with a 95% interval over trials."""
    per_trial = []
    labels = torch.arange(ways)
    for trial in trials(data, ways, count, seed):
        support, query = trial_tensors(data, trial)
        classifier = model.adapt_tensors(support, labels, list(range(ways)))
        predicted = classifier.predict_proba_tensors(query).argmax(1)
        per_trial.append(100.0 * float((torch.as_tensor(predicted) == labels).float().mean()))
    mean, ci95 = mean_ci95(per_trial)
    return {
        "model": model.name,
        "ways": ways,
        "trials": count,
        "seed": seed,
        "accuracy": round(mean, 2),
        "ci95": round(ci95, 2),
        "humans": HUMAN_ACCURACY,
    }
