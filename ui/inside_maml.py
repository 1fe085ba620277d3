"""The Inside MAML page's parts: the page-only settings, the inner loop replayed step by step
with a query's probabilities, the first step as a class-mean classifier, the embeddings at
each step, and the step sizes meta-training learned. The reports on the trace are
core.inner_trace's; the figures lab.viz's.

The settings are experiments of this page only (adapted(..., experiment=True)): every other
page adapts with the model's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.live import inner_loop_updater
from ui.models import adapted, get_model, is_cached, model_name
from ui.widgets import looks_like

if TYPE_CHECKING:
    from core.learner import AdaptedClassifier, FewShotModel
    from lab.workspace import Workspace

LR_SCALES = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
SETTING_KEYS = ("maml_inner_steps", "maml_lr_scale", "maml_head_init")
STARTS = {"zero": "zero (MAML)", "proto": "the class centres (Proto-MAML)"}


@dataclass(frozen=True)
class Steps:
    """What the inner loop did, as the page shows it: the classifier, its trace up to where
    it diverged (if it did), the step the slider points at, the class names in the
    classifier's order and the query drawn in the chart."""

    classifier: AdaptedClassifier
    trace: list[Any]
    step: int
    names: list[str]
    query_index: int


def maml_model(ws: Workspace) -> tuple[str, FewShotModel | None]:
    """The MAML model for the workspace's kind of image (None until the support set is
    ready); stops the page with a message when no MAML model is installed for it."""
    name = model_name(ws.input_kind, "maml")
    if name is None:
        st.info(
            "No MAML model is installed for this kind of image. Pick another on Teach & classify."
        )
        st.stop()
    return name, (get_model(name) if not ws.not_ready() else None)


def _reset(ws: Workspace) -> None:
    """Back to the model's own settings: the workspace's and the widgets' values."""
    ws.reset_maml()
    for key in SETTING_KEYS:
        st.session_state.pop(key, None)


def settings(ws: Workspace, model: FewShotModel | None) -> None:
    """The page-only settings (inner steps, learning-rate scale, classifier start) into the
    workspace, and a notice with a Reset button when they are not the model's own."""
    from lab.workspace import MAX_INNER_STEPS

    default_loop = model.default_inner_loop if model is not None else None
    with st.expander("Settings (this page only)", expanded=True):
        steps_col, lr_col, start_col = st.columns(3)
        default_steps = int(ws.inner_steps or (default_loop.steps if default_loop else 2))
        ws.inner_steps = steps_col.slider(
            "Inner steps",
            1,
            MAX_INNER_STEPS,
            default_steps,
            key="maml_inner_steps",
            help="How many gradient steps MAML takes on your examples.",
        )
        ws.inner_lr_scale = lr_col.select_slider(
            "Inner learning rate (x the learned rates)",
            LR_SCALES,
            value=ws.inner_lr_scale if ws.inner_lr_scale in LR_SCALES else 1.0,
            key="maml_lr_scale",
            help="Meta-training learned one step size per weight tensor; this multiplies them all.",
        )
        own_start = default_loop.head_init if default_loop else "zero"
        start = start_col.radio(
            "Classifier starts from",
            list(STARTS),
            index=list(STARTS).index(ws.head_init or own_start),
            format_func=lambda key: STARTS[key] + (" · as trained" if key == own_start else ""),
            key="maml_head_init",
            help="Zero: every class starts equal (uniform probabilities), so the inner steps do "
            "all the learning. Class centres (Proto-MAML): the last layer is built from the mean "
            "embedding of each class, which already classifies your examples before any step, "
            "so the steps have little left to do.",
        )
        ws.head_init = None if start == own_start else start
        st.caption(
            "These settings are experiments for this page only: Teach & classify and the other "
            "pages always use the model's own settings. (Whether meta-training differentiates "
            "through the inner steps, second order, or ignores that, first order, matters only "
            "in meta-training: try both in the Meta-learning playground.)"
        )
    if default_loop is None:
        return
    changes = ws.maml_changes(default_loop.steps, default_loop.head_init)
    if changes:
        notice, reset = st.columns([5, 1], vertical_alignment="center")
        notice.warning(
            f"Not the model's own settings: {'; '.join(changes)}. They apply on this page only."
        )
        reset.button("Reset", key="maml_reset", on_click=_reset, args=(ws,))


