"""Plotly figures for the app's pages: data in, figure out; no Streamlit, no computation.

The visual language is the same on every page (lab.style): one Okabe-Ito colour per class
(Okabe & Ito 2008, colour-blind safe), support examples as circles, class centres
(prototypes) as large stars, queries as diamonds outlined in the predicted class's colour,
and one plot layout. Every trace is named, so nothing relies on colour alone.

Modules: bars (probabilities, distances, benchmark accuracies), check (accuracy per class and
the confusion matrix, for images of known class), inner_loop (MAML's steps),
embedding (2-D pictures of the embedding space), explorer (the embedding explorer: images
at their places, 2-D/3-D, learning step by step), images (thumbnails for tables),
occlusion (why this verdict: the occlusion map of lab.occlusion), shots (accuracy against
examples per class, lab.shots).
"""

from lab.embedding import PROJECTIONS, project_2d
from lab.style import NEUTRAL, PALETTE, class_colour
from lab.viz.bars import benchmark_figure, percent, probability_bars
from lab.viz.check import accuracy_bars, confusion_figure
from lab.viz.embedding import embedding_figure, embedding_steps_figure
from lab.viz.images import thumbnail_uri
from lab.viz.inner_loop import inner_loop_figure, step_sizes_figure, tensor_label, trace_figure
from lab.viz.occlusion import occlusion_figure
from lab.viz.shots import shots_figure

__all__ = [
    "NEUTRAL",
    "PALETTE",
    "PROJECTIONS",
    "accuracy_bars",
    "benchmark_figure",
    "class_colour",
    "confusion_figure",
    "embedding_figure",
    "embedding_steps_figure",
    "inner_loop_figure",
    "occlusion_figure",
    "percent",
    "probability_bars",
    "project_2d",
    "shots_figure",
    "step_sizes_figure",
    "tensor_label",
    "thumbnail_uri",
    "trace_figure",
]
