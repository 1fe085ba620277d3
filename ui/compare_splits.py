"""The Compare page's random splits: the settings, the run (lab.compare.score_learners, kept
in the session's cache) and the figure, table and paired gaps it gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from ui.compare import SHORT
from ui.models import get_model
from ui.session_state import session_cache

if TYPE_CHECKING:
    from lab.baseline import BaselineConfig
    from lab.workspace import Workspace


# --- many random splits -------------------------------------------------------------------
def split_settings() -> Any:
    """The number of random splits and of held-out images per class, from two widgets."""
    from lab.compare import SplitSettings

    splits_col, held_col = st.columns(2)
    n_splits = splits_col.number_input("Random splits", 2, 50, 10, key="compare_splits")
    held_out = held_col.number_input(
        "Held-out images per class",
        1,
        10,
        1,
        key="compare_held_out",
        help="Scored in each split; the rest of the class is what the learners learn from.",
    )
    return SplitSettings(splits=int(n_splits), held_out=int(held_out))


def run_splits(
    ws: Workspace, models: dict[str, str | None], config: BaselineConfig, settings: Any
) -> list | None:
    """The scores of every learner over the random splits: kept in the session's cache,
    computed when the button is pressed; None when they cannot or have not run yet."""
    from lab.compare import (
        labelled_images,
        model_learner,
        score_learners,
        scratch_learner,
        too_few_images,
    )
    from lab.labels import markdown_text

    images, labels, ids = labelled_images(ws)
    short = too_few_images(labels, settings.held_out)
    if short:
        st.info(
            f"Each class needs at least {settings.held_out + 1} labelled images (its examples "
            "and images to check set to it), so that one is left to learn from. Add images to: "
            + ", ".join(markdown_text(n) for n in ws.names(tuple(short)))
            + "."
        )
        return None
    key = (  # a changed part (images, classes, settings, the models' settings) is a new run
        "compare_splits",
        ws.input_kind,
        tuple(zip(ids, labels, strict=True)),
        settings,
        config,
        ws.shipped_settings("maml"),
        ws.distance,
    )
    cache = session_cache()
    if key not in cache and st.button(
        f"Run {settings.splits} random splits", key="compare_run_splits", type="primary"
    ):
        encoder = get_model(models["protonet"] or models["maml"]).encode
        with st.status("Learning and scoring each split...", expanded=True) as status:
            bar = st.progress(0.0)
            builders = [
                (
                    SHORT[a],
                    lambda a=a: model_learner(
                        SHORT[a], get_model(models[a]), images, ws.shipped_settings(a)
                    ),
                )
                for a in ("protonet", "maml")
                if models[a] is not None
            ]
            builders.append(
                (
                    SHORT["baseline"],
                    lambda: scratch_learner(SHORT["baseline"], encoder, images, config),
                )
            )
            cache[key] = score_learners(
                builders,
                labels,
                settings,
                lambda name, done: bar.progress(done, text=f"{name}: {done:.0%} of all splits"),
            )
            status.update(label="Done", state="complete", expanded=False)
    if key not in cache:
        st.caption("Press the button to run the splits (a few seconds per learner).")
    return cache.get(key)


def show_splits(results: list) -> None:
    """The splits' figure, table, paired gaps to the from-scratch learner and caveats."""
    from lab import viz
    from lab.compare import paired_gap, splits_figure
    from lab.labels import markdown_text

    scores = [score for _, score in results if not isinstance(score, Exception)]
    for name, score in results:
        if isinstance(score, Exception):
            st.error(f"{name} could not be scored: {markdown_text(str(score))}")
    if not scores:
        return
    st.plotly_chart(splits_figure(scores), width="stretch", key="compare_splits_chart")
    st.dataframe(
        pd.DataFrame(
            {
                "learner": [s.name for s in scores],
                "mean accuracy": [viz.percent(s.mean) for s in scores],
                "95% interval": [f"± {s.ci95:.0%}" for s in scores],
                "each split": [" ".join(f"{a:.0%}" for a in s.accuracies) for s in scores],
            }
        ),
        hide_index=True,
        width="stretch",
        key="compare_splits_table",
    )
    scratch = next((s for s in scores if s.name == SHORT["baseline"]), None)
    for score in scores:
        if scratch is None or score is scratch:
            continue
        gap, half = paired_gap(score, scratch)
        verdict = (
            "the interval includes 0: on these images the two are not clearly apart."
            if abs(gap) <= half
            else f"{score.name} is clearly {'better' if gap > 0 else 'worse'} here."
        )
        st.markdown(
            f"**{score.name} minus from scratch**: {100 * gap:+.0f} points "
            f"(95% interval ± {100 * half:.0f}), on the same {len(score.accuracies)} "
            f"splits; {verdict}"
        )
    if all(a == 1.0 for s in scores for a in s.accuracies):
        st.info(
            "Every learner got every held-out image right in every split: these classes "
            "are too easy to tell the learners apart. Hold out more images per class, or "
            "add classes that look alike."
        )
    st.caption(
        "The splits reuse your images, so the interval shows how much the result depends "
        "on which images are held out, not how the learners would do on new images."
    )
