"""The Meta-learning playground page's parts (lab.toy underneath): the lesson settings, the
outer loop trained in a background thread and drawn by a fragment, and the task player.

Per-user state is one ``toy.PlaygroundState`` in st.session_state. Meta-training runs in a
background thread that writes only into its ``toy.TrainingRun``; a fragment re-reads the run
twice a second, so the rest of the page stays usable while it trains.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import streamlit as st

from lab import toy
from lab.toy.figures import meta_loss_figure
from lab.toy.player_figures import player_figures

FAMILY_LABELS = {
    "sine": "Sine waves (regression)",
    "blobs": "2-D points: two blobs (classification)",
    "linear": "2-D points: a straight boundary (classification)",
}
START_HELP = {
    "MAML": "starts from the meta-learned initialisation",
    "Random": "starts from random weights: no prior knowledge",
    "Pretrained": "starts from one network trained on all tasks at once (no meta-learning)",
}
PROTONET_HELP = (
    "ProtoNet takes no gradient steps: each class centre (prototype, star) is the mean "
    "of its examples, and a point belongs to the nearest centre."
)
STATE_KEY = "pg_state"
ESTIMATES_KEY = "pg_estimates"  # config -> estimated training seconds, measured once each
POLL_SECONDS = 1.0  # how often the progress panel re-reads a background run
LIVE_CURVE_POINTS = 300  # the live meta-loss curve draws at most about this many points
STOP_WAIT_SECONDS = 5.0  # a stop ends the run within one outer step; wait that long at most
# Set to True (e.g. by a test) to meta-train inside the script run instead of a thread.
SYNC_KEY = "pg_sync_training"


def playground_state() -> toy.PlaygroundState:
    """This user's playground: one training run and one played task per task family."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = toy.PlaygroundState()
    return st.session_state[STATE_KEY]


def settings(family: str) -> toy.ToyConfig:
    """The teacher's settings, one widget each, with defaults per task family."""
    defaults = toy.default_config(family)
    key = f"pg_{family}_"
    with st.expander("Lesson settings", expanded=False):
        left, middle, right = st.columns(3)
        inner_steps = left.number_input(
            "Inner steps (training)",
            1,
            5,
            defaults.inner_steps,
            key=key + "inner_steps",
            help="Gradient steps a copy of the network takes on each task's examples "
            "during meta-training (the inner loop).",
        )
        inner_lr = left.number_input(
            "Inner learning rate (alpha)",
            0.001,
            1.0,
            defaults.inner_lr,
            step=0.005,
            format="%.3f",
            key=key + "inner_lr",
            help="Size of each adaptation step on a task's few examples.",
        )
        outer_lr = left.number_input(
            "Outer learning rate (beta)",
            0.0001,
            0.05,
            defaults.outer_lr,
            step=0.0005,
            format="%.4f",
            key=key + "outer_lr",
            help="Size of each meta-update of the shared starting point (Adam).",
        )
        shots = middle.number_input(
            "Examples per task (K shots)",
            1,
            20,
            defaults.shots,
            key=key + "shots",
            help="Points the network may learn from on a task"
            + (" (per class)." if family != "sine" else "."),
        )
        meta_batch_size = middle.number_input(
            "Tasks per meta-update (meta-batch)",
            1,
            100,
            defaults.meta_batch_size,
            key=key + "meta_batch_size",
            help="How many tasks are averaged for one outer-loop step.",
        )
        meta_steps = middle.number_input(
            "Meta-training steps",
            10,
            20000,
            defaults.meta_steps,
            step=100,
            key=key + "meta_steps",
            help="Outer-loop steps; the pretrained baseline gets the same number of updates.",
        )
        order = right.radio(
            "Gradient",
            ["second order", "first order"],
            key=key + "order",
            horizontal=True,
            help="Second order differentiates through the inner steps (exact MAML); first "
            "order ignores that and is cheaper (FOMAML).",
        )
        eval_inner_steps = right.number_input(
            "Steps to watch on a new task",
            1,
            30,
            defaults.eval_inner_steps,
            key=key + "eval_inner_steps",
            help="Inner-loop steps played on a new task after meta-training.",
        )
        seed = right.number_input(
            "Seed",
            0,
            1_000_000,
            defaults.seed,
            key=key + "seed",
            help="The same seed gives the same training and the same new tasks: "
            "a repeatable lesson.",
        )
    return toy.default_config(
        family,
        inner_steps=int(inner_steps),
        inner_lr=float(inner_lr),
        outer_lr=float(outer_lr),
        shots=int(shots),
        meta_batch_size=int(meta_batch_size),
        meta_steps=int(meta_steps),
        pretrain_steps=int(meta_steps),
        first_order=order == "first order",
        eval_inner_steps=int(eval_inner_steps),
        seed=int(seed),
    )


