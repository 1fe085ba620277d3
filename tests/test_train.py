"""core.train: a run killed with SIGKILL resumes from its last complete checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def train_command(run_dir: Path, out_dir: Path, episodes: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "core.train",
        "--algorithm",
        "protonet",
        "--name",
        "tiny",
        "--hidden",
        "8",
        "--ways",
        "5",
        "--shots",
        "1",
        "--queries",
        "2",
        "--episodes",
        str(episodes),
        "--eval-every",
        "10",
        "--val-episodes",
        "2",
        "--val-settings",
        "5w1s",
        "--run-dir",
        str(run_dir),
        "--out-dir",
        str(out_dir),
        "--json",
        "--quiet",
    ]


def test_killed_training_resumes(tmp_path, omniglot_root):
    run_dir, out_dir = tmp_path / "run", tmp_path / "models"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        train_command(run_dir, out_dir, 100000),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    state = run_dir / "state.pt"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if state.exists():
            import torch

            if torch.load(state, weights_only=True)["step"] >= 20:
                break
        time.sleep(0.2)
    assert process.poll() is None, process.stderr.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()

    import torch

    saved_step = int(torch.load(state, weights_only=True)["step"])
    assert saved_step >= 20 and saved_step % 10 == 0

    result = subprocess.run(
        train_command(run_dir, out_dir, saved_step + 10),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["steps"] == saved_step + 10
    card = json.loads((out_dir / "tiny.json").read_text())
    steps = [point["step"] for point in card["training"]["curve"]]
    # The starting point, then every 10 steps across the kill.
    assert steps[:2] == [0, 10] and steps[-1] == saved_step + 10
    assert sorted(p.name for p in out_dir.iterdir()) == ["tiny.json", "tiny.safetensors"]
    assert [p.name for p in run_dir.iterdir()] == ["state.pt"], "half-written files left"


def test_resume_refuses_other_settings(tmp_path, omniglot_root):
    run_dir, out_dir = tmp_path / "run", tmp_path / "models"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(
        train_command(run_dir, out_dir, 10),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    changed = train_command(run_dir, out_dir, 20)
    changed[changed.index("--queries") + 1] = "3"
    second = subprocess.run(changed, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode != 0 and "other settings (queries)" in second.stderr


def test_a_card_records_how_its_starting_model_was_made():
    from core.train import lineage

    first = {"name": "a", "training": {"command": "train a", "seed": 0, "wall_time_s": 1.0}}
    second = {"name": "b", "training": {"command": "train b", "started_from": lineage(first)}}
    assert lineage(second) == [
        {"name": "b", "command": "train b"},
        {"name": "a", "command": "train a", "seed": 0, "wall_time_s": 1.0},
    ]
