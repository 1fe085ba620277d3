"""Shared fixtures. Tests that need ../shared/data skip on a developer machine without it,
but FAIL under CI=true: there the data must be present and the tests must run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(path: Path, what: str) -> Path:
    if not path.exists():
        message = f"{what} not found at {path}"
        if IN_CI:
            pytest.fail(f"{message}; under CI=true these tests must run")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def omniglot_root() -> Path:
    from core.data import data_root

    return need(data_root() / "omniglot" / "images_evaluation.zip", "Omniglot").parent


@pytest.fixture(scope="session")
def omniglot_test(omniglot_root):
    from core.data import omniglot

    return omniglot("test", omniglot_root)


@pytest.fixture(scope="session")
def omniglot_val(omniglot_root):
    from core.data import omniglot

    return omniglot("val", omniglot_root)


@pytest.fixture(scope="session")
def miniimagenet_root() -> Path:
    from core.data import data_root

    return need(data_root() / "miniimagenet" / "test", "mini-ImageNet").parent


@pytest.fixture(scope="session")
def protonet_model():
    from core import load_model

    return load_model("omniglot-protonet")


@pytest.fixture(scope="session")
def maml_model():
    from core import load_model

    return load_model("omniglot-maml")


# --- test tiers ---------------------------------------------------------------------------
# `pytest -m "not slow"` is the tier to run while working; `bash test.sh` runs everything.
DATA_FIXTURES = {"omniglot_root", "omniglot_test", "omniglot_val", "miniimagenet_root"}
SLOW_FOLDERS = {"e2e": "e2e", "app": "app", "benchmarks": "multiprocess"}
# Unit modules whose tests take seconds each (test.sh prints the 25 slowest with --durations).
SLOW_MODULES = {"test_distributed.py", "test_cli.py", "test_train.py", "test_photo.py"}


def pytest_collection_modifyitems(config, items):
    """Mark each test with its tier: e2e (Chromium), app (AppTest pages), data (reads
    ../shared/data), multiprocess (servers, torchrun, peers); all of them, and the slow unit
    modules, are also `slow`."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        folder = parts[-2] if len(parts) >= 2 else ""
        tiers = set()
        if folder in SLOW_FOLDERS:
            tiers.add(SLOW_FOLDERS[folder])
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            tiers.add("data")
        if parts[-1] in SLOW_MODULES:
            tiers.add(
                "multiprocess" if parts[-1] in {"test_distributed.py", "test_cli.py"} else "slow"
            )
        for tier in tiers | ({"slow"} if tiers else set()):
            item.add_marker(getattr(pytest.mark, tier))
