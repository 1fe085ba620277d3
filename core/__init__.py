"""Few-Shot Lab core: MAML and Prototypical Networks behind one small API.

from core import load_model, list_models
model = load_model("omniglot-protonet")
clf = model.adapt(images, labels)     # a NEW classifier; the model is never changed
clf.predict_proba(query_images)       # (n_query, n_classes), columns = clf.classes
clf = load_model("omniglot-maml").adapt(images, labels, settings=MamlSettings(inner_steps=3))
"""

from typing import Any

__all__ = [
    "AdaptedClassifier",
    "FewShotModel",
    "MamlSettings",
    "ProtoSettings",
    "list_models",
    "load_model",
]


def __getattr__(name: str) -> Any:
    # The public API is imported on first use, so that `import core.constants` (the app's
    # pages, light modules) does not load torch.
    if name in ("MamlSettings", "ProtoSettings"):
        from core import settings

        return getattr(settings, name)
    if name in __all__:
        from core import learner

        return getattr(learner, name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