def _start_training(config: toy.ToyConfig) -> None:
    run = playground_state().start_run(config)
    if st.session_state.get(SYNC_KEY, False):
        bar = st.progress(0.0, text="Meta-training…")
        run.train()
        run.mark_shown()  # already drawn below in this same run
        bar.progress(1.0, text="Done")
    else:
        run.start_thread()


def training_panel(family: str) -> None:
    """Progress and the growing meta-loss curve of this family's run (read-only)."""
    run = playground_state().runs.get(family)
    if run is None:
        st.info("Press **Meta-train** to run the outer loop; the meta-loss curve grows here.")
        return
    progress = run.snapshot()
    running = progress.status == "running"
    if running:
        left = ""
        if progress.progress > 0.02:
            remaining = progress.seconds * (1 - progress.progress) / progress.progress
            left = f", about {_round_seconds(remaining)} s left"
        st.progress(progress.progress, text=f"{progress.phase}… {progress.progress:.0%}{left}")
    elif progress.status == "error":
        st.error(progress.error)
    elif progress.status == "stopped":
        done = len(progress.meta_losses)
        where = (
            f"after {done} of {run.config.meta_steps} outer steps of MAML"
            if done < run.config.meta_steps
            else f"while the pretrained baseline trained (MAML's {done} steps were done)"
        )
        st.warning(
            f"Stopped {where}, {progress.seconds:.0f} s in. Half-trained starting points "
            "would not show the lesson, so there is nothing to play: press **Meta-train** to "
            "train again."
        )
    else:
        st.success(
            f"Trained {len(progress.meta_losses)} outer steps and the baseline in "
            f"{progress.seconds:.0f} s. Now press **New task**."
        )
    if progress.meta_losses:
        st.plotly_chart(
            meta_loss_figure(
                progress.meta_losses,
                total_steps=run.config.meta_steps,
                max_points=LIVE_CURVE_POINTS if running else None,
            ),
            key=f"pg_meta_loss_{family}",
        )
    if progress.status != "running" and run.mark_shown():
        st.rerun()  # the whole page, so the task player appears


