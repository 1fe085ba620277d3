"""Check the lesson (Teach): which examples matter, suspected mislabels with one-click fixes,
and whether the model relies on the wrong cue (lab.influence, lab.robustness). One call
from the page: teach(ws, classifier).

ProtoNet's leave-one-out is a closed form and runs with the page; MAML re-adapts once per
example, so it runs on a click, in a fragment with a progress bar (the rest of the page is
drawn already and stays usable while it runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.session_state import say, session_cache

if TYPE_CHECKING:
    from core.learner import AdaptedClassifier
    from lab.influence import LeaveOneOut
    from lab.workspace import Item, Workspace

_KEPT = 3  # results a session keeps (the newest) per kind
THUMB = 64
HELPFUL_SENTENCE = {
    "checks": "**Helpful** means: leaving the example out lowers the check images' lead of "
    "their true class over the next likeliest class (their log-odds margin, averaged).",
    "others": "**Helpful** means: leaving the example out lowers the other examples' lead "
    "of their own class over the next likeliest (their log-odds margin, averaged), each "
    "classified by the rest of the lesson; add check images of known class to measure it "
    "on them instead.",
}


def teach(ws: Workspace, classifier: AdaptedClassifier | None) -> None:
    """Section 4 of Teach: the examples checked by each other, and the check images
    changed a little. Nothing when the model has not adapted yet."""
    if classifier is None:
        return
    st.divider()
    with st.container(key="lesson_check"):
        st.subheader("4. Check the lesson: which examples matter")
        result = _leave_one_out(ws, classifier)
        if result is not None:
            items = [item for card in ws.classes for item in card.items]
            _suspects(ws, classifier, result, items)
            _influence(ws, classifier, result, items)
        if ws.queries:
            _wrong_cue(ws, classifier)


def _store(kind: str, key: tuple, value) -> None:
    cache = session_cache().setdefault(kind, {})
    cache[key] = value
    for old in list(cache)[: max(0, len(cache) - _KEPT)]:
        del cache[old]


def _key(ws: Workspace, classifier: AdaptedClassifier) -> tuple:
    """What a result depends on: model, settings, support set and check images."""
    checks = tuple((q.id, q.label) for q in ws.queries)
    return (classifier.model.name, repr(classifier.settings), ws.support_key(), checks)


def _compute(ws: Workspace, classifier: AdaptedClassifier, on_progress=None) -> LeaveOneOut:
    from lab.influence import leave_one_out

    images, labels = ws.support()
    return leave_one_out(
        classifier.model,
        images,
        labels,
        [q.image for q in ws.queries],
        [q.label for q in ws.queries],
        ws.shipped_settings(classifier.model.algorithm),
        on_progress=on_progress,
    )


def _leave_one_out(ws: Workspace, classifier: AdaptedClassifier) -> LeaveOneOut | None:
    """The cached result; ProtoNet computes it at once, MAML on a click (None until then)."""
    key = _key(ws, classifier)
    cache = session_cache().setdefault("lesson_check", {})
    if key in cache:
        return cache[key]
    if classifier.model.algorithm == "protonet":
        with st.spinner("Leaving each example out in turn..."):
            _store("lesson_check", key, _compute(ws, classifier))
        return cache[key]
    _maml_runner(ws, classifier, key)
    return None


def _maml_runner(ws: Workspace, classifier: AdaptedClassifier, key: tuple) -> None:
    """MAML: a button that starts the re-adaptations in the background (lab.jobs); the rest
    of the page stays usable, a progress bar follows them, and the whole page is drawn again
    with the result."""
    jobs = session_cache().setdefault("lesson_check_jobs", {})
    if key not in jobs:
        count = sum(len(card.items) for card in ws.classes)
        st.write(
            f"MAML checks each example by learning the lesson again without it: {count} "
            "adaptations, in the background: the rest of the page stays usable meanwhile."
        )
        if not st.button(f"Check the {count} examples", key="lesson_check_maml"):
            return
        jobs.clear()  # one check at a time per session: an older lesson's is dropped
        jobs[key] = _start(ws, classifier)
    _job_progress(key)


def _start(ws: Workspace, classifier: AdaptedClassifier):
    """The leave-one-out of this lesson as a background job, on copies of what it needs."""
    from lab.influence import leave_one_out
    from lab.jobs import BackgroundJob

    images, labels = ws.support()
    checks = [(q.image, q.label) for q in ws.queries]
    settings = ws.shipped_settings(classifier.model.algorithm)
    model = classifier.model  # shared and read-only: adapt() returns new classifiers

    def work(progress):
        return leave_one_out(
            model,
            images,
            labels,
            [image for image, _ in checks],
            [label for _, label in checks],
            settings,
            on_progress=progress,
        )

    return BackgroundJob(work, name="fewshot-lesson-check").start()


@st.fragment(run_every=0.5)
def _job_progress(key: tuple) -> None:
    """The job's progress bar, redrawn every half second; when it is done, the result is
    kept and the whole page drawn again with it."""
    jobs = session_cache().get("lesson_check_jobs", {})
    job = jobs.get(key)
    if job is None:
        return
    state = job.state()
    if not state.finished:
        st.progress(
            state.fraction,
            text=f"Adapted without {state.done} of {state.total or '...'} examples "
            "(in the background)",
        )
        return
    del jobs[key]
    if state.error is not None:
        st.error(f"The check of the lesson stopped: {state.error}")
        return
    _store("lesson_check", key, state.result)
    st.rerun(scope="app")


def _move(ws: Workspace, item_id: int, class_id: int, text: str) -> None:
    try:
        ws.move_example(item_id, class_id)
        say("success", text)
    except ValueError as error:
        say("error", f"The example was not moved: {error}.")


def _remove(ws: Workspace, item_id: int, text: str) -> None:
    for card in ws.classes:
        card.items[:] = [item for item in card.items if item.id != item_id]
    say("success", text)


def _suspects(ws: Workspace, classifier, result: LeaveOneOut, items: list[Item]) -> None:
    """Examples the rest of the lesson calls another class, each with Move and Remove."""
    from lab.influence import MISLABEL_PROBABILITY
    from lab.labels import markdown_text
    from lab.viz import percent
    from ui.widgets import thumbnails

    names = ws.names(classifier.classes)
    found = result.suspects()
    if not found:
        st.success(
            "No example looks mislabelled: the rest of the lesson calls each one its own "
            f"class, or not with {percent(MISLABEL_PROBABILITY)} or more."
        )
        return
    st.markdown(f"**Suspected mislabels** ({len(found)}): the rest of the lesson disagrees.")
    for suspect in found:
        item = items[suspect.index]
        own, other = names[result.labels[suspect.index]], names[suspect.looks_like]
        target = classifier.classes[suspect.looks_like]
        with st.container(border=True, key=f"suspect_{item.id}"):
            picture, words, move, remove = st.columns([1, 4, 2, 2], vertical_alignment="center")
            thumbnails(ws, [item], THUMB, where=picture, role="suspected mislabel")
            words.markdown(
                f"**{markdown_text(item.name)}** is in *{markdown_text(own)}*, but this looks "
                f"like a **{markdown_text(other)}** ({percent(suspect.probability)}) to the "
                "other examples."
            )
            move.button(
                f"Move to {other}",
                key=f"suspect_move_{item.id}",
                on_click=_move,
                args=(ws, item.id, target, f"Moved {item.name} to {other}."),
                width="stretch",
            )
            remove.button(
                "Remove it",
                key=f"suspect_remove_{item.id}",
                on_click=_remove,
                args=(ws, item.id, f"Removed {item.name} from {own}."),
                width="stretch",
            )


def _number(value: float) -> str:
    if value == float("inf"):
        return "its class's only example"
    return f"{value:+.3g}"


def _influence(ws: Workspace, classifier, result: LeaveOneOut, items: list[Item]) -> None:
    """The most and least helpful example of each class, and a table of every example."""
    import pandas as pd

    from lab.labels import markdown_text
    from lab.viz import percent
    from ui.widgets import chip, thumbnails

    names = ws.names(classifier.classes)
    helpful = result.helpfulness()
    st.markdown(HELPFUL_SENTENCE[result.measure])
    shown = [(index, pair) for index, pair in enumerate(result.extremes()) if pair is not None]
    for start in range(0, len(shown), 3):
        for column, (index, pair) in zip(st.columns(3), shown[start : start + 3], strict=False):
            with column.container(border=True, key=f"influence_class_{index}"):
                st.markdown(chip(index, names[index]), unsafe_allow_html=True)
                for place, (label, example) in zip(
                    st.columns(2), zip(("Most", "Least"), pair, strict=True), strict=True
                ):
                    thumbnails(
                        ws, [items[example]], THUMB, where=place, role=f"{label.lower()} helpful"
                    )
                    place.caption(
                        f"{label} helpful: {markdown_text(items[example].name)}, "
                        f"{_number(float(helpful[example]))}"
                    )
    changes = result.verdict_changes()
    moves = result.others_move()
    alone = result.alone_probabilities
    rows = []
    for i, item in enumerate(items):
        best = int(alone[i].argmax())
        rows.append(
            {
                "example": item.name,
                "class": names[result.labels[i]],
                "the rest calls it": f"{names[best]} ({percent(float(alone[i, best]))})",
                "helpful": float(helpful[i]),
                "check verdicts changed without it": int(changes[i]),
                "others' own-class probability moves by": float(moves[i]),
            }
        )
    with st.expander("Every example, left out in turn"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            "Each row: the lesson learnt again without that example. A check verdict that "
            "changes means the example decides it; the last column is the mean change of "
            "the other examples' probability of their own class."
        )


def _wrong_cue(ws: Workspace, classifier: AdaptedClassifier) -> None:
    """The check images brightened, darkened, rotated, cropped, blurred and mirrored."""
    import pandas as pd

    from lab.robustness import robustness

    st.markdown("**Does it rely on the wrong cue?**")
    if not st.toggle(
        "Change the check images a little and classify them again",
        key="lesson_check_cues",
        value=ws.input_kind == "character",  # quick for drawings; photos take seconds
    ):
        return
    key = _key(ws, classifier)
    cache = session_cache().setdefault("wrong_cue", {})
    if key not in cache:
        images, labels = ws.support()
        index = [classifier.classes.index(label) for label in labels]
        with st.spinner("Classifying the changed images..."):
            _store(
                "wrong_cue",
                key,
                robustness(classifier, images, index, [q.image for q in ws.queries]),
            )
    result = cache[key]
    names = ws.names(classifier.classes)
    flips, moved = result.flips(), result.relative_movement()
    table = {"image": [q.name for q in ws.queries]}
    for t, transform in enumerate(result.transforms):
        table[transform] = [
            f"{moved[t, q]:.2f}"
            + (f" → {names[result.after[t, q].argmax()]}" if flips[t, q] else "")
            for q in range(len(ws.queries))
        ]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    st.caption(
        f"{int(flips.sum())} of {flips.size} changed images get another verdict (→ names it). "
        "Each number is how far the image moved in the model's own space, divided by the "
        f"median distance between two class centres ({result.centre_gap:.3g}): 1 is a whole "
        "gap between classes. A big move under a change that should not matter (a mirror for "
        "most photos) is a cue the model should not rely on."
    )
