"""The three CLIs: --help, JSON output, and clear failures."""

import csv
import hashlib
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("module", ["core.train", "core.evaluate", "core.predict"])
def test_help(module):
    result = run(module, "--help")
    assert result.returncode == 0 and "usage: python -m " + module in result.stdout


def test_evaluate_json(omniglot_root):
    result = run(
        "core.evaluate",
        "--model",
        "omniglot-protonet",
        "--dataset",
        "omniglot",
        "--split",
        "test",
        "--ways",
        "5",
        "--shots",
        "1",
        "--queries",
        "15",
        "--episodes",
        "20",
        "--seed",
        "0",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"accuracy", "ci95", "ways", "shots", "queries", "episodes", "seed", "model"} <= set(out)
    assert out["episodes"] == 20 and 90 <= out["accuracy"] <= 100 and out["ci95"] > 0


def test_evaluate_missing_dataset_says_so(tmp_path):
    result = run("core.evaluate", "--model", "omniglot-protonet", "--dataset", str(tmp_path))
    assert result.returncode == 2 and "class folder" in result.stderr


@pytest.fixture
def folders(tmp_path, omniglot_test):
    for c, name in enumerate(["alpha", "beta", "ב gamma 🙂"]):
        (tmp_path / "support" / name).mkdir(parents=True)
        for i, image in enumerate(omniglot_test.images(c * 50, range(3))):
            image.save(tmp_path / "support" / name / f"{i}.png")
    (tmp_path / "query").mkdir()
    for c in range(3):
        for i, image in enumerate(omniglot_test.images(c * 50, range(10, 12))):
            image.save(tmp_path / "query" / f"q{c}_{i}.png")
    (tmp_path / "query" / "fake.png").write_text("<html>not an image</html>")
    return tmp_path


