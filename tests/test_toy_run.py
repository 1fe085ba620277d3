"""Tests of the playground's typed state: lab.toy.run, lab.toy.player, player figures."""

from __future__ import annotations

import time

import pytest
import torch

from lab import toy
from lab.toy.player_figures import player_figures
from lab.toy.run import maml_step_weight


def _config(family: str = "sine", **overrides) -> toy.ToyConfig:
    small = {"meta_steps": 5, "pretrain_steps": 4, "meta_batch_size": 3, "eval_inner_steps": 2}
    return toy.default_config(family, **{**small, **overrides})


def _assert_same_params(first: toy.Params, second: toy.Params) -> None:
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name])


def test_a_finished_run_holds_the_same_numbers_as_the_trainers():
    config = _config()
    run = toy.TrainingRun(config)
    assert run.status == "running" and run.meta_losses == []
    run.train()
    progress = run.snapshot()
    assert progress.status == "done" and progress.error is None
    assert progress.progress == 1.0 and not progress.stopped_early
    assert list(progress.meta_losses) == toy.meta_train(config).losses
    assert tuple(run.starts()) == toy.STARTS
    _assert_same_params(run.starts()["MAML"], toy.meta_train(config).params)
    _assert_same_params(run.starts()["Pretrained"], toy.pretrain(config).params)
    _assert_same_params(run.starts()["Random"], toy.random_init(config))


def test_stop_before_training_ends_the_whole_run_and_offers_no_starts():
    run = toy.TrainingRun(_config())
    run.request_stop()
    run.train()
    progress = run.snapshot()
    assert progress.status == "stopped" and progress.stopped_early
    assert progress.phase == "Stopped" and progress.meta_losses == ()
    assert progress.progress == 0.0  # the baseline did not train either
    assert run.wait(0)
    with pytest.raises(ValueError, match="no trained starts: the run's status is 'stopped'"):
        run.starts()


