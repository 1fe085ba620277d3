"""The Compare page's "How many examples are enough?": accuracy against examples per class for
ProtoNet, MAML and the from-scratch learner (lab.shots), run on a click and kept in the
session's cache, with a progress bar while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from ui.compare import SHORT
from ui.models import get_model
from ui.session_state import session_cache

if TYPE_CHECKING:
    from lab.baseline import BaselineConfig
    from lab.shots import ShotCurve, ShotSettings
    from lab.workspace import Workspace

DEFAULT_SPLITS = 20


def shots_curve(ws: Workspace, models: dict[str, str | None], config: BaselineConfig) -> None:
    """The section: why, the settings, the button, the run with its progress, the result (in
    a keyed container: .st-key-shots_curve for the browser test)."""
    with st.container(key="shots_curve"):
        _section(ws, models, config)


def _section(ws: Workspace, models: dict[str, str | None], config: BaselineConfig) -> None:
    from lab.compare import labelled_images
    from lab.labels import markdown_text
    from lab.shots import ShotSettings, class_counts, shortage, shot_counts

    st.subheader("How many examples are enough?")
    st.write(
        "Here each learner learns from 1, 2, 3, ... of your labelled images per class, picked "
        "at random, and is scored on all the others; this is repeated over many random "
        "splits for every number of examples. The curve shows how fast each learner gets "
        "better with more examples, with the 95% interval of its mean."
    )
    images, labels, ids = labelled_images(ws)
    problem = shortage(labels)
    if problem is not None:
        short = [c for c, n in class_counts(labels).items() if n < 2]
        where = ", ".join(markdown_text(n) for n in ws.names(tuple(short)))
        st.info(
            "Every class needs at least 2 labelled images (its examples, and images to check "
            "set to it): 1 to learn from and 1 to score."
            + (f" Add images to: {where}." if short else "")
        )
        return
    available = [SHORT[a] for a in ("protonet", "maml") if models[a] is not None]
    available.append(SHORT["baseline"])
    splits_col, learners_col = st.columns([1, 2])
    n_splits = splits_col.number_input(
        "Random splits per number of examples",
        2,
        50,
        DEFAULT_SPLITS,
        key="shots_splits",
        help="More splits give narrower intervals and take longer.",
    )
    chosen = learners_col.multiselect(
        "Learners", available, default=available, key="shots_learners"
    )
    settings = ShotSettings(splits=int(n_splits))
    shots = shot_counts(labels)
    st.caption(
        f"{len(shots)} numbers of examples per class (1 to {shots[-1]}: the smallest class has "
        f"{shots[-1] + 1} labelled images, and one is always left to score), "
        f"{settings.splits} splits each."
    )
    key = (  # a changed part (images, classes, settings, the models' settings) is a new run
        "shots_curve",
        ws.input_kind,
        tuple(zip(ids, labels, strict=True)),
        settings,
        tuple(chosen),
        config,
        ws.shipped_settings("maml"),
        ws.distance,
    )
    cache = session_cache()
    if key not in cache and chosen and st.button("Draw the curve", key="shots_run", type="primary"):
        cache[key] = _run(ws, models, config, images, labels, settings, chosen)
    if key not in cache:
        if not chosen:
            st.caption("Choose at least one learner.")
        else:
            fits = len(shots) * settings.splits
            st.caption(
                f"Press the button to draw the curve. ProtoNet takes a second or so; MAML and "
                f"the from-scratch learner adapt {fits} times each (once a split), and the "
                "from-scratch learner trains a network every time: seconds each, minutes in "
                "all. Fewer splits, or fewer learners, are quicker."
            )
        return
    _show(cache[key], len(class_counts(labels)))


def _run(ws, models, config, images, labels, settings: ShotSettings, chosen) -> list:
    """Every chosen learner's curve, with a progress bar per learner and overall."""
    from lab.compare import model_learner, scratch_learner
    from lab.shots import protonet_learner, shot_curves

    encoder_model = models["protonet"] or models["maml"]
    builds = {
        SHORT["protonet"]: lambda: protonet_learner(
            SHORT["protonet"],
            get_model(models["protonet"]),
            images,
            ws.shipped_settings("protonet"),
        ),
        SHORT["maml"]: lambda: model_learner(
            SHORT["maml"], get_model(models["maml"]), images, ws.shipped_settings("maml")
        ),
        SHORT["baseline"]: lambda: scratch_learner(
            SHORT["baseline"], get_model(encoder_model).encode, images, config
        ),
    }
    builders = [(name, builds[name]) for name in chosen]
    with st.status("Learning from 1, 2, 3, ... examples per class...", expanded=True) as status:
        bar = st.progress(0.0)

        def on_progress(name: str, shots: int, done: float) -> None:
            overall = (chosen.index(name) + done) / len(chosen)
            bar.progress(
                min(overall, 1.0),
                text=f"{name}: {shots} example(s) per class, {done:.0%} of its splits "
                f"({overall:.0%} in all)",
            )

        results = shot_curves(builders, labels, settings, on_progress)
        status.update(label="Done", state="complete", expanded=False)
    return results


def _show(results: list, n_classes: int) -> None:
    """The chart, a table of the points, and what the accuracy means."""
    from lab.labels import markdown_text
    from lab.viz.shots import shots_figure

    curves: list[ShotCurve] = [c for _, c in results if not isinstance(c, Exception)]
    for name, curve in results:
        if isinstance(curve, Exception):
            st.error(f"{name} could not be scored: {markdown_text(str(curve))}")
    if not curves:
        return
    st.plotly_chart(
        shots_figure(curves, n_classes),
        width="stretch",
        key="shots_chart",
        config={"displayModeBar": False},
    )
    shots = [p.shots for p in curves[0].points]
    table = {"examples per class": shots, "images scored": [p.queries for p in curves[0].points]}
    for curve in curves:
        table[curve.name] = [f"{100 * p.mean:.0f}% ± {100 * p.ci95:.0f}" for p in curve.points]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", key="shots_table")
    st.caption(
        "Accuracy here is plain accuracy: the share of all the held-out images answered right, "
        "so a class with more images counts for more. ± is the half-width of the 95% interval "
        "over the splits. The splits reuse your images, so the interval shows how much the "
        "result depends on which images are the examples, not how the learners would do on "
        "new images."
    )
