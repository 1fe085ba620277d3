"""Streamlit glue for the app's pages; the computation lives in core.

    state    the Workspace of each browser session (lab.workspace) in st.session_state
    session_state  beside it, the SessionUI: widget counters, messages shown once, the cache
    intake   images in: upload, drawing pad, webcam
    models   the shared, read-only model cache, the model picker and adapted classifiers
    widgets  class chips, verdicts, the "needs a support set first" stop, the ImageNet caveat
    examples "Try an example": a ready lesson (lab.examples) loaded into the workspace
    live     progress bars and charts that grow step by step
    live_camera  the webcam stream classified frame by frame (streamlit-webrtc, lab.camera)
    check    answers against known true classes: accuracy, confusion matrix, least sure
    explorer the Embedding space page's explorer: chart, selected image, neighbours, regions

Importing ui is light: core (and so torch) is imported inside the functions that need it,
so the home page renders before anything heavy loads.
"""

from ui.check import check_view
from ui.examples import example_button, example_credit
from ui.intake import (
    MAX_UPLOAD_MB,
    add_images,
    canvas_png,
    decode_files,
    image_intake,
    limits_text,
    take_waiting_uploads,
)
from ui.live import inner_loop_updater, live_updater
from ui.live_camera import live_camera
from ui.models import (
    ALGORITHM_LABELS,
    KIND_LABELS,
    adapted,
    available_models,
    get_model,
    is_cached,
    model_catalogue,
    model_name,
    model_picker,
    query_answers,
    shared_model,
    wait_for_imports,
    warm_up_in_background,
)
from ui.session_state import UI_KEY, SessionUI, bump, nonce, say, session_cache, ui_state
from ui.state import STATE_KEY, rename_class, replace_workspace, show_messages, workspace
from ui.widgets import (
    chip,
    distance_bars,
    imagenet_caveat,
    looks_like,
    needs_support,
    none_of_these,
    probability_bars,
    thumbnail_uris,
    thumbnails,
)

__all__ = [
    "distance_bars",
    "probability_bars",
    "ALGORITHM_LABELS",
    "KIND_LABELS",
    "MAX_UPLOAD_MB",
    "STATE_KEY",
    "UI_KEY",
    "SessionUI",
    "bump",
    "nonce",
    "say",
    "session_cache",
    "ui_state",
    "adapted",
    "add_images",
    "available_models",
    "canvas_png",
    "check_view",
    "chip",
    "decode_files",
    "example_button",
    "example_credit",
    "get_model",
    "image_intake",
    "imagenet_caveat",
    "inner_loop_updater",
    "is_cached",
    "limits_text",
    "live_camera",
    "live_updater",
    "looks_like",
    "model_catalogue",
    "model_name",
    "model_picker",
    "needs_support",
    "none_of_these",
    "query_answers",
    "rename_class",
    "replace_workspace",
    "shared_model",
    "show_messages",
    "take_waiting_uploads",
    "thumbnail_uris",
    "thumbnails",
    "wait_for_imports",
    "warm_up_in_background",
    "workspace",
]
