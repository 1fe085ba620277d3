"""Where the benchmark datasets are looked for, without importing torch.

core.data (which imports torch) reads its datasets from here, and so does the home page's
"Try an example: handwriting" button, which must say whether Omniglot is on this machine
before anything heavy loads.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """../shared/data beside the repository, or the folder FEWSHOT_DATA names."""
    return Path(os.environ.get("FEWSHOT_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def cache_root() -> Path:
    """Where computed files are kept outside the repository (dataset features, the photo
    backbone's ONNX export): ~/.cache/fewshotlab, or the folder FEWSHOT_CACHE names."""
    return Path(os.environ.get("FEWSHOT_CACHE", Path.home() / ".cache" / "fewshotlab"))
