"""Progress and charts that grow while a model learns, step by step.

One updater serves MAML's inner loop (Teach & classify, Inside MAML) and the from-scratch
baseline (Compare): it returns the on_step callback that the library calls at every step.
Every redraw of a chart gets a new key (a key used twice in one run raises).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ui.session_state import bump, nonce

# A redraw mounts a new plotly chart in the browser, which took about a second on this 2-core
# machine (browser and server share it): redrawing more often only queued redraws (the first
# switch to MAML waited 4.9 s at 0.25 s, 1.7 s at 1 s: benchmarks/journeys.py). A loop that
# finishes within a second (20 inner steps here: 0.3 s) is drawn once, complete; a longer one
# (Compare's from-scratch training, a loaded server) grows about once a second.
MIN_INTERVAL_S = 1.0
# And no sooner than a quarter of the time the loop has run: a loop slowed down by other
# users (adapting took a minute at 20 sessions, benchmarks/load.py) redraws about 13 times
# in 60 s instead of 60 times, and the redraws (browser work as well) do not add to the load.
SLOWDOWN = 0.25

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from streamlit.delta_generator import DeltaGenerator

    from lab.workspace import Workspace


def live_updater(
    progress: DeltaGenerator,
    total: int,
    describe: Callable[[Any], str],
    *,
    chart: DeltaGenerator | None = None,
    figure: Callable[[list[Any]], go.Figure] | None = None,
    key: str = "live",
    every: int = 1,
    min_interval_s: float = MIN_INTERVAL_S,
    slowdown: float = SLOWDOWN,
    draw_last: bool = True,
) -> Callable[[Any], None]:
    """An on_step callback that moves a progress bar and redraws a chart.

    Args:
        progress: an st.empty() slot for the bar.
        total: the number of steps; a record's .step (1-based, or 0 before any step) over it
            is the bar's fraction.
        describe: the bar's text for a record.
        chart, figure: an st.empty() slot, and the figure of every record so far.
        key: the chart's key prefix, unique to this run.
        every: update on every `every`-th step only (and on the last).
        min_interval_s: and only once this many seconds have passed since the last redraw
            ended, or since the loop started (the last step is always drawn): each redraw
            costs a figure on the server and a plotly render in the browser, which took
            longer than the steps themselves.
        slowdown: and only once `slowdown` times the time since the loop started has passed
            since the last redraw: a long loop redraws ever less often (13 times in 60 s).
        draw_last: draw the chart at the last step; False when the caller draws the final
            chart into the same slot right after (the bar still moves to the end).
    """
    seen: list[Any] = []
    started = time.perf_counter()
    last = [started]  # a loop that ends within the interval draws once, at its end

    def on_step(record: Any) -> None:
        seen.append(record)
        final = record.step == total
        if record.step % every and not final:
            return
        now = time.perf_counter()
        if not final and now - last[0] < max(min_interval_s, slowdown * (now - started)):
            return
        progress.progress(record.step / max(total, 1), text=describe(record))
        if chart is not None and figure is not None and (draw_last or not final):
            chart.plotly_chart(figure(seen), key=f"{key}_{record.step}", width="stretch")
        last[0] = time.perf_counter()  # from the end of a redraw: the steps get time between

    return on_step


def inner_loop_updater(
    ws: Workspace,
    progress: DeltaGenerator,
    chart: DeltaGenerator,
    steps: int,
    class_names: Sequence[str],
    *,
    run_key: str,
    chart_key: str,
    query_index: int | None = None,
    query_name: str = "",
    draw_last: bool = True,
) -> Callable[[Any], None]:
    """on_step for MAML's inner loop: "Inner step k of K" and the loss/accuracy chart.

    Args:
        steps: K, the inner steps this adaptation takes.
        class_names: N names in the classifier's class order.
        run_key: the workspace counter that numbers the runs (keys stay unique across runs).
        chart_key: the chart keys' prefix.
        query_index, query_name: with an index, that query's probabilities are drawn beside.
        draw_last: as live_updater's (False when the page draws the finished chart itself).
    """
    from lab import viz

    run = nonce(run_key)
    bump(run_key)
    return live_updater(
        progress,
        steps,
        lambda record: f"Inner step {record.step} of {steps}",
        chart=chart,
        figure=lambda seen: viz.trace_figure(
            seen,
            class_names,
            total_steps=steps,
            query_index=query_index,
            query_name=query_name,
        ),
        key=f"{chart_key}_{run}",
        draw_last=draw_last,
    )
