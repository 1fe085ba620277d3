"""Meta-learning playground: watch both loops of MAML on toy tasks, live.

Thin page: widgets and figures only; every computation is in core.toy (tested there) and
every figure in core.viz_toy. Meta-training runs in a background thread that writes only into
a dict kept in st.session_state; a fragment re-reads that dict twice a second, so the rest of
the page stays usable while it trains.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # when run directly

from core import toy, viz_toy

FAMILY_LABELS = {
    "sine": "Sine waves (regression)",
    "blobs": "2-D points: two blobs (classification)",
    "linear": "2-D points: a straight boundary (classification)",
}
STARTS = ("MAML", "Random", "Pretrained")
START_HELP = {
    "MAML": "starts from the meta-learned initialisation",
    "Random": "starts from random weights: no prior knowledge",
    "Pretrained": "starts from one network trained on all tasks at once (no meta-learning)",
}
# Set to True (e.g. by a test) to meta-train inside the script run instead of a thread.
SYNC_KEY = "pg_sync_training"


def _state() -> dict:
    """Per-user state: one training run and one current task per task family."""
    if "pg_runs" not in st.session_state:
        st.session_state["pg_runs"] = {}
    if "pg_tasks" not in st.session_state:
        st.session_state["pg_tasks"] = {}
    return st.session_state


def _settings(family: str) -> toy.ToyConfig:
    """The teacher's settings, one widget each, with defaults per task family."""
    defaults = toy.default_config(family)
    key = f"pg_{family}_"
    with st.expander("Lesson settings", expanded=False):
        left, middle, right = st.columns(3)
        inner_steps = left.number_input(
            "Inner steps (training)", 1, 5, defaults.inner_steps, key=key + "inner_steps",
            help="Gradient steps a copy of the network takes on each task's examples "
            "during meta-training (the inner loop).",
        )  # fmt: skip
        inner_lr = left.number_input(
            "Inner learning rate (alpha)", 0.001, 1.0, defaults.inner_lr, step=0.005,
            format="%.3f", key=key + "inner_lr",
            help="Size of each adaptation step on a task's few examples.",
        )  # fmt: skip
        outer_lr = left.number_input(
            "Outer learning rate (beta)", 0.0001, 0.05, defaults.outer_lr, step=0.0005,
            format="%.4f", key=key + "outer_lr",
            help="Size of each meta-update of the shared starting point (Adam).",
        )  # fmt: skip
        shots = middle.number_input(
            "Examples per task (K shots)", 1, 20, defaults.shots, key=key + "shots",
            help="Points the network may learn from on a task"
            + (" (per class)." if family != "sine" else "."),
        )  # fmt: skip
        meta_batch_size = middle.number_input(
            "Tasks per meta-update (meta-batch)", 1, 100, defaults.meta_batch_size,
            key=key + "meta_batch_size",
            help="How many tasks are averaged for one outer-loop step.",
        )  # fmt: skip
        meta_steps = middle.number_input(
            "Meta-training steps", 10, 20000, defaults.meta_steps, step=100,
            key=key + "meta_steps",
            help="Outer-loop steps; the pretrained baseline gets the same number of updates.",
        )  # fmt: skip
        order = right.radio(
            "Gradient", ["second order", "first order"], key=key + "order", horizontal=True,
            help="Second order differentiates through the inner steps (exact MAML); first "
            "order ignores that and is cheaper (FOMAML).",
        )  # fmt: skip
        eval_inner_steps = right.number_input(
            "Steps to watch on a new task", 1, 30, defaults.eval_inner_steps,
            key=key + "eval_inner_steps",
            help="Inner-loop steps played on a new task after meta-training.",
        )  # fmt: skip
        seed = right.number_input(
            "Seed", 0, 1_000_000, defaults.seed, key=key + "seed",
            help="The same seed gives the same training and the same new tasks: "
            "a repeatable lesson.",
        )  # fmt: skip
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


def _train(run: dict) -> None:
    """Meta-train, then pretrain the baseline, writing progress into ``run`` only."""
    config: toy.ToyConfig = run["config"]
    total = config.meta_steps + config.pretrain_steps

    def on_meta_step(step: int, loss: float) -> None:
        run["meta_losses"].append(loss)
        run["progress"] = step / total

    def on_pretrain_step(step: int, loss: float) -> None:
        run["progress"] = (config.meta_steps + step) / total

    def stop_requested() -> bool:
        return run["stop"]

    try:
        run["phase"] = "Meta-training MAML"
        maml = toy.meta_train(config, on_meta_step, stop_requested)
        run["phase"] = "Training the pretrained baseline (no meta-learning)"
        run["stop"] = False  # a stop ends meta-training; the quick baseline still trains
        pretrained = toy.pretrain(config, on_pretrain_step, stop_requested)
        run["params"] = {
            "MAML": maml.params,
            "Random": toy.random_init(config),
            "Pretrained": pretrained.params,
        }
        run["stopped_early"] = maml.stopped
        run["seconds"] = maml.seconds + pretrained.seconds
        run["status"] = "done"
    except (RuntimeError, ValueError) as error:  # shown as a sentence, never a traceback
        run["error"] = f"Training stopped: {error}."
        run["status"] = "error"


