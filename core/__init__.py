"""Few-Shot Lab core: MAML and Prototypical Networks behind one small API.

from core import load_model, list_models
model = load_model("omniglot-protonet")
clf = model.adapt(images, labels)     # a NEW classifier; the model is never changed
clf.predict_proba(query_images)       # (n_query, n_classes), columns = clf.classes
"""

from core.learner import AdaptedClassifier, FewShotModel, list_models, load_model

__all__ = ["AdaptedClassifier", "FewShotModel", "list_models", "load_model"]
