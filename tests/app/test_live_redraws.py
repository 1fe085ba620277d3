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


def _run(
    total: int,
    min_interval_s: float,
    draw_last: bool = True,
    bar: list | None = None,
    slowdown: float = 0.0,
):
    progress, chart = Slot(), Slot()
    if bar is not None:
        progress.calls = bar
    on_step = live_updater(
        progress,
        total,
        lambda r: f"step {r.step}",
        chart=chart,
        figure=lambda seen: len(seen),
        key="k",
        min_interval_s=min_interval_s,
        slowdown=slowdown,
        draw_last=draw_last,
    )
    for step in range(total + 1):
        on_step(Record(step))
    return chart.calls


def test_a_loop_faster_than_the_interval_is_drawn_once_complete():
    assert _run(20, min_interval_s=60.0) == ["k_20"]


def test_with_no_interval_every_step_is_drawn():
    assert _run(5, min_interval_s=0.0) == [f"k_{s}" for s in range(6)]


def test_the_last_step_is_left_to_the_page_when_it_draws_the_finished_chart():
    bar: list[str] = []
    assert _run(20, min_interval_s=60.0, draw_last=False, bar=bar) == []
    assert bar == ["step 20"]  # the bar still reaches the end
    assert _run(3, min_interval_s=0.0, draw_last=False) == ["k_0", "k_1", "k_2"]


class Clock:
    """time.perf_counter for ui.live: one second per inner step, as on a loaded server."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_a_long_loop_redraws_ever_less_often(monkeypatch):
    import ui.live

    clock = Clock()
    monkeypatch.setattr(ui.live, "time", clock)
    chart = Slot()
    on_step = live_updater(
        Slot(), 60, str, chart=chart, figure=len, key="k", min_interval_s=1.0, slowdown=0.25
    )
    for step in range(61):
        clock.now = float(step)
        on_step(Record(step))
    drawn = [int(key.removeprefix("k_")) for key in chart.calls]
    # each gap at least max(1 s, a quarter of the time so far): 13 redraws instead of 60
    assert drawn == [1, 2, 3, 4, 6, 8, 11, 15, 20, 27, 36, 48, 60]
    monkeypatch.setattr(ui.live, "time", Clock())  # a fixed clock: only the interval holds
    assert _run(5, min_interval_s=0.0, slowdown=0.25) == [f"k_{s}" for s in range(6)]
