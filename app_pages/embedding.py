"""Embedding space: where your images, the class centres and the queries sit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from core import viz
from core.embedding import class_space, project_together
from core.labels import markdown_text

ws = ui.workspace()
st.title("Embedding space")
st.write(
    "The model turns every image into a list of numbers (an embedding). Images of the same "
    "class should land close together; a new image gets the class whose centre "
    "(prototype) is nearest."
)
ui.needs_support(ws)

algorithm_col, projection_col = st.columns(2)
algorithms = [a for a in ("protonet", "maml") if ui.model_name(ws.input_kind, a)]
algorithm = algorithm_col.radio(
    "Model",
    algorithms,
    format_func=lambda a: ui.ALGORITHM_LABELS[a],
    horizontal=True,
    index=algorithms.index(ws.algorithm) if ws.algorithm in algorithms else 0,
    key="emb_model",
)
projection = projection_col.radio(
    "2-D picture",
    ["pca", "tsne"],
    horizontal=True,
    key="emb_projection",
    format_func={"pca": "PCA (stable)", "tsne": "t-SNE (keeps neighbours)"}.get,
)
model_name = ui.model_name(ws.input_kind, algorithm)
classifier = ui.adapted(ws, model_name)
names = ws.names(classifier.classes)
support_images, labels = ws.support()
query_images = [q.image for q in ws.queries]
space = class_space(classifier, support_images, labels, query_images)
if algorithm == "protonet":
    st.caption("Stars: the class centres (prototypes), the mean embedding of each class.")
else:
    st.caption(
        "MAML has no prototypes: it classifies with a layer adapted to your examples. The stars "
        "are the class means of the adapted embeddings, for orientation."
    )
support_xy, centre_xy, query_xy = project_together(
    [space.support, space.centres, space.queries], projection
)
support_names = ws.support_names()
chart_col, table_col = st.columns([1, 1], gap="large")
with chart_col:
    event = st.plotly_chart(
        viz.embedding_figure(
            names,
            support_xy,
            space.labels,
            prototype_xy=centre_xy,
            query_xy=query_xy,
            query_predictions=space.predictions or None,
            support_names=support_names,
            query_names=[q.name for q in ws.queries],
            **(
                {}
                if algorithm == "protonet"
                else {
                    "centres_label": "class means (MAML has no prototypes)",
                    "centre_name": "mean",
                }
            ),
        ),
        key="emb_chart",
        on_select="rerun",
        selection_mode="points",
        width="stretch",
    )
    st.caption(
        f"This 2-D picture ({'PCA' if projection == 'pca' else 't-SNE'}) squeezes "
        f"{space.support.shape[1]} numbers per image into 2, so distances in it are only "
        "approximate; the table gives the exact ones. Click a point to see its image."
    )
    selected = (event.selection.points if event and event.selection else []) or []
    shown = []
    for point in selected:
        kind, index = (point.get("customdata") or [None, None])[:2]
        if kind == "support":
            shown.append((support_images[index], support_names[index]))
        elif kind == "query":
            shown.append((query_images[index], ws.queries[index].name))
    if shown:
        st.image(
            [image for image, _ in shown], caption=[markdown_text(n) for _, n in shown], width=96
        )

with table_col:
    st.markdown(f"**Exact distances to each class centre** ({space.distance.replace('_', ' ')})")
    if not ws.queries:
        st.info("Add images to check (queries) on Teach & classify to see their distances.")
    else:
        table = pd.DataFrame(
            {
                "image": [viz.thumbnail_uri(image) for image in query_images],
                "query": [q.name for q in ws.queries],
                "nearest": [names[int(row.argmin())] for row in space.distances],
                **{name: space.distances[:, k] for k, name in enumerate(names)},
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            key="emb_table",
            width="stretch",
            # Narrow columns, so that four classes' distances fit beside the picture.
            column_config={
                "image": st.column_config.ImageColumn("image", width=36),
                "query": st.column_config.TextColumn("query", width=90),
                "nearest": st.column_config.TextColumn("nearest", width=64),
            }
            | {
                name: st.column_config.NumberColumn(name, format="%.3f", width=56) for name in names
            },
        )
    st.markdown("**Examples you teach with (support set)**")
    st.dataframe(
        pd.DataFrame(
            {
                "image": [viz.thumbnail_uri(image) for image in support_images],
                "name": support_names,
                "class": [names[k] for k in space.labels],
            }
        ),
        hide_index=True,
        key="emb_support_table",
        column_config={"image": st.column_config.ImageColumn("image", width="small")},
    )
