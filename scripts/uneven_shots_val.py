"""Uneven shots on val characters, omniglot-maml: the class-balanced support loss against the
plain mean (issue 28; the plain mean by patching the two functions that weigh the classes).

    PYTHONPATH=. python scripts/uneven_shots_val.py
"""

import core.maml as m
import core.maml_head as h
from core.data import load_dataset
from core.learner import load_model

val = load_dataset("omniglot", "val")
model = load_model("omniglot-maml")


def run(trials: int = 20, n: int = 20) -> float:
    """% right over `trials` tasks of n val characters, 1 or 2 drawings each (alternating)."""
    right = total = 0
    for t in range(trials):
        images, labels, queries = [], [], []
        for c in range(n):
            drawings = val.images((7 * c + 13 * t) % len(val.class_sizes()), range(4))
            shots = 1 + c % 2
            images += drawings[:shots]
            labels += [c] * shots
            queries.append(drawings[3])
        predicted = model.adapt(images, labels).predict(queries)
        right += sum(int(p == c) for c, p in enumerate(predicted))
        total += n
    return 100 * right / total


balanced = run()
m.support_loss = lambda logits, y: m.soft_cross_entropy(logits, y)
h.class_weights = lambda y: y.new_ones(y.shape[:-1]) / y.shape[-2]
plain = run()
print(
    "val, 20 trials x 20 classes with 1 or 2 drawings: "
    f"balanced {balanced:.2f}%, plain mean {plain:.2f}%"
)
