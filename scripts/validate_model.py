"""A shipped Omniglot model's score on the fixed validation episodes that core.train uses to
choose checkpoints (the same seeded episodes at every step), e.g. to compare a run's
starting point with its result.

    python -m scripts.validate_model --model omniglot-maml --val-episodes 300
    # stage 1 of omniglot-maml, from git history:
    mkdir -p /tmp/stage1 && for f in json safetensors; do git show \\
      fe17e82^:assets/models/omniglot-maml.$f > /tmp/stage1/omniglot-maml.$f; done
    FEWSHOT_MODELS=/tmp/stage1 python -m scripts.validate_model --model omniglot-maml
"""

import argparse
import json

from core.checkpoints import load_checkpoint
from core.data import omniglot
from core.settings import card_inner_steps
from core.training.config import OmniglotConfig
from core.training.trainer import validate

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="omniglot-maml")
parser.add_argument("--val-episodes", type=int, default=300)
parser.add_argument("--val-settings", nargs="+", default=["5w1s", "20w1s"])
args = parser.parse_args()
net, card = load_checkpoint(args.model)
maml = card.get("maml", {})
config = OmniglotConfig(
    name=args.model,
    algorithm=card["algorithm"],
    val_episodes=args.val_episodes,
    val_settings=tuple(args.val_settings),
    test_inner_steps=card_inner_steps(maml, 1),
    head_init=maml.get("head_init", "proto"),
)
scores = validate(net, config, omniglot("val"), "cpu", maml.get("lr", {}))
line = {"model": args.model, "val_episodes": args.val_episodes, "val": scores}
print(json.dumps(line | {"mean": sum(scores.values()) / len(scores)}))
