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
