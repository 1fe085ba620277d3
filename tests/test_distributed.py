"""torchrun: one 2-rank meta-step (gloo on CPU, tasks split across ranks, gradients
averaged) gives the weights of one single-process step on the same tasks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent


def train_args(out_dir: Path, run_dir: Path, algorithm: str) -> list[str]:
    tiny = (
        f"-m core.train --algorithm {algorithm} --name tiny --hidden 8 --ways 5 --shots 1"
        " --queries 2 --meta-batch 4 --inner-steps 1 --test-inner-steps 1 --episodes 1"
        " --no-augment --eval-every 1000 --val-episodes 1 --val-settings 5w1s --device cpu"
        " --seed 3 --quiet --json"
    )
    return [*tiny.split(), "--run-dir", str(run_dir), "--out-dir", str(out_dir)]


def run(command: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert process.returncode == 0, process.stderr[-3000:]


@pytest.mark.parametrize("algorithm", ["maml"])
def test_two_rank_step_equals_single_process_step(tmp_path, omniglot_root, algorithm):
    single, ranks = tmp_path / "single", tmp_path / "ranks"
    run([sys.executable, *train_args(single, tmp_path / "run1", algorithm)])
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    run([*torchrun, "--nproc_per_node=2", *train_args(ranks, tmp_path / "run2", algorithm)])

    expected, got = load_file(single / "tiny.safetensors"), load_file(ranks / "tiny.safetensors")
    assert expected.keys() == got.keys()
    moved = 0
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=1e-6, atol=1e-6, msg=name)
    card_single = json.loads((single / "tiny.json").read_text())
    card_ranks = json.loads((ranks / "tiny.json").read_text())
    assert card_ranks["training"]["world_size"] == 2
    assert card_single["training"]["world_size"] == 1
    for name, rate in card_single["maml"]["lr"].items():
        assert card_ranks["maml"]["lr"][name] == pytest.approx(rate, rel=1e-6, abs=1e-9)
        moved += rate != pytest.approx(0.1, rel=1e-9)
    assert moved > 0, "the learned inner learning rates did not move: no step was taken"


def test_time_budget_stops_every_rank_at_the_same_step(tmp_path, omniglot_root):
    """Rank 0's clock decides and is broadcast: a rank that stopped alone would leave the
    other waiting in its next all-reduce (the subprocess timeout would catch the hang)."""
    args = train_args(tmp_path / "models", tmp_path / "run", "maml")
    args[args.index("--episodes") + 1] = "100000"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    run([*torchrun, "--nproc_per_node=2", *args, "--time-budget-s", "0.5"])
    card = json.loads((tmp_path / "models" / "tiny.json").read_text())
    assert 1 <= card["training"]["steps_run"] < 100000
