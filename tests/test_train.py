"""core.train: a run killed with SIGKILL resumes from its last complete checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def train_command(run_dir: Path, out_dir: Path, episodes: int) -> list[str]:
    tiny = (
        "-m core.train --algorithm protonet --name tiny --hidden 8 --ways 5 --shots 1"
        f" --queries 2 --episodes {episodes} --eval-every 10 --val-episodes 2"
        " --val-settings 5w1s --json --quiet"
    )
    return [sys.executable, *tiny.split(), "--run-dir", str(run_dir), "--out-dir", str(out_dir)]


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
    from core.training.run import lineage

    first = {"name": "a", "training": {"command": "train a", "seed": 0, "wall_time_s": 1.0}}
    second = {"name": "b", "training": {"command": "train b", "started_from": lineage(first)}}
    assert lineage(second) == [
        {"name": "b", "command": "train b"},
        {"name": "a", "command": "train a", "seed": 0, "wall_time_s": 1.0},
    ]


def test_init_from_a_maml_model_starts_from_its_inner_step_sizes(tmp_path, monkeypatch):
    """Issue 13: --init-from a MAML model carries its per-tensor inner step sizes over;
    a ProtoNet source leaves them at --inner-lr."""
    from core import maml
    from core.checkpoints import save_checkpoint
    from core.networks import build_network
    from core.training.config import OmniglotConfig
    from core.training.omniglot import OmniglotInputs
    from core.training.trainer import Trainer

    monkeypatch.setenv("FEWSHOT_MODELS", str(tmp_path))
    spec = {"type": "conv4", "in_channels": 1, "hidden": 8}
    net = build_network(spec)
    names = [k for k, _ in net.named_parameters()] + [maml.HEAD_WEIGHT, maml.HEAD_BIAS]
    rates = {k: 0.01 * (i + 1) for i, k in enumerate(names)}
    card = {"input": "character", "network": spec, "encoder": {"type": "character"}}
    save_checkpoint(net, {"name": "src-maml", "algorithm": "maml", "maml": {"lr": rates}, **card})
    save_checkpoint(net, {"name": "src-proto", "algorithm": "protonet", **card})

    def start(source: str) -> dict[str, float]:
        config = OmniglotConfig(
            algorithm="maml", init_from=source, channels=8, inner_lr=0.5, device="cpu"
        )
        return Trainer(config, OmniglotInputs(config), "test").inner_rates()

    started = start("src-maml")
    assert started.keys() == rates.keys()
    for name, rate in rates.items():
        assert started[name] == pytest.approx(rate, rel=1e-6)
    assert list(start("src-proto").values()) == pytest.approx([0.5] * len(names), rel=1e-6)


def test_the_card_says_when_val_was_inside_the_training_split():
    """Issue 28: a model trained on trainval has no held-out val, so its card must not say
    its checkpoint was chosen on val; a train-only run's card still does."""
    from core.training.config import OmniglotConfig
    from core.training.omniglot import OmniglotInputs
    from core.training.trainer import Trainer

    def note(split: str) -> str:
        config = OmniglotConfig(algorithm="protonet", train_split=split, channels=8, device="cpu")
        trainer = Trainer(config, OmniglotInputs(config), "test")
        trainer.best_step = 3000
        return trainer.data_note()

    held_out, inside = note("train"), note("trainval")
    assert held_out == "Omniglot, Vinyals split: trained on 'train', checkpoint chosen on 'val'"
    assert "trained on 'trainval'" in inside and "not held out" in inside
    assert "step 3000" in inside and "chosen on 'val'" not in inside
