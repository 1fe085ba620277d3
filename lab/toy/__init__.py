"""Toy meta-learning problems for the teaching playground: both loops of MAML, live.

Two task families, small enough to meta-train on a laptop CPU in seconds (``tasks``): sine-wave
regression (Finn, Abbeel & Levine, ICML 2017, section 5.1) and 2-D binary classification, the
binary cross-entropy form of the MAML objective (eq. 3 of the paper), fitted by a small MLP
(``mlp``). ``learn`` holds the batched inner adaptation and the one outer loop shared by
MAML and the pretrained baseline; ``evaluate`` adapts to new tasks; ``protonet`` gives the
Prototypical Networks comparison (Snell et al., NeurIPS 2017) on the same tasks; ``player``
and ``run`` are the playground's typed state; ``figures`` and ``player_figures`` draw it.

Everything is a pure function of its inputs and an explicit ``torch.Generator``; nothing here
imports streamlit. This module re-exports the public names, so ``from core import toy`` then
``toy.meta_train(...)`` works.
"""

from lab.toy.config import FAMILIES, Family, ToyConfig, default_config, make_generator
from lab.toy.evaluate import AdaptTrace, Evaluation, adapt, evaluate
from lab.toy.learn import (
    TrainResult,
    adapt_tasks,
    estimate_seconds,
    meta_train,
    outer_loop,
    pretrain,
)
from lab.toy.mlp import (
    Params,
    class1_probability,
    detach_params,
    init_mlp_params,
    mlp_forward,
    per_task_loss,
    predict,
    random_init,
)
from lab.toy.player import STARTS, TaskPlay, new_task
from lab.toy.protonet import ProtoNetResult, protonet_on_plane
from lab.toy.run import PlaygroundState, RunSnapshot, TrainingRun
from lab.toy.tasks import (
    TaskBatch,
    plane_grid,
    sample_plane_tasks,
    sample_sine_tasks,
    sample_tasks,
    sine_curve_inputs,
    sine_values,
    true_plane_labels,
)

__all__ = [
    "FAMILIES",
    "STARTS",
    "AdaptTrace",
    "Evaluation",
    "Family",
    "Params",
    "PlaygroundState",
    "ProtoNetResult",
    "RunSnapshot",
    "TaskBatch",
    "TaskPlay",
    "ToyConfig",
    "TrainResult",
    "TrainingRun",
    "adapt",
    "adapt_tasks",
    "class1_probability",
    "default_config",
    "detach_params",
    "estimate_seconds",
    "evaluate",
    "init_mlp_params",
    "make_generator",
    "meta_train",
    "mlp_forward",
    "new_task",
    "outer_loop",
    "per_task_loss",
    "plane_grid",
    "predict",
    "pretrain",
    "protonet_on_plane",
    "random_init",
    "sample_plane_tasks",
    "sample_sine_tasks",
    "sample_tasks",
    "sine_curve_inputs",
    "sine_values",
    "true_plane_labels",
]
