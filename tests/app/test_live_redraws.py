"""Live charts redraw on the last step and otherwise at most once per interval (ui.live.
live_updater): a redraw costs the browser far more than an inner step."""

from __future__ import annotations

from dataclasses import dataclass

from ui.live import live_updater


@dataclass
class Record:
    step: int


class Slot:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def progress(self, value, text=""):
        self.calls.append(text)

    def plotly_chart(self, figure, key="", width=""):
        self.calls.append(key)


def _run(total: int, min_interval_s: float) -> list[str]:
    progress, chart = Slot(), Slot()
    on_step = live_updater(
        progress,
        total,
        lambda r: f"step {r.step}",
        chart=chart,
        figure=lambda seen: len(seen),
        key="k",
        min_interval_s=min_interval_s,
    )
    for step in range(total + 1):
        on_step(Record(step))
    return chart.calls


def test_a_loop_faster_than_the_interval_is_drawn_once_complete():
    assert _run(20, min_interval_s=60.0) == ["k_20"]


def test_with_no_interval_every_step_is_drawn():
    assert _run(5, min_interval_s=0.0) == [f"k_{s}" for s in range(6)]