def _new_run(config: toy.ToyConfig) -> dict:
    return {
        "config": config, "status": "running", "phase": "starting", "progress": 0.0,
        "meta_losses": [], "stop": False, "params": None, "error": None, "shown": False,
    }  # fmt: skip


def _start_training(family: str, config: toy.ToyConfig) -> None:
    run = _new_run(config)
    st.session_state["pg_runs"][family] = run
    st.session_state["pg_tasks"].pop(family, None)
    if st.session_state.get(SYNC_KEY, False):
        bar = st.progress(0.0, text="Meta-training…")
        _train(run)
        run["shown"] = True  # already drawn below in this same run
        bar.progress(1.0, text="Done")
    else:
        threading.Thread(target=_train, args=(run,), daemon=True, name="pg-meta-train").start()


def _training_panel(family: str) -> None:
    """Progress and the growing meta-loss curve of this family's run (read-only)."""
    run = st.session_state["pg_runs"].get(family)
    if run is None:
        st.info("Press **Meta-train** to run the outer loop; the meta-loss curve grows here.")
        return
    config: toy.ToyConfig = run["config"]
    losses = list(run["meta_losses"])  # a copy: the thread keeps appending
    if run["status"] == "running":
        st.progress(min(run["progress"], 1.0), text=f"{run['phase']}… {run['progress']:.0%}")
    elif run["status"] == "error":
        st.error(run["error"])
    else:
        note = " (stopped early)" if run["stopped_early"] else ""
        st.success(
            f"Trained {len(losses)} outer steps in {run['seconds']:.0f} s{note}. "
            "Now press **New task**."
        )
    if losses:
        st.plotly_chart(
            viz_toy.meta_loss_figure(losses, total_steps=config.meta_steps),
            key=f"pg_meta_loss_{family}",
        )
    if run["status"] != "running" and not run["shown"]:
        run["shown"] = True
        st.rerun()  # the whole page, so the task player appears


def _sample_task(family: str, run: dict) -> None:
    """A new task the training never saw (its own seed stream), adapted from every start."""
    config: toy.ToyConfig = run["config"]
    previous = st.session_state["pg_tasks"].get(family)
    number = previous["number"] + 1 if previous else 1
    generator = toy.make_generator(10_000 + 1_000 * config.seed + number)
    single = toy.sample_tasks(config, 1, generator)  # a batch of one task
    traces = {
        start: toy.adapt(
            config,
            run["params"][start],
            single.support_inputs[0],
            single.support_targets[0],
            config.eval_inner_steps,
            single.query_inputs[0],
            single.query_targets[0],
        )
        for start in STARTS
    }
    st.session_state["pg_tasks"][family] = {"number": number, "tasks": single, "traces": traces}
    st.session_state[f"pg_step_{family}"] = 0


def _sine_player(task: dict, step: int, config: toy.ToyConfig, slot) -> None:
    tasks, traces = task["tasks"], task["traces"]
    curve_inputs = toy.sine_curve_inputs()
    truth = toy.sine_values(
        curve_inputs.T, tasks.task_params["amplitude"], tasks.task_params["phase"]
    )[0]
    with slot.container():
        columns = st.columns(3)
        for column, start in zip(columns, STARTS):
            predictions = [toy.predict(p, curve_inputs) for p in traces[start].params]
            column.plotly_chart(
                viz_toy.sine_step_figure(
                    curve_inputs, truth, predictions, step, tasks.support_inputs[0],
                    tasks.support_targets[0], f"{start} start", viz_toy.START_COLOURS[start],
                ),
                key=f"pg_sine_{start}_{step}",
            )  # fmt: skip
            column.caption(
                f"{START_HELP[start]}. Error on unseen points after step {step}: "
                f"**{traces[start].query_losses[step]:.2f}** (MSE)."
            )
        st.plotly_chart(
            viz_toy.step_curves_figure(
                {s: traces[s].query_losses for s in STARTS}, step,
                "error on unseen points (MSE)", "Inner loop: error after each step",
            ),
            key=f"pg_sine_curves_{step}",
        )  # fmt: skip