def _round_seconds(seconds: float) -> int:
    """Seconds as people say them: to the next 5 s, at least 5."""
    return max(5, 5 * int(-(-seconds // 5)))


def _estimate_caption(config: toy.ToyConfig) -> str:
    """'Training takes about N s', from a few timed steps of this config (measured once)."""
    estimates = st.session_state.setdefault(ESTIMATES_KEY, {})
    key = tuple(sorted(asdict(config).items()))
    if key not in estimates:
        estimates[key] = toy.estimate_seconds(config)
    seconds = estimates[key]
    if seconds is None:
        return "These settings diverge within a few steps: lower the learning rates."
    return (
        f"Training takes about {_round_seconds(seconds)} s on this machine now "
        "(MAML, then the pretrained baseline)."
    )


def _draw_player(play: toy.TaskPlay, step: int, slot) -> None:
    """The panels of every start at ``step``, then the timeline, into ``slot``."""
    family = play.config.family
    charts = player_figures(play, step)
    prefix = "pg_sine" if family == "sine" else "pg_plane"
    with slot.container():
        columns = st.columns(3 if family == "sine" else 2)
        for index, (name, figure) in enumerate(charts.panels.items()):
            # Plane: the three starts fill two columns, ProtoNet closes the second.
            column = columns[index % len(columns)] if name != "ProtoNet" else columns[1]
            column.plotly_chart(figure, key=f"{prefix}_{name.lower()}_{step}")
            column.caption(_panel_caption(play, name, step))
        st.plotly_chart(charts.timeline, key=f"{prefix}_curves_{step}")


def _panel_caption(play: toy.TaskPlay, name: str, step: int) -> str:
    if name == "ProtoNet":
        return PROTONET_HELP
    if play.config.family != "sine":
        return START_HELP[name] + "."
    error = play.traces[name].query_losses[step]
    return f"{START_HELP[name]}. Error on unseen points after step {step}: **{error:.2f}** (MSE)."


def task_player(family: str) -> None:
    state = playground_state()
    config = state.runs[family].config
    st.subheader("Inner loop on a new task")
    st.caption(
        "One inner step: compute the error on the few examples, and move every weight a "
        f"little (alpha = {config.inner_lr:g}) in the direction that lowers it. MAML's start "
        "was chosen so that a few such steps go a long way."
    )
    step_key = f"pg_step_{family}"
    if st.button("New task", key="pg_new_task", help="Sample a task no network has seen."):
        state.new_task(family)
        st.session_state[step_key] = 0
    play = state.plays.get(family)
    if play is None:
        st.info("Press **New task** to sample a task the networks have never seen.")
        return
    pending_key = f"pg_step_pending_{family}"
    if pending_key in st.session_state:  # set by Play before the slider exists
        st.session_state[step_key] = st.session_state.pop(pending_key)
    slider_column, play_column = st.columns([5, 1])
    step = slider_column.slider(
        "Inner step",
        0,
        play.steps,
        key=step_key,
        help="Step 0 is the starting point; each step is one gradient step on the examples.",
    )
    play_pressed = play_column.button(
        "Play", key="pg_play", help="Play the inner loop from step 0."
    )
    st.caption(f"Task {play.number} of this lesson (seed {config.seed}).")
    slot = st.empty()
    if play_pressed:
        for frame in range(play.steps + 1):
            _draw_player(play, frame, slot)
            time.sleep(0.5)
        st.session_state[pending_key] = play.steps
        st.rerun()
    _draw_player(play, step, slot)


def outer_loop(family: str, config: toy.ToyConfig) -> toy.TrainingRun | None:
    """Meta-train and Stop, the time estimate and the live training panel; returns this
    family's run (None before the first)."""
    playground = playground_state()
    train_column, stop_column, _ = st.columns([1, 1, 4])
    # One training at a time per user: the machine may have only a couple of cores.
    if train_column.button(
        "Meta-train",
        key="pg_meta_train",
        type="primary",
        disabled=playground.busy(),
        help="Learn MAML's starting point on many random tasks (and the pretrained baseline).",
    ):
        _start_training(config)
    run = playground.runs.get(family)
    running = run is not None and run.status == "running"
    if stop_column.button(
        "Stop", key="pg_stop", disabled=not running, help="End the whole training now."
    ):
        run.request_stop()
        run.wait(STOP_WAIT_SECONDS)  # within one outer step; the panel then shows it stopped
        running = run.status == "running"
    if not running and playground.settle(family):
        st.info("Stopped: the lesson trained before it is back, ready to play.")
        run = playground.runs.get(family)
    if not playground.busy():  # measuring now would slow a running training down
        st.caption(_estimate_caption(config))
    st.fragment(run_every=POLL_SECONDS if running else None)(training_panel)(family)
    return run


def settings_changed(run: toy.TrainingRun, config: toy.ToyConfig) -> bool:
    """Whether the settings differ from those the run was trained with."""
    return asdict(run.config) != asdict(config)
