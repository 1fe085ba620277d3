"""Record evaluation results in model cards and draw training curves.

    python -m scripts.model_report docs/results/eval.jsonl [more.jsonl ...]

Each line of the JSONL files is the output of `python -m core.evaluate --json`. The card of
each evaluated model gains metrics["<dataset>/<split> <ways>w<shots>s"] = {accuracy, ci95,
episodes, command, ...}; a later line for the same key replaces an earlier one. Then every
card with a training curve gets docs/<name>-training.png (validation accuracy vs steps), and
every MAML card gets docs/<name>-step-sizes.png (each tensor's inner step size where
meta-training started it and where it left it: FewShotModel.step_sizes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.checkpoints import list_checkpoints, models_dir, read_card, write_card

DOCS = Path(__file__).resolve().parent.parent / "docs"


def metric_key(result: dict) -> str:
    dataset = Path(result["dataset"]).name if "/" in result["dataset"] else result["dataset"]
    split = result["split"] + (f"-first{result['first']}" if result.get("first") else "")
    split += f"-classes{result['classes']}" if result.get("classes") else ""
    return f"{dataset}/{split} {result['ways']}w{result['shots']}s"


def record(paths: list[Path]) -> None:
    for path in paths:
        for line in path.read_text().splitlines():
            if not line.strip().startswith("{") or '"model"' not in line:
                continue
            result = json.loads(line)
            card_path = models_dir() / f"{result['model']}.json"
            card = read_card(card_path)
            keep = (
                "accuracy",
                "ci95",
                "episodes",
                "queries",
                "seed",
                "inner_steps",
                "device",
                "first",
                "wall_time_s",
                "command",
            )
            card.setdefault("metrics", {})[metric_key(result)] = {
                k: result[k] for k in keep if k in result and result[k] is not None
            }
            write_card(card_path, card)


def plot_curves() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in list_checkpoints():
        card = read_card(models_dir() / f"{name}.json")
        curve = card.get("training", {}).get("curve")
        if not curve:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.4), dpi=110)
        settings = sorted(curve[0]["val"])
        for setting in settings:
            ax.plot(
                [p["step"] for p in curve],
                [p["val"][setting] for p in curve],
                marker="o",
                markersize=3,
                label=f"val {setting}",
            )
        best = card["training"].get("best_step")
        if best:
            ax.axvline(best, color="grey", linestyle=":", label=f"chosen (step {best})")
        ax.set_xlabel(
            "meta-training step"
            + (" (episodes)" if card["algorithm"] == "protonet" else " (meta-batches)")
        )
        ax.set_ylabel("validation accuracy (%)")
        data = "mini-ImageNet val" if card["input"] == "photo" else "Omniglot val (Vinyals)"
        title = f"{name}: {data}, 15 queries"
        start = (card["training"].get("started_from") or [None])[0]
        if start:  # steps count from this stage's start, not from scratch
            title += f"\nstarted from {start['name']} after its {start.get('steps_run', '?')} steps"
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        DOCS.mkdir(exist_ok=True)
        fig.savefig(DOCS / f"{name}-training.png")
        plt.close(fig)
        _name_figure(name, "training", f"docs/{name}-training.png")


def plot_step_sizes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.learner import load_model
    from lab.viz import tensor_label

    for name in list_checkpoints():
        model = load_model(name)
        if model.algorithm != "maml":
            continue
        start, learned = model.step_sizes
        # Tensors the inner loop does not move (step 0: a classifier-only loop) have no
        # place on a log axis; the title says how many there are.
        frozen = [k for k in learned if learned[k] <= 0]
        learned = {k: v for k, v in learned.items() if v > 0}
        labels = [tensor_label(k) for k in learned]
        rows = range(len(labels))
        fig, ax = plt.subplots(figsize=(6, 1.4 + 0.24 * len(labels)), dpi=110)
        for row, key in zip(rows, learned):
            ax.plot([start[key], learned[key]], [row, row], color="#BBBBBB", zorder=1)
        ax.scatter(
            [start[k] for k in learned],
            rows,
            facecolors="none",
            edgecolors="#000000",
            label="start of meta-training",
            zorder=2,
        )
        ax.scatter(list(learned.values()), rows, color="#0072B2", label="meta-learned", zorder=3)
        ax.set_yticks(list(rows), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        values = [*learned.values(), *(start[k] for k in learned)]
        low, high = min(values), max(values)
        if high / low < 10:  # at least a decade, so equal values do not look apart
            middle = (low * high) ** 0.5
            ax.set_xlim(middle / 10**0.5, middle * 10**0.5)
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("inner step size (log scale)")
        title = f"{name}: MAML's inner step size per tensor"
        if frozen:
            title += f"\n(the other {len(frozen)} tensors' steps are 0)"
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        fig.savefig(DOCS / f"{name}-step-sizes.png")
        plt.close(fig)
        _name_figure(name, "step_sizes", f"docs/{name}-step-sizes.png")


def _name_figure(name: str, kind: str, path: str) -> None:
    """The card lists its figures (card["figures"][kind] = path in the repository)."""
    card_path = models_dir() / f"{name}.json"
    card = read_card(card_path)
    if card.setdefault("figures", {}).get(kind) != path:
        card["figures"][kind] = path
        write_card(card_path, card)


if __name__ == "__main__":
    record([Path(p) for p in sys.argv[1:]])
    plot_curves()
    plot_step_sizes()
