"""The three CLIs: --help, JSON output, and clear failures."""

import json
import subprocess
import sys
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
