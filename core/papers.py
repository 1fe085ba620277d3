"""Published numbers the models are compared with, and the caveat that goes with them.

Read by the photo trainer (into every photo model card) and by the app's Benchmark page;
nothing here imports a backbone, a trainer or Streamlit.
"""

_BACKBONE_SAW_TEST_CLASSES = (
    "The backbone was trained on ImageNet-1k, which contains every mini-ImageNet class, test "
    "classes included"
)
CAVEAT = (
    f"{_BACKBONE_SAW_TEST_CLASSES}, and the head starts from the backbone's own ImageNet "
    "classifier (projected by SVD, see core.training.heads.initial_projection): accuracy on "
    "mini-ImageNet is therefore not comparable with models trained from scratch on "
    "mini-ImageNet train (paper Conv-4: ProtoNet 49.4 / 68.2, MAML 48.7 / 63.1 for 5-way "
    "1-shot / 5-shot)."
)
APP_CAVEAT = (
    "**Not a result on unseen classes.** The photo models' frozen EfficientNet-Lite0 "
    "backbone was trained on ImageNet-1k, which contains every mini-ImageNet class, the test "
    "classes included, and their head starts from the backbone's own ImageNet classifier. So "
    "a photo model's mini-ImageNet accuracy is not a few-shot result on classes it has never "
    "seen, and it is not comparable with the papers' Conv-4 numbers, which come from networks "
    "trained from scratch on the mini-ImageNet training classes only."
)
"""CAVEAT in plain words, for the app (Markdown), wherever a photo model's mini-ImageNet
number is shown."""
APP_CAVEAT_BRIEF = (
    "The photo models' backbone was trained on ImageNet-1k, which contains the mini-ImageNet "
    "test classes: on mini-ImageNet, a photo model is not tested on classes it has never seen."
)
"""APP_CAVEAT in one sentence, for where a photo model on mini-ImageNet is chosen."""
PAPERS_NOTE = (
    "Conv-4 networks trained from scratch on the dataset's training classes only (Snell et al. "
    "2017 for ProtoNet, Finn et al. 2017 for MAML), so the test classes are new to them."
)
PAPER_CONV4 = {
    "note": "5-way accuracy (%) on mini-ImageNet test, Conv-4 trained from scratch",
    "protonet (Snell et al. 2017)": {"5w1s": 49.42, "5w5s": 68.20},
    "maml (Finn et al. 2017)": {"5w1s": 48.70, "5w5s": 63.11},
}
PAPER_ACCURACY = {
    ("omniglot", "protonet"): {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9},
    ("omniglot", "maml"): {(5, 1): 98.7, (5, 5): 99.9, (20, 1): 95.8, (20, 5): 98.9},
    ("miniimagenet", "protonet"): {(5, 1): 49.4, (5, 5): 68.2},
    ("miniimagenet", "maml"): {(5, 1): 48.7, (5, 5): 63.1},
}
"""Conv-4 accuracy (%) reported in the papers, 15 queries per class, by (dataset, algorithm)
then (ways, shots); shown on the Benchmark page."""


def paper_accuracy(dataset: str, algorithm: str, ways: int, shots: int) -> float | None:
    """The papers' Conv-4 accuracy (%) for this setting, or None where none was reported."""
    return PAPER_ACCURACY.get((dataset, algorithm), {}).get((ways, shots))


def imagenet_caveat_applies(input_kind: str, dataset: str) -> bool:
    """Whether APP_CAVEAT belongs beside a number from this kind of model on this dataset:
    a photo model (ImageNet-1k backbone) on mini-ImageNet (ImageNet classes)."""
    return input_kind == "photo" and dataset == "miniimagenet"