def _plane_player(task: dict, step: int, config: toy.ToyConfig, slot) -> None:
    tasks, traces = task["tasks"], task["traces"]
    grid_axis, grid_points = toy.plane_grid(60)
    support, support_labels = tasks.support_inputs[0], tasks.support_targets[0]
    query, query_labels = tasks.query_inputs[0], tasks.query_targets[0]
    boundary = None
    if config.family == "linear":
        boundary = (tasks.task_params["centre"][0], tasks.task_params["normal"][0])
    protonet = toy.protonet_on_plane(support, support_labels, grid_points, query, query_labels)
    with slot.container():
        columns = st.columns(2)
        for index, start in enumerate(STARTS):
            params = traces[start].params[step]
            predictions = (toy.predict(params, query) > 0).long()
            accuracy = traces[start].query_accuracies[step]
            columns[index % 2].plotly_chart(
                viz_toy.plane_step_figure(
                    grid_axis, toy.class1_probability(params, grid_points), support,
                    support_labels, query, query_labels, predictions,
                    f"{start} start, step {step}: {accuracy:.0%} of queries right",
                    true_boundary=boundary,
                ),
                key=f"pg_plane_{start}_{step}",
            )  # fmt: skip
            columns[index % 2].caption(START_HELP[start] + ".")
        columns[1].plotly_chart(
            viz_toy.plane_step_figure(
                grid_axis, protonet.grid_class1_probability, support, support_labels, query,
                query_labels, protonet.query_predictions,
                f"ProtoNet (no steps): {protonet.query_accuracy:.0%} of queries right",
                prototypes=protonet.prototypes, true_boundary=boundary,
            ),
            key=f"pg_plane_protonet_{step}",
        )  # fmt: skip
        columns[1].caption(
            "ProtoNet takes no gradient steps: each class centre (prototype, star) is the mean "
            "of its examples, and a point belongs to the nearest centre."
        )
        st.plotly_chart(
            viz_toy.step_curves_figure(
                {s: traces[s].query_accuracies for s in STARTS}, step,
                "queries classified right", "Inner loop: accuracy after each step",
                flat_lines={"ProtoNet": protonet.query_accuracy}, as_percent=True,
            ),
            key=f"pg_plane_curves_{step}",
        )  # fmt: skip


def _task_player(family: str, run: dict) -> None:
    config: toy.ToyConfig = run["config"]
    st.subheader("Inner loop on a new task")
    st.caption(
        "One inner step: compute the error on the few examples, and move every weight a "
        f"little (alpha = {config.inner_lr:g}) in the direction that lowers it. MAML's start "
        "was chosen so that a few such steps go a long way."
    )
    if st.button("New task", key="pg_new_task", help="Sample a task no network has seen."):
        _sample_task(family, run)
    task = st.session_state["pg_tasks"].get(family)
    if task is None:
        st.info("Press **New task** to sample a task the networks have never seen.")
        return
    step_key = f"pg_step_{family}"
    pending_key = f"pg_step_pending_{family}"
    if pending_key in st.session_state:  # set by Play before the slider exists
        st.session_state[step_key] = st.session_state.pop(pending_key)
    slider_column, play_column = st.columns([5, 1])
    step = slider_column.slider(
        "Inner step", 0, config.eval_inner_steps, key=step_key,
        help="Step 0 is the starting point; each step is one gradient step on the examples.",
    )  # fmt: skip
    play = play_column.button("Play", key="pg_play", help="Play the inner loop from step 0.")
    st.caption(f"Task {task['number']} of this lesson (seed {config.seed}).")
    slot = st.empty()
    player = _sine_player if family == "sine" else _plane_player
    if play:
        for frame in range(config.eval_inner_steps + 1):
            player(task, frame, config, slot)
            time.sleep(0.5)
        st.session_state[pending_key] = config.eval_inner_steps
        st.rerun()
    player(task, step, config, slot)


def main() -> None:
    state = _state()
    st.title("Meta-learning playground")
    st.write(
        "Meta-learning (MAML) trains a **starting point** from which a network learns a new "
        "task from a handful of examples. Watch the outer loop learn that starting point, then "
        "the inner loop adapt it to a task it has never seen."
    )
    family = st.radio(
        "Task family", list(FAMILY_LABELS), format_func=FAMILY_LABELS.get, key="pg_family",
        horizontal=True,
        help="Sine waves as in Finn et al. 2017, or two-class problems in the plane.",
    )  # fmt: skip
    config = _settings(family)
    run = state["pg_runs"].get(family)
    running = run is not None and run["status"] == "running"
    # One training at a time per user: the machine may have only a couple of cores.
    busy = any(other["status"] == "running" for other in state["pg_runs"].values())

    st.subheader("Outer loop: meta-training")
    train_column, stop_column, _ = st.columns([1, 1, 4])
    if train_column.button(
        "Meta-train", key="pg_meta_train", type="primary", disabled=busy,
        help="Learn MAML's starting point on many random tasks (and the pretrained baseline).",
    ):  # fmt: skip
        _start_training(family, config)
        run = state["pg_runs"][family]
        running = run["status"] == "running"
    if stop_column.button("Stop", key="pg_stop", disabled=not running, help="End training now."):
        run["stop"] = True
    st.fragment(run_every=0.5 if running else None)(_training_panel)(family)

    run = state["pg_runs"].get(family)
    if run is None or run["status"] != "done":
        return
    if asdict(run["config"]) != asdict(config):
        st.warning("The settings changed since training; press **Meta-train** to use them.")
    _task_player(family, run)


main()
