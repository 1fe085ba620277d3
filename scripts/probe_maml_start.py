"""The start of the omniglot-maml v2 run, chosen on val (issue 28).

The shipped omniglot-maml's step sizes, its classifier's made per class (head rates / 5, the
N it was trained on; core.maml.InnerLoop.head_lr_per_class), then every rate scaled by 0.35,
0.5 or 0.7; 10 val episodes per setting, 5 inner steps. Prints, per scale and setting, the
accuracy, the first episode's support loss by step, the largest last-step loss and how many
episodes' loss rose at some step. Output: docs/results/maml-v2/start-probe.txt.

    PYTHONPATH=. python scripts/probe_maml_start.py
    PYTHONPATH=. python scripts/probe_maml_start.py --grid

--grid: backbone and head rates scaled apart (backbone x bb, head / 5 x hd), 20 val episodes
per setting, seed 11 (docs/results/maml-v2/probe-backbone-head-scales.txt).
"""

import sys

import torch
import torch.nn.functional as F

from core import maml
from core.data import omniglot
from core.episodes import episode_batch
from core.learner import load_model


def measure(model, val, config, ways, shots, episodes, seed):
    """(accuracy %, each episode's support loss by step) over seeded val episodes."""
    generator = torch.Generator().manual_seed(seed)
    right, losses = [], []
    for _ in range(episodes):
        sx, sy, qx, qy = episode_batch(val, ways, shots, 15, generator, "cpu")
        one_hot = F.one_hot(sy, ways).float()
        adapted = maml.adapt_with_trace(
            model._features, model._params, model._buffers, sx, one_hot, config
        )
        logits = maml.predict_logits(model._features, adapted.params, model._buffers, qx)
        right.append(float((logits.argmax(-1) == qy).float().mean()))
        losses.append([round(r.support_loss, 3) for r in adapted.trace])
    return 100 * sum(right) / len(right), losses


model = load_model("omniglot-maml")
rates = model.card["maml"]["lr"]
val = omniglot("val")
head = (maml.HEAD_WEIGHT, maml.HEAD_BIAS)
if "--grid" in sys.argv:
    for bb, hd in [(0.5, 0.5), (0.5, 1), (0.25, 0.5), (0, 0.5), (0, 1), (0.25, 1)]:
        scaled = {k: (v / 5 * hd if k in head else v * bb) for k, v in rates.items()}
        config = maml.InnerLoop(5, scaled, head_init="zero", head_lr_per_class=True)
        settings = [(5, 1), (5, 5), (20, 1), (20, 5)]
        out = [round(measure(model, val, config, w, s, 20, 11)[0], 2) for w, s in settings]
        print(f"bb{bb} hd{hd}", out, round(sum(out) / 4, 2), flush=True)
    raise SystemExit(0)
for scale in (0.35, 0.5, 0.7):
    scaled = {k: (v / 5 if k in head else v) * scale for k, v in rates.items()}
    config = maml.InnerLoop(5, scaled, head_init="zero", head_lr_per_class=True)
    for ways, shots in [(5, 1), (5, 5), (20, 1), (20, 5)]:
        accuracy, losses = measure(model, val, config, ways, shots, 10, 7)
        rose = sum(any(b > a + 1e-6 for a, b in zip(run, run[1:])) for run in losses)
        print(
            f"x{scale} {ways}w{shots}s acc {accuracy:.1f} "
            f"loss ep0 {losses[0]} max-last {max(run[-1] for run in losses):.3f} nonmono {rose}"
        )
