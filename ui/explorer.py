"""The embedding explorer's Streamlit parts: the projection's settings, the chart with the
selected image beside it, its nearest images, a selected region's list (CSV), and every
image to check's exact distances. The computation is lab.explorer's, lab.embedding's and
lab.viz.explorer's; the Embedding space page (app_pages/embedding.py) and ui.exact_view
draw with them, and ui.embedding holds the page's other parts.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

if TYPE_CHECKING:
    from lab.embedding import Projection
    from lab.explorer import ExplorerData

PROJECTION_LABELS = {
    "exact": "exact: the space through the class centres",  # ui.exact_view draws it
    "pca": "PCA",
    "tsne": "t-SNE",
    "umap": "UMAP",
}

# --- the projection ----------------------------------------------------------------------------


def projection_controls() -> tuple[str, int, dict[str, float], bool]:
    """(method, dims, settings, thumbnails) from the widgets, each setting explained."""
    from lab.embedding import PROJECTION_NOTES

    method_col, settings_col, view_col = st.columns([2, 3, 2])
    method = method_col.radio(
        "Picture",
        list(PROJECTION_LABELS),
        format_func=PROJECTION_LABELS.get,
        horizontal=True,
        key="emb_projection",
    )
    settings: dict[str, float] = {}
    if method == "tsne":
        settings["perplexity"] = settings_col.slider(
            "Perplexity",
            2,
            50,
            15,
            key="emb_perplexity",
            help="About how many neighbours each image pays attention to. Small: tight little "
            "clumps, local detail; large: the broader arrangement of the classes.",
        )
    elif method == "umap":
        a, b = settings_col.columns(2)
        settings["n_neighbors"] = a.slider(
            "n_neighbors",
            2,
            50,
            15,
            key="emb_neighbors",
            help="How many nearest images shape each image's place. Small: fine local "
            "structure, more scattered clusters; large: the global layout.",
        )
        settings["min_dist"] = b.slider(
            "min_dist",
            0.0,
            0.99,
            0.1,
            0.05,
            key="emb_min_dist",
            help="How tightly images may be packed. Small: dense clumps; large: evenly "
            "spread points.",
        )
    else:
        settings_col.caption(
            "PCA has no setting: it is the same picture every time."
            if method == "pca"
            else "No setting: the model's own class centres (or weights) fix this picture."
        )
    dims = 3 if view_col.toggle("3-D", key="emb_3d", help="Rotate it by dragging.") else 2
    thumbnails = view_col.toggle(
        "Show the images",
        value=True,
        key="emb_thumbnails",
        disabled=dims == 3,
        help="Draw each image at its place instead of a marker (2-D only).",
    )
    st.caption(
        PROJECTION_NOTES[method]
        + (" In 3-D, drag to rotate; selecting images works in 2-D." if dims == 3 else "")
    )
    return method, dims, settings, thumbnails and dims == 2


@st.cache_resource(show_spinner=False)
def umap_warmup() -> threading.Thread:
    """Once per server process: compile UMAP's code in the background (lab.embedding.warm_umap),
    so the first UMAP picture takes seconds, not the half minute the first compile takes."""
    from lab.embedding import warm_umap

    thread = threading.Thread(target=warm_umap, name="umap-warmup", daemon=True)
    thread.start()
    return thread


@st.cache_data(show_spinner=False, max_entries=32)
def projected(points: np.ndarray, method: str, dims: int, settings: tuple) -> Projection:
    """lab.embedding.project, cached by the points' bytes and the settings."""
    from lab.embedding import project

    return project(points, method, dims, **dict(settings))


def project_data(data: ExplorerData, method: str, dims: int, settings: dict) -> Projection:
    """The images and the class centres, projected together (with a spinner)."""
    points = np.concatenate([data.embeddings, data.centres])
    warmup = umap_warmup()
    first_umap = method == "umap" and warmup.is_alive()
    label = f"Projecting {len(points)} points with {PROJECTION_LABELS[method]}..."
    if first_umap:
        label += " (UMAP is still compiling its code on this server: up to half a minute)"
    with st.spinner(label):
        projection = projected(points, method, dims, tuple(sorted(settings.items())))
    st.session_state.setdefault("emb_projected", set()).add(method)
    return projection


