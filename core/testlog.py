"""The test log: every look at a test split, on record (docs/results/test_log.jsonl).

`python -m core.evaluate --split test --log-test WHY` (and core.evaluate_open_set's) append
one line: the result, the weights' hash, the commit and the full command, with WHY. Whether
a line's model is the one shipped today (`shipped_now`) is computed when the log is read,
against today's files, never stamped when written. Format: docs/results/test_log.md.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from core.checkpoints import models_dir
from core.files import atomic_write_bytes
from core.settings import CARD_INNER_STEPS, LEGACY_CARD_INNER_STEPS

ROOT = Path(__file__).resolve().parent.parent
TEST_LOG = ROOT / "docs" / "results" / "test_log.jsonl"


def _git(*args: str) -> str | None:
    """git's answer in the repository, or None where git or the repository is missing."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def log_entry(result: dict, why: str) -> dict:
    """One line of docs/results/test_log.jsonl (format: docs/results/test_log.md) for a
    test-split `result` of core.evaluate.evaluate with the "command" that ran it: when, at
    which commit, which weights (sha256 of the model's .safetensors), the settings with the
    full command, and why the test split was read. `shipped`: the weights are the committed
    file in the repository's assets/models, unmodified; None where git cannot tell.
    Whether they are shipped today is computed when the log is read (read_test_log), not
    stamped here."""
    weights = models_dir() / f"{result['model']}.safetensors"
    shipped = False
    if weights.resolve().is_relative_to(ROOT / "assets" / "models"):
        relative = str(weights.resolve().relative_to(ROOT))
        tracked = _git("ls-files", "--", relative)
        changed = _git("status", "--porcelain", "--", relative)
        shipped = None if tracked is None or changed is None else bool(tracked) and not changed
    keys = ("dataset", "split", "ways", "shots", "queries", "episodes", "seed")
    settings = {key: result[key] for key in keys}
    settings |= {k: result[k] for k in ("inner_steps", "inner_lr_scale") if result[k] is not None}
    if result.get("first"):
        settings["first"] = result["first"]
    settings |= {"device": result["device"], "command": result["command"]}
    card = models_dir() / f"{result['model']}.json"
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "model": result["model"],
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        # The card holds MAML's inner loop: the same weights with another loop are another
        # model (omniglot-maml v2 kept v1's weights).
        "model_sha256": model_digest(json.loads(card.read_text())) if card.exists() else None,
        "settings": settings,
        "result": {"mean": result["accuracy"], "ci95": result["ci95"]},
        "shipped": shipped,
        "why": why,
        "source": "python -m core.evaluate --log-test",
    }


def model_digest(card: dict) -> str:
    """sha256 of what, beside the weights, decides a model's answers: its network, encoder
    and algorithm settings (MAML's inner loop, ProtoNet's distance), not its metrics or
    history."""
    notes = ("test_loop_chosen_on", "what_the_steps_do")  # words about the loop, not the loop
    # The inner steps were "test_steps" until the card took the settings' name: one spelling
    # here, so a renamed key is not a changed model.
    spelling = {CARD_INNER_STEPS: LEGACY_CARD_INNER_STEPS}
    maml_settings = {
        spelling.get(k, k): v for k, v in card.get("maml", {}).items() if k not in notes
    }
    parts = {k: card.get(k) for k in ("network", "encoder", "protonet")} | {"maml": maml_settings}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def read_test_log(path: Path = TEST_LOG) -> list[dict]:
    """The test log's lines, each with `shipped_now` computed when read: the line's weights
    are today's assets/models file and its model settings (model_digest) today's card's.
    A line written before model_sha256 was recorded is compared through the card at its
    commit (git); None where that cannot be told. Never stamped when written: a stamp goes
    stale when a model changes."""
    today: dict[str, tuple[str | None, str | None]] = {}
    then: dict[tuple[str, str], str | None] = {}  # (commit, model) -> its settings digest
    lines = []
    for text in Path(path).read_text().splitlines():
        if not text.strip():
            continue
        line = json.loads(text)
        name = line.get("model")
        if name not in today:
            weights = ROOT / "assets" / "models" / f"{name}.safetensors"
            card = ROOT / "assets" / "models" / f"{name}.json"
            today[name] = (
                hashlib.sha256(weights.read_bytes()).hexdigest() if weights.exists() else None,
                model_digest(json.loads(card.read_text())) if card.exists() else None,
            )
        weights_now, settings_now = today[name]
        settings = line.get("model_sha256")
        if settings is None and line.get("commit"):
            key = (line["commit"], name)
            if key not in then:  # one git call per commit and model, not per line
                card = _git("show", f"{line['commit']}:assets/models/{name}.json")
                then[key] = model_digest(json.loads(card)) if card else None
            settings = then[key]
        if line.get("weights_sha256") is None or weights_now is None:
            line["shipped_now"] = False
        elif settings is None:
            line["shipped_now"] = None
        else:
            line["shipped_now"] = line["weights_sha256"] == weights_now and settings == settings_now
        lines.append(line)
    return lines


def append_test_log(path: Path, line: dict) -> None:
    """Append one JSON line to `path`: the whole file is rewritten atomically
    (core.files), so a reader never sees half a line."""
    path = Path(path)
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    atomic_write_bytes(path, old + (json.dumps(line) + "\n").encode())
