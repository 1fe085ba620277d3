"""Checkpoints are safetensors + JSON; damaged files give errors that name them."""

import json
import shutil

import pytest

from core.checkpoints import CheckpointError, load_checkpoint, models_dir


@pytest.fixture
def copy_of_protonet(tmp_path):
    for suffix in (".json", ".safetensors"):
        shutil.copy(models_dir() / f"omniglot-protonet{suffix}", tmp_path / f"m{suffix}")
    card = json.loads((tmp_path / "m.json").read_text())
    card["name"] = "m"
    (tmp_path / "m.json").write_text(json.dumps(card))
    return tmp_path


def test_shipped_checkpoints_are_small_and_load():
    for name in ("omniglot-protonet", "omniglot-maml"):
        assert (models_dir() / f"{name}.safetensors").stat().st_size < 5_000_000
        net, card = load_checkpoint(name)
        assert card["name"] == name and not net.training
        assert card["training"]["command"].startswith("python -m core.train")


def test_truncated_weights_are_named(copy_of_protonet):
    path = copy_of_protonet / "m.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="m.safetensors"):
        load_checkpoint("m", copy_of_protonet)


def test_tampered_weights_are_named(copy_of_protonet):
    path = copy_of_protonet / "m.safetensors"
    data = bytearray(path.read_bytes())
    header = int.from_bytes(data[:8], "little")
    data[8 : 8 + header] = data[8 : 8 + header].replace(
        b"encoder.0.0.weight", b"encoder.9.9.weight"
    )
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="do not match the network"):
        load_checkpoint("m", copy_of_protonet)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not a readable JSON"),
        ('{"schema": 1}', "lacks"),
        ("[1, 2]", "JSON object"),
        (
            '{"schema": 99, "name": "m", "algorithm": "protonet", "input": "character", '
            '"network": {"type": "conv4"}}',
            "schema 99",
        ),
    ],
)
def test_bad_model_cards_are_named(copy_of_protonet, text, message):
    (copy_of_protonet / "m.json").write_text(text)
    with pytest.raises(CheckpointError, match=message) as error:
        load_checkpoint("m", copy_of_protonet)
    assert "m.json" in str(error.value)


def test_unknown_model_lists_the_available_ones(tmp_path):
    with pytest.raises(CheckpointError, match="no model named 'nope'"):
        load_checkpoint("nope")