# --- the chart, the selected image, its neighbours, a region -------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _sprites(key: str, _data: ExplorerData) -> list[str]:
    """Thumbnails framed in their class's colour, made once per data (key: its model and title)."""
    from lab.style import class_colour
    from lab.viz.explorer import sprite_uri

    return [
        sprite_uri(image, class_colour(_data.colour_class(i)))
        for i, image in enumerate(_data.images)
    ]


def explorer(data: ExplorerData, method: str, dims: int, settings: dict, thumbnails: bool) -> None:
    """The chart with the selected image and its neighbours beside it; under it, the list
    of a selected region with its CSV."""
    from lab.explorer import selected_indices
    from lab.viz.explorer import explorer_figure

    projection = project_data(data, method, dims, settings)
    n = len(data.images)
    kept = projection.kept
    if projection.subsampled:  # never the case for the app's slices; said if it happens
        st.warning(projection.note())
    xy = np.full((n + len(data.centres), dims), np.nan)
    xy[kept] = projection.xy
    sprites = _sprites(f"{data.model_name}|{data.title}", data) if thumbnails else None
    chart_col, side_col = st.columns([3, 2], gap="medium")
    with chart_col:
        event = st.plotly_chart(
            # A new picture (model, images, projection, settings) starts unzoomed.
            explorer_figure(data, xy[:n], xy[n:], sprites=sprites).update_layout(
                uirevision=f"{data.model_name}|{data.title}|{method}|{dims}|{settings}"
            ),
            key="emb_chart",
            on_select="rerun",
            selection_mode=("points", "box", "lasso"),
            width="stretch",
        )
        st.caption(
            "Stars: class centres; pictures or circles: examples; diamonds: images to check, "
            "framed or outlined in the colour of the predicted class; red ✗: a wrong answer. "
            f"The picture squeezes {data.embeddings.shape[1]} numbers per image into {dims}, "
            "so distances in it are only approximate. Click an image to see it with its "
            "nearest images; to list a region, pick Box select or Lasso select in the chart's "
            "toolbar and drag. Every distance in the "
            f"tables is measured in the model's own space ({data.distance.replace('_', ' ')}), "
            "not in the picture."
        )
    points = (event.selection.points if event and event.selection else []) or []
    chosen = selected_indices(points, data.n_support)
    with side_col:
        picked = _image_picker(data, chosen)
        if picked is not None:
            image_details(data, picked)
    if len(chosen) > 1:
        region(data, chosen)


def _image_picker(data: ExplorerData, chosen: list[int]) -> int | None:
    """The image the side panel shows: the one clicked on the chart, else the one picked in
    the box (which also serves keyboards)."""
    if len(chosen) == 1:
        return chosen[0]
    options = [None, *range(len(data.images))]
    return st.selectbox(
        "Or pick an image",
        options,
        format_func=lambda i: (
            "click one on the chart, or pick it here" if i is None else data.names[i]
        ),
        key="emb_pick",
    )


