"""scripts.ship_maml (either Omniglot model) and scripts.copy_open_set, on copies of cards in a
temporary models folder: what they keep, what they refuse (issue 28)."""

from __future__ import annotations

import json

import pytest
import torch

from core.checkpoints import read_card, save_checkpoint
from core.networks import build_network

SPEC = {"type": "conv4", "in_channels": 1, "hidden": 8}


def _card(name: str, split: str, **extra) -> dict:
    return {
        "name": name,
        "algorithm": "protonet",
        "input": "character",
        "network": SPEC,
        "encoder": {"type": "character"},
        "protonet": {"distance": "sq_euclidean"},
        "training": {"config": {"train_split": split}, "best_step": 7, "steps_run": 9,
                     "best_val": 98.0, "wall_time_s": 1.0, "command": f"train {split}"},
        **extra,
    }  # fmt: skip


@pytest.fixture
def folders(tmp_path, monkeypatch):
    shipped, run = tmp_path / "models", tmp_path / "run"
    monkeypatch.setenv("FEWSHOT_MODELS", str(shipped))
    torch.manual_seed(0)
    old = _card("omniglot-protonet", "train", open_set={"by_ways": {"5": {"threshold": 8.6}}})
    save_checkpoint(build_network(SPEC), old, shipped)
    save_checkpoint(build_network(SPEC), _card("omniglot-protonet", "trainval"), run / "out")
    tests = [
        {"model": "omniglot-protonet", "split": "test", "ways": 5, "shots": 5, "accuracy": 99.71,
         "ci95": 0.06},
        {"model": "omniglot-maml", "split": "test", "ways": 5, "shots": 5, "accuracy": 99.68,
         "ci95": 0.08},
    ]  # fmt: skip
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tests))
    return shipped, run, tmp_path / "eval.jsonl"


def test_ship_a_protonet_keeps_the_replaced_version_and_its_own_lines(folders):
    from scripts import ship_maml

    shipped, run, evals = folders
    args = ["--name", "omniglot-protonet", "--run", str(run), "--version", "v2", "--replaces",
            "v1 (replaced)", "--replaced-test", str(evals), "--note", "v1 saw train.",
            "--description", "new"]  # fmt: skip
    assert ship_maml.main(args) == 0
    card = read_card(shipped / "omniglot-protonet.json")
    assert card["training"]["config"]["train_split"] == "trainval" and card["description"] == "new"
    previous = card["previous"]
    assert previous["protonet"] == {"distance": "sq_euclidean"}
    assert previous["open_set"] == {"by_ways": {"5": {"threshold": 8.6}}}
    assert previous["test"] == {"5w5s": {"accuracy": 99.71, "ci95": 0.06}}  # not MAML's line
    assert (shipped / "omniglot-protonet.safetensors").read_bytes() == (
        run / "out" / "omniglot-protonet.safetensors"
    ).read_bytes()
    with pytest.raises(SystemExit, match="already"):
        ship_maml.main(args)


def test_copy_open_set_takes_a_twins_thresholds_and_says_so(folders):
    from scripts import copy_open_set, ship_maml

    shipped, run, evals = folders
    twin = run.parent / "twin"
    save_checkpoint(
        build_network(SPEC),
        _card("omniglot-protonet", "train", open_set={"by_ways": {"2": {"threshold": 9.3}}}),
        twin,
    )
    args = ["--name", "omniglot-protonet", "--source", str(twin)]
    # the shipped card trained on train, as the twin did: nothing to take from it
    with pytest.raises(SystemExit, match="same split"):
        copy_open_set.main(args)
    ship_maml.main(["--name", "omniglot-protonet", "--run", str(run), "--version", "v2",
                    "--replaces", "v1", "--replaced-test", str(evals), "--note", "n",
                    "--description", "d"])  # fmt: skip
    assert copy_open_set.main(args) == 0
    open_set = read_card(shipped / "omniglot-protonet.json")["open_set"]
    assert open_set["by_ways"] == {"2": {"threshold": 9.3}}
    assert open_set["chosen_with"]["model"].endswith("twin/omniglot-protonet.json")
    assert "'train' alone" in open_set["chosen_with"]["why"]