def watch_steps(ws: Workspace, name: str) -> Steps:
    """The query picker, the loss/accuracy/probability chart growing while the inner loop
    runs (once per support set and settings, or again on a click), where it diverged, the
    step slider and that step's numbers."""
    from core.inner_trace import divergence
    from lab import viz
    from lab.labels import markdown_text

    query_index = 0
    if ws.queries:
        query_index = st.selectbox(
            "Image to check (query) shown in the chart",
            range(len(ws.queries)),
            format_func=lambda i: ws.queries[i].name,
            key="maml_query",
        )
    query = ws.queries[query_index] if ws.queries else None
    chart_col, thumbnail_col = st.columns([6, 1], vertical_alignment="center")
    chart, progress = chart_col.empty(), st.empty()
    if query is not None:
        thumbnail_col.image(query.image, caption=markdown_text(query.name), width=96)
    force = st.button("Run the inner loop again", key="maml_run")
    on_step = None
    if force or not is_cached(ws, name, with_queries=True, experiment=True):
        on_step = inner_loop_updater(
            ws,
            progress,
            chart,
            ws.inner_steps,
            ws.names(tuple(card.id for card in ws.classes)),
            run_key="maml_page_run",
            chart_key="maml_live",
            query_index=query_index if query is not None else None,
            query_name=query.name if query is not None else None,
            draw_last=False,  # the finished chart, with the step slider's line, is drawn below
        )
    classifier = adapted(ws, name, with_queries=True, on_step=on_step, force=force, experiment=True)
    progress.empty()
    trace = classifier.trace
    diverged = divergence(trace)
    if diverged is not None:  # show the steps that are numbers, and say where they stopped
        st.error(diverged.sentence())
        trace = trace[: diverged.step]
    names = ws.names(classifier.classes)
    step = (
        st.slider(
            "Inner step",
            0,
            len(trace) - 1,
            len(trace) - 1,
            key="maml_step",
            help="Moves the dotted line in the chart, the numbers below and the embedding picture.",
        )
        if len(trace) > 1
        else 0
    )
    chart.plotly_chart(
        viz.trace_figure(
            trace,
            names,
            total_steps=len(trace) - 1,
            query_index=query_index,
            query_name=query.name if query is not None else "",
            current_step=step,
        ),
        key="maml_curves",
        width="stretch",
    )
    record = trace[step]
    cols = st.columns(3)
    cols[0].metric("Loss on your examples", f"{record.support_loss:.3g}")
    cols[1].metric("Accuracy on your examples", viz.percent(record.support_accuracy))
    if record.query_probabilities is not None:
        row = record.query_probabilities[query_index].numpy()
        cols[2].markdown(looks_like(names[int(row.argmax())], float(row.max())))
    return Steps(classifier, trace, step, names, query_index)


def _support_labels(ws: Workspace, steps: Steps) -> list[int]:
    return [steps.classifier.classes.index(label) for label in ws.support()[1]]


def first_step(ws: Workspace, steps: Steps) -> None:
    """From a zero head, how often step 1's answers are a class-mean classifier's, and how
    many the later steps changed (core.inner_trace.first_step_report)."""
    from core.inner_trace import first_step_report

    if steps.classifier.settings["head_init"] != "zero":
        return
    report = first_step_report(steps.trace, _support_labels(ws, steps))
    if report is not None:
        st.info(
            "**One step from zero is a class-mean classifier.** The first step gives each class "
            "a weight row pointing from the average of all examples to its own average, and "
            "leaves the network as it is. On your images to check, MAML's answers after step 1 "
            f"are the same as a class-mean classifier's for **{report.same} of {report.total}**; "
            f"the later steps changed **{report.changed_later} of {report.total}** of them."
        )


def embeddings_moving(ws: Workspace, steps: Steps) -> None:
    """The support and query embeddings at the slider's step, one PCA for every step, and
    every step's loss and accuracy in a table."""
    import pandas as pd

    from lab import viz
    from lab.embedding import steps_in_2d

    support_xy, query_xy, query_predictions = steps_in_2d(steps.trace)
    st.plotly_chart(
        viz.embedding_steps_figure(
            steps.names,
            support_xy,
            _support_labels(ws, steps),
            query_xy,
            query_predictions,
            step=steps.step,
            controls=False,
        ),
        key="maml_embedding",
        width="stretch",
    )
    if not steps.classifier.model.adapts_backbone:
        st.caption(
            "This model's inner loop adapts its classifier only, so the points stay where they "
            "are: what changes from step to step is the classifier's answer for each image to "
            "check (its colour)."
        )
    st.caption(
        "Move the Inner step slider above to see each step. Every step is projected with the "
        "same PCA, so positions can be compared; the 2-D picture is an approximation of the "
        "real space."
    )
    with st.expander("Every step in numbers"):
        st.dataframe(
            pd.DataFrame(
                {
                    "step": [r.step for r in steps.trace],
                    # not 2.995732069015503
                    "loss": [float(f"{r.support_loss:.4g}") for r in steps.trace],
                    "accuracy": [viz.percent(r.support_accuracy) for r in steps.trace],
                }
            ),
            hide_index=True,
        )


def step_sizes(model: FewShotModel) -> None:
    """What one inner step does, and the per-tensor step sizes meta-training learned."""
    from lab import viz

    moved = "every weight" if model.adapts_backbone else "the classifier's weights"
    st.info(
        "What one inner step does: the model measures how wrong it is on your examples (the "
        "loss), computes which way each weight should move to be less wrong (the gradient), "
        f"and moves {moved} a small step that way. Meta-training chose the starting "
        "weights so that a few such steps are enough."
    )
    with st.expander("How it works: the step sizes MAML learned"):
        st.write(
            "Each weight tensor has its own inner step size (Meta-SGD style, Li et al. 2017), "
            "and meta-training learned them through the inner loop together with the starting "
            "weights: a tensor whose step grew is one the inner loop should change quickly on a "
            "new task; one whose step shrank is better left nearly as it is. Open circles: where "
            "meta-training started them; filled: where it left them."
        )
        if model.step_size_scale is not None:
            st.write(
                f"**This model uses the learned step sizes below times "
                f"{model.step_size_scale:g}**, "
                "chosen on validation tasks: at the learned sizes its loss rose in most tasks "
                "of drawn characters (photos unlike those it was meta-trained on); at these "
                "it falls at every step there too, and on photos it answers the same."
            )
        if not model.adapts_backbone:
            st.write(
                "**This model's inner loop moves only its classifier** (the last layer): the "
                "step sizes of every convolution are 0, so the network's features stay as "
                "meta-training left them and the steps fit a linear classifier on them, a "
                "convex problem: with steps small enough (the model's own are) its loss falls "
                "at every step. Raghu et al. (ICLR 2020, "
                "ANIL) found that MAML's inner loop mostly changes this layer anyway; the "
                "outer loop still meta-trains the whole network for it."
            )
        st.plotly_chart(
            viz.step_sizes_figure(*model.step_sizes), key="maml_step_sizes", width="stretch"
        )