def _stop_when(run: toy.TrainingRun, ready) -> float:
    """Start ``run`` in a thread, stop it once ``ready(snapshot)``; seconds until it ended."""
    thread = run.start_thread()
    deadline = time.monotonic() + 60
    while not ready(run.snapshot()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ready(run.snapshot()), "the run never reached the point to stop it"
    stopped_at = time.monotonic()
    run.request_stop()
    assert run.wait(10), "the run did not end after a stop"
    thread.join(1)
    assert not thread.is_alive()
    return time.monotonic() - stopped_at


def test_stop_during_meta_training_ends_the_run_without_training_the_baseline():
    run = toy.TrainingRun(_config(meta_steps=100_000, pretrain_steps=100_000))
    seconds = _stop_when(run, lambda progress: len(progress.meta_losses) >= 3)
    progress = run.snapshot()
    assert progress.status == "stopped" and progress.phase == "Stopped"
    assert 3 <= len(progress.meta_losses) < 100_000
    weight = maml_step_weight(run.config)  # 3: one inner step
    total = weight * 100_000 + 100_000
    assert progress.progress == weight * len(progress.meta_losses) / total  # no baseline step
    assert seconds < 5  # one outer step of this config takes milliseconds


def test_stop_during_the_baseline_ends_it_too():
    run = toy.TrainingRun(_config(meta_steps=3, pretrain_steps=100_000))
    seconds = _stop_when(run, lambda progress: progress.progress > 10 / 100_009)
    progress = run.snapshot()
    assert progress.status == "stopped" and len(progress.meta_losses) == 3
    assert progress.progress < 0.5 and seconds < 5
    with pytest.raises(ValueError, match="status is 'stopped'"):
        run.starts()


def test_a_run_reports_its_seconds_while_running_and_once_ended():
    run = toy.TrainingRun(_config())
    assert run.snapshot().seconds == 0.0 and not run.wait(0)
    run.train()
    seconds = run.snapshot().seconds
    assert seconds > 0 and run.snapshot().seconds == seconds  # frozen once ended
    assert run.wait(0)


def test_training_runs_torch_on_one_thread_and_restores_the_count():
    before = torch.get_num_threads()
    seen = []
    config = _config(meta_steps=2, pretrain_steps=2)
    toy.meta_train(config, lambda step, loss: seen.append(torch.get_num_threads()))
    assert seen == [1, 1] and torch.get_num_threads() == before


def test_the_estimate_scales_a_few_timed_steps_to_the_whole_lesson():
    short, long = _config(meta_steps=10, pretrain_steps=10), _config(meta_steps=1000)
    assert 0 < toy.estimate_seconds(short) < toy.estimate_seconds(long)
    diverging = _config(inner_lr=1.0, inner_steps=5, meta_steps=20)
    assert toy.estimate_seconds(diverging, probe_steps=30) is None


def test_a_diverging_run_reports_a_sentence_and_has_no_starts():
    run = toy.TrainingRun(_config(inner_lr=1.0, inner_steps=5, meta_steps=20))
    run.train()
    assert run.status == "error"
    assert run.error.startswith("Training stopped: the meta-loss became")
    assert "lower the learning rates" in run.error
    with pytest.raises(ValueError, match="no trained starts: the run's status is 'error'"):
        run.starts()


def test_starts_are_refused_while_training():
    with pytest.raises(ValueError, match="no trained starts: the run's status is 'running'"):
        toy.TrainingRun(_config()).starts()


@pytest.mark.slow  # meta-trains a toy run in a thread for about 25 s: outside the fast tier
def test_a_background_run_can_be_read_while_it_trains():
    run = toy.TrainingRun(_config(meta_steps=30))
    thread = run.start_thread()
    seen = []
    while thread.is_alive():
        progress = run.snapshot()
        seen.append((progress.progress, len(progress.meta_losses)))
    thread.join(60)
    assert run.status == "done" and len(run.meta_losses) == 30
    assert seen == sorted(seen)  # progress and the curve only grow
    assert all(0.0 <= fraction <= 1.0 for fraction, _ in seen)


def test_the_copy_a_reader_gets_does_not_change_under_it():
    run = toy.TrainingRun(_config())
    losses = run.meta_losses
    run.train()
    assert losses == [] and len(run.meta_losses) == 5


def test_mark_shown_is_true_once():
    run = toy.TrainingRun(_config())
    assert run.mark_shown() and not run.mark_shown()


def test_playground_state_numbers_tasks_and_replaces_runs():
    state = toy.PlaygroundState()
    with pytest.raises(ValueError, match="no training run for 'sine'; meta-train first"):
        state.new_task("sine")
    config = _config()
    run = state.start_run(config)
    assert state.busy()
    run.train()
    assert not state.busy()
    first, second = state.new_task("sine"), state.new_task("sine")
    assert (first.number, second.number) == (1, 2) and state.plays["sine"] is second
    again = toy.new_task(config, run.starts(), 1)  # the same lesson and number: the same task
    assert torch.equal(again.tasks.support_inputs, first.tasks.support_inputs)
    assert again.traces["MAML"].query_losses == first.traces["MAML"].query_losses
    assert not torch.equal(first.tasks.support_inputs, second.tasks.support_inputs)
    replacement = state.start_run(config)
    assert state.runs["sine"] is replacement and "sine" not in state.plays


def test_a_played_task_traces_every_start_for_the_lesson_steps():
    config = _config("blobs")
    run = toy.TrainingRun(config)
    run.train()
    play = toy.new_task(config, run.starts(), 1)
    assert tuple(play.traces) == toy.STARTS and play.steps == 2
    for start, trace in play.traces.items():
        assert trace.steps == 2 and len(trace.query_accuracies) == 3
        _assert_same_params(play.params_at(start, 0), run.starts()[start])
    predictions = play.query_predictions("MAML", 2)
    assert predictions.shape == (2 * config.query_points,)
    assert set(predictions.tolist()) <= {0, 1}
    assert play.true_boundary() is None  # blobs have no straight boundary to draw


@pytest.mark.parametrize(
    ("family", "panels"),
    [
        ("sine", ["MAML", "Random", "Pretrained"]),
        ("linear", ["MAML", "Random", "Pretrained", "ProtoNet"]),
    ],
)
def test_player_figures_draw_one_panel_per_start_and_a_timeline(family, panels):
    config = _config(family)
    run = toy.TrainingRun(config)
    run.train()
    play = toy.new_task(config, run.starts(), 1)
    charts = player_figures(play, 1)
    assert list(charts.panels) == panels
    assert {trace.name for trace in charts.timeline.data} == set(toy.STARTS)
    assert all(len(trace.y) == 3 for trace in charts.timeline.data)  # steps 0..2
    with pytest.raises(ValueError, match=r"step 3 outside \[0, 2\]"):
        player_figures(play, 3)


def test_stopping_a_new_run_puts_the_lesson_trained_before_it_back():
    """Stop used to throw away the previous finished lesson too (issue 31)."""
    state = toy.PlaygroundState()
    first = state.start_run(_config())
    first.train()
    state.plays["sine"] = "the task being played"  # what the page keeps for the lesson
    second = state.start_run(_config())
    assert state.runs["sine"] is second and "sine" not in state.plays
    assert not state.settle("sine")  # still running: nothing changes
    second.request_stop()
    second.train()
    assert state.settle("sine")
    assert state.runs["sine"] is first and state.plays["sine"] == "the task being played"
    assert tuple(state.runs["sine"].starts()) == toy.STARTS
    # A new run that finishes replaces the kept lesson for good.
    third = state.start_run(_config())
    third.train()
    assert not state.settle("sine") and state.runs["sine"] is third and not state.previous