def test_predict_json_classifies_and_lists_rejects(folders):
    result = run(
        "core.predict",
        "--model",
        "omniglot-protonet",
        "--support",
        str(folders / "support"),
        "--query",
        str(folders / "query"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["classes"] == ["alpha", "beta", "ב gamma 🙂"]
    assert len(out["predictions"]) == 6
    assert [r["file"].endswith("fake.png") for r in out["rejected"]] == [True]
    names = out["classes"]
    correct = sum(p["predicted"] == names[int(p["file"][1])] for p in out["predictions"])
    assert correct >= 5
    for p in out["predictions"]:
        assert sum(p["probabilities"].values()) == pytest.approx(1, abs=1e-4)


def test_predict_csv_has_the_classify_many_columns(folders):
    """--csv - writes lab.batch's columns: one row per usable image, the probabilities
    summing to 1 and agreeing with --json's, and ProtoNet's distance to each class centre."""
    args = ["--model", "omniglot-protonet", "--support", str(folders / "support")]
    args += ["--query", str(folders / "query")]
    result = run("core.predict", *args, "--csv", "-")
    assert result.returncode == 0, result.stderr
    assert "fake.png" in result.stderr  # the refused file is named, outside the CSV
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    names = ["alpha", "beta", "ב gamma 🙂"]
    assert list(rows[0]) == ["file", "predicted", "probability"] + [f"p({n})" for n in names] + [
        f"distance({n})" for n in names
    ]
    assert len(rows) == 6
    as_json = json.loads(run("core.predict", *args, "--json").stdout)["predictions"]
    for row, prediction in zip(rows, as_json, strict=True):
        assert row["file"] == prediction["file"] and row["predicted"] == prediction["predicted"]
        probabilities = [float(row[f"p({n})"]) for n in names]
        assert sum(probabilities) == pytest.approx(1, abs=1e-4)
        assert float(row["probability"]) == max(probabilities)
        distances = [float(row[f"distance({n})"]) for n in names]
        assert names[distances.index(min(distances))] == row["predicted"]


def test_predict_fails_clearly_when_a_class_has_no_valid_image(folders):
    for path in (folders / "support" / "beta").iterdir():
        path.write_bytes(b"")
    result = run(
        "core.predict",
        "--model",
        "omniglot-protonet",
        "--support",
        str(folders / "support"),
        "--query",
        str(folders / "query"),
        "--json",
    )
    assert result.returncode == 2 and "no valid image for class(es) beta" in result.stderr


def test_evaluate_log_test_appends_one_line_with_weights_commit_and_why(omniglot_root, tmp_path):
    log = tmp_path / "test_log.jsonl"
    log.write_text('{"earlier": "line"}')  # no final newline: the new line still starts anew
    result = run(
        "core.evaluate",
        *("--model", "omniglot-protonet", "--split", "test", "--episodes", "3", "--json"),
        *("--log-test", "unit test of the log", "--test-log", str(log)),
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    earlier, entry = (json.loads(line) for line in log.read_text().splitlines())
    assert earlier == {"earlier": "line"}
    assert {"date", "commit", "model", "weights_sha256", "settings", "result", "shipped"} <= set(
        entry
    )
    assert datetime.fromisoformat(entry["date"]).tzinfo is not None
    weights = ROOT / "assets" / "models" / "omniglot-protonet.safetensors"
    assert entry["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert entry["model"] == "omniglot-protonet" and entry["why"] == "unit test of the log"
    assert entry["result"] == {"mean": out["accuracy"], "ci95": out["ci95"]}
    settings = entry["settings"]
    assert (settings["split"], settings["episodes"], settings["seed"]) == ("test", 3, 0)
    assert settings["command"] == out["command"] and "--log-test" in settings["command"]


def test_evaluate_refuses_log_test_off_the_test_split(tmp_path):
    log = tmp_path / "test_log.jsonl"
    result = run(
        "core.evaluate",
        *("--model", "omniglot-protonet", "--split", "val", "--log-test", "tuning"),
        *("--test-log", str(log)),
    )
    assert result.returncode == 2 and "--log-test" in result.stderr and "val" in result.stderr
    assert not log.exists()


def test_shipped_now_is_computed_when_the_log_is_read(tmp_path):
    """Issue 29: the stamped shipped_now was wrong on 18 lines after models changed. It is
    computed on read: today's weights and today's model settings (MAML's inner loop too:
    omniglot-maml v2 kept v1's weights, so the weights alone cannot tell them apart)."""
    import hashlib

    from core.settings import CARD_INNER_STEPS
    from core.testlog import ROOT, model_digest, read_test_log

    models = ROOT / "assets" / "models"
    weights = hashlib.sha256((models / "omniglot-maml.safetensors").read_bytes()).hexdigest()
    card = json.loads((models / "omniglot-maml.json").read_text())
    # the same weights, another inner loop (v3's 10 steps against v4's 20, say)
    steps = card["maml"][CARD_INNER_STEPS]
    v1 = dict(card, maml=card["maml"] | {CARD_INNER_STEPS: steps // 2})
    lines = [
        {"model": "omniglot-maml", "weights_sha256": weights, "model_sha256": model_digest(card)},
        {"model": "omniglot-maml", "weights_sha256": weights, "model_sha256": model_digest(v1)},
        {"model": "omniglot-maml", "weights_sha256": "0" * 64, "model_sha256": model_digest(card)},
        {"model": "omniglot-maml", "weights_sha256": weights, "shipped_now": True},  # no record
    ]
    log = tmp_path / "test_log.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [line["shipped_now"] for line in read_test_log(log)] == [True, False, False, None]


def test_the_card_key_rename_is_not_a_model_change():
    """The card's inner steps took the settings' name (test_steps -> inner_steps, issue 29):
    the same value under either spelling has one digest, another value another."""
    from core.settings import CARD_INNER_STEPS, LEGACY_CARD_INNER_STEPS, card_inner_steps
    from core.testlog import ROOT, model_digest

    card = json.loads((ROOT / "assets" / "models" / "omniglot-maml.json").read_text())
    steps = card["maml"][CARD_INNER_STEPS]
    old = {k: v for k, v in card["maml"].items() if k != CARD_INNER_STEPS}
    legacy = dict(card, maml=old | {LEGACY_CARD_INNER_STEPS: steps})
    assert model_digest(legacy) == model_digest(card)
    assert card_inner_steps(legacy["maml"]) == card_inner_steps(card["maml"]) == steps
    assert model_digest(dict(card, maml=card["maml"] | {CARD_INNER_STEPS: steps + 1})) != (
        model_digest(card)
    )
