"""Small pieces of page: class chips, verdicts, the "needs a support set" stop and the
ImageNet caveat."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

import streamlit as st

from ui.session_state import session_cache

if TYPE_CHECKING:
    from lab.workspace import Workspace

TEACH_HINT = "Do that on the Teach & classify page."


def chip(index: int, name: str, detail: str = "") -> str:
    """HTML for st.markdown(unsafe_allow_html=True): a dot in the class's colour, then its
    name in bold, then `detail` (the name carries meaning, the colour only repeats it).

    The name (user text) is shown as typed: escaped for Markdown (st.markdown still reads
    Markdown and $math$ between HTML tags), which escapes every ASCII punctuation character,
    so its <, > and & are literal text too (an HTML escape first would show "&amp;");
    `detail` is the app's own text and is escaped for HTML only. The name sits in <bdi>, so
    a right-to-left name is shown in its own direction without reordering the detail after
    it.
    """
    from lab.labels import markdown_text
    from lab.style import class_colour

    return (
        f'<span style="display:inline-block;width:0.85em;height:0.85em;border-radius:50%;'
        f'background:{class_colour(index)};margin-right:0.35em;vertical-align:-0.05em"></span>'
        f"<b><bdi>{markdown_text(name)}</bdi>{escape(detail)}</b>"
    )


def looks_like(name: str, probability: float) -> str:
    """'Looks like **cat** (92%)': the name escaped for Markdown and, when it holds
    right-to-left letters, isolated so the percentage stays after it."""
    from lab.labels import bidi_isolate, markdown_text
    from lab.viz import percent

    return f"Looks like **{bidi_isolate(markdown_text(name))}** ({percent(probability)})"


def none_of_these(nearest: str, probability: float) -> str:
    """'**None of these**: far from every class (nearest: cat, 62%)', the name escaped."""
    from lab.labels import bidi_isolate, markdown_text
    from lab.viz import percent

    return (
        "**None of these**: far from every class (nearest: "
        f"{bidi_isolate(markdown_text(nearest))}, {percent(probability)})"
    )


def needs_support(ws: Workspace) -> None:
    """Stop the page with what to do first when the support set cannot be adapted to yet."""
    from lab.labels import markdown_text

    waiting = ws.not_ready()
    if waiting:
        st.info(f"{markdown_text(waiting)} {TEACH_HINT}")
        st.stop()


def imagenet_caveat(brief: bool = False) -> None:
    """The ImageNet caveat, shown wherever a photo model's mini-ImageNet number appears
    (core.papers.imagenet_caveat_applies): core.papers.APP_CAVEAT as a warning, or with
    `brief` APP_CAVEAT_BRIEF as a caption (where the model is chosen, before any number)."""
    from core.papers import APP_CAVEAT, APP_CAVEAT_BRIEF

    if brief:
        st.caption(APP_CAVEAT_BRIEF)
    else:
        st.warning(APP_CAVEAT)


def thumbnail_uris(ws: Workspace, items: list, size: int) -> list[str]:
    """Each item's picture (lab.workspace.Item) as a small PNG data: URI, made once per item
    and size and kept in the session's cache (ui.state)."""
    from lab.viz import thumbnail_uri

    cache = session_cache()
    uris = []
    for item in items:
        key = ("thumbnail", item.id, size)
        if key not in cache:
            cache[key] = thumbnail_uri(item.image, size)
        uris.append(cache[key])
    return uris


def thumbnails(ws: Workspace, items: list, size: int, where=st, role: str = "") -> None:
    """The images of `items` (lab.workspace.Item) as a row of small pictures, each an inline
    data: URI with its file name as alt text and tooltip; `role` (e.g. "most helpful")
    goes before the name there when the same image is shown again elsewhere on the page, so
    that an image's alt text names one place.

    Not st.image: that serves each picture from /media/, and a rerun (a webcam snapshot,
    the next upload) can retire the file before the browser has fetched it, which the
    browser logs as a 404 (issue 17). A data URI travels with the page (thumbnail_uris).
    """
    tags = []
    for item, uri in zip(items, thumbnail_uris(ws, items, size), strict=True):
        name = escape(f"{role}: {item.name}" if role else item.name, quote=True)
        tags.append(
            f'<img src="{uri}" alt="{name}" title="{name}" '
            f'style="max-width:{size}px;max-height:{size}px;margin:0 4px 4px 0">'
        )
    where.markdown(
        f'<div data-testid="fsl-thumbnails">{"".join(tags)}</div>', unsafe_allow_html=True
    )