def image_details(data: ExplorerData, index: int, k: int = 5) -> None:
    """One image, larger, with its distances to the class centres and its k nearest images."""
    from lab.explorer import QUERY, nearest_images
    from lab.labels import markdown_text
    from lab.viz.images import thumbnail_uri

    image_col, text_col = st.columns([1, 2])
    image_col.image(data.images[index], width=120)
    role = "to check" if data.roles[index] == QUERY else "an example (support)"
    lines = [f"**{markdown_text(data.names[index])}**, {role}"]
    if data.labels[index] >= 0:
        lines.append(f"class: {markdown_text(data.class_names[data.labels[index]])}")
    if data.roles[index] == QUERY:
        verdict = data.class_names[data.predictions[index]]
        wrong = data.labels[index] >= 0 and data.labels[index] != data.predictions[index]
        lines.append(f"predicted: {markdown_text(verdict)}" + (" ✗ wrong" if wrong else ""))
    text_col.markdown("  \n".join(lines))
    distances = data.centre_distances([index])[0]
    order = np.argsort(distances)[:3]
    text_col.markdown(
        f"Nearest {data.centre_name}s: "
        + ", ".join(f"{markdown_text(data.class_names[c])} {distances[c]:.3f}" for c in order)
    )
    neighbours = nearest_images(data, index, k)
    st.markdown(f"**Its {k} nearest images** (in the model's space)")
    st.dataframe(
        pd.DataFrame(
            {
                "image": [thumbnail_uri(data.images[j], 48) for j, _ in neighbours],
                "name": [data.names[j] for j, _ in neighbours],
                "class": [_class_of(data, j) for j, _ in neighbours],
                "distance": [d for _, d in neighbours],
            }
        ),
        hide_index=True,
        key="emb_neighbours",
        width="stretch",
        column_config={
            "image": st.column_config.ImageColumn("image", width=44),
            "name": st.column_config.TextColumn("name", width=150),
            "class": st.column_config.TextColumn("class", width=90),
            "distance": st.column_config.NumberColumn("distance", format="%.3f", width=64),
        },
    )


def _class_of(data: ExplorerData, i: int) -> str:
    """The true class in words, or "→ predicted" for a query of unknown class."""
    if data.labels[i] >= 0:
        return data.class_names[data.labels[i]]
    return f"→ {data.class_names[data.predictions[i]]}"


def region(data: ExplorerData, indices: list[int]) -> None:
    """The images of a selected region, with their distances, downloadable as CSV."""
    from core.rows import to_csv
    from lab.explorer import region_rows
    from lab.viz.images import thumbnail_uri

    found = region_rows(data, indices)
    rows = pd.DataFrame(found)
    st.markdown(f"**{len(indices)} images in the selected region**")
    st.download_button(
        f"Download these {len(indices)} as CSV",
        to_csv(found).encode("utf-8"),
        file_name="embedding-region.csv",
        mime="text/csv",
        key="emb_region_csv",
    )
    st.dataframe(
        pd.concat(
            [
                pd.DataFrame({"thumbnail": [thumbnail_uri(data.images[i], 40) for i in indices]}),
                rows,
            ],
            axis=1,
        ),
        hide_index=True,
        key="emb_region",
        column_config={"thumbnail": st.column_config.ImageColumn("", width="small")}
        | {
            c: st.column_config.NumberColumn(c.removeprefix("distance to "), format="%.2f")
            for c in rows.columns
            if c.startswith("distance to ")
        },
    )


def distance_table(data: ExplorerData) -> None:
    """Every image to check with its exact distance to each class centre."""
    from lab.viz.images import thumbnail_uri

    queries = data.queries
    st.markdown(
        f"**Exact distances to each class centre** ({data.distance.replace('_', ' ')}, in the "
        "model's space)"
    )
    if not len(queries):
        st.info("Add images to check (queries) on Teach & classify to see their distances.")
        return
    distances = data.centre_distances(queries)
    table = pd.DataFrame(
        {
            "image": [thumbnail_uri(data.images[i], 40) for i in queries],
            "query": [data.names[i] for i in queries],
            "nearest": [data.class_names[int(row.argmin())] for row in distances],
            **{name: distances[:, k] for k, name in enumerate(data.class_names)},
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        key="emb_table",
        width="stretch",
        height=min(400, 38 + 35 * len(queries)),
        column_config={
            "image": st.column_config.ImageColumn("image", width="small"),
            "query": st.column_config.TextColumn("query", width=110),
        }
        | {
            name: st.column_config.NumberColumn(name, format="%.3f", width=64)
            for name in data.class_names
        },
    )