def class_bars(
    class_names: Sequence[str],
    values: Sequence[float],
    fractions: Sequence[float],
    labels: Sequence[str],
    exact: Sequence[str],
    title: str = "",
    testid: str = "fsl-bars",
) -> str:
    """HTML for st.markdown(unsafe_allow_html=True): one horizontal bar per class in the
    class's colour, first class on top, each with its name, its rounded value beside it and
    the exact value on hover (UX.md's visual language, as the plotly bars of lab.viz).

    Plain HTML, not a chart: the Teach page shows two bar sets for every image to check, and
    each plotly chart costs the browser a chart mount (issue 19's waits grew with every
    image). Each row carries its value in data-value, for tests and assistive tools.

    Args:
        class_names: N names (user text: escaped for HTML, isolated in <bdi>). The result is
            one line starting with <div>, a raw HTML block that Markdown leaves alone, so
            names are not escaped for Markdown (a backslash would show).
        values: (N,) the numbers shown.
        fractions: (N,) bar lengths as a share of the track, clipped to [0, 1].
        labels, exact: (N,) the rounded text beside each bar and the exact text on hover.
    """
    from lab.style import class_colour

    sizes = {len(class_names), len(values), len(fractions), len(labels), len(exact)}
    if len(sizes) != 1:
        raise ValueError(f"{len(class_names)} class names but {len(values)} values")
    rows = []
    for i, (name, value, fraction, label, full) in enumerate(
        zip(class_names, values, fractions, labels, exact, strict=True)
    ):
        width = 100.0 * min(max(float(fraction), 0.0), 1.0)
        rows.append(
            f'<div class="fsl-bar" data-value="{float(value)!r}" '
            f'title="{escape(str(name), quote=True)}: {escape(full, quote=True)}" '
            'style="display:contents">'
            '<span style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
            f"<bdi>{escape(str(name))}</bdi></span>"
            '<span style="background:#eef0f4;height:0.9em;border-radius:2px">'
            f'<span style="display:block;height:100%;width:{width:.2f}%;'
            f'background:{class_colour(i)};border-radius:2px"></span></span>'
            f'<span style="text-align:right">{escape(label)}</span></div>'
        )
    heading = (
        f'<div style="font-size:0.8rem;color:#555;margin-bottom:2px">{escape(title)}</div>'
        if title
        else ""
    )
    return (
        f'<div data-testid="{testid}" style="margin:2px 0 8px 0">{heading}'
        '<div style="display:grid;grid-template-columns:minmax(2.5em,max-content) 1fr 4em;'
        'gap:3px 6px;align-items:center;font-size:0.8rem;line-height:1.2">'
        f"{''.join(rows)}</div></div>"
    )


def probability_bars(class_names: Sequence[str], probabilities: Sequence[float]) -> str:
    """class_bars of one image's probabilities: rounded percent beside each bar (lab.viz
    .percent), two decimals on hover."""
    from lab.viz import percent

    values = [float(p) for p in probabilities]
    return class_bars(
        class_names,
        values,
        values,
        [percent(p) for p in values],
        [percent(p, 2) for p in values],
        testid="fsl-probability-bars",
    )


def distance_bars(
    class_names: Sequence[str], distances: Sequence[float], distance_name: str
) -> str:
    """class_bars of one image's distance to each class centre (prototype), the longest bar
    full width; shorter bar = closer. 3 significant digits beside, 6 on hover."""
    values = [float(d) for d in distances]
    longest = max([*values, 1e-12])
    return class_bars(
        class_names,
        values,
        [d / longest for d in values],
        [f"{d:.3g}" for d in values],
        [f"{d:.6g}" for d in values],
        title=f"Distance to each class centre (prototype), {distance_name.replace('_', ' ')}",
        testid="fsl-distance-bars",
    )
