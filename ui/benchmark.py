"""The Benchmark page's parts: the dataset (read once per process, server folders only
inside the allowed roots), the model, one episode shown, the run (core.evaluate) and the
results beside the papers' numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
import torch

import ui
from core.constants import MAX_CLASSES, MIN_CLASSES
from core.data import DatasetMissing, load_dataset
from core.episodes import check_episode_shape, sample_episode
from core.evaluate import EvalConfig, evaluate
from core.papers import PAPER_ACCURACY, PAPERS_NOTE, imagenet_caveat_applies, paper_accuracy
from lab import viz
from lab.folders import HOW_TO_ENABLE, ROOTS_SECRET, FolderRefused, allowed_roots, resolve_allowed
from lab.labels import markdown_text

DATASETS = {
    "omniglot": "Omniglot (handwritten characters)",
    "miniimagenet": "mini-ImageNet (photos)",
    "folder": "A folder of class subfolders",
}
# The kind of model made for each dataset; a folder may hold either kind of image.
DATASET_INPUT = {"omniglot": "character", "miniimagenet": "photo"}
HOW_TO_GET = {
    "omniglot": "Put `images_background.zip` and `images_evaluation.zip` from "
    "https://github.com/brendenlake/omniglot and the Vinyals split files (`splits/vinyals/"
    "test.txt`) in `../shared/data/omniglot`, or set `FEWSHOT_DATA` to the folder that holds "
    "`omniglot/`.",
    "miniimagenet": "Put the mini-ImageNet images (Ravi & Larochelle split; ImageNet terms of "
    "use) in `../shared/data/miniimagenet/test/<class>/<image>.jpg`, or set `FEWSHOT_DATA`.",
    "folder": "Point to a folder that holds one subfolder of images per class, e.g. "
    "`my_data/cats/*.jpg`, `my_data/dogs/*.jpg` (at least two classes).",
}
FOLDER_MODELS_NOTE = (
    "Every model is offered for a folder: choose a handwriting model (omniglot-...) for "
    "characters and a photo model for photos. A model given the other kind of image gives a "
    "number that means nothing."
)
FOLDER_PHOTO_NOTE = (
    "The photo models' backbone was trained on ImageNet-1k: if your folder's classes are "
    "ImageNet classes, they are not new to it."
)
PHOTO_PAPER_NAME = "paper, Conv-4 from scratch"


@st.cache_resource(show_spinner="Reading the dataset (once)...", max_entries=4)
def dataset(name: str, split: str):
    """A benchmark dataset, read once per process and shared read-only."""
    return load_dataset(name, split)


def folder_roots():
    """The server folders visitors may read (lab.folders.allowed_roots): the environment
    variable plus the Streamlit secret `folder_roots`; empty, so off, when neither is set."""
    setting = st.secrets.get(ROOTS_SECRET) if st.secrets.load_if_toml_exists() else None
    return allowed_roots(setting)


def clear_results() -> None:
    st.session_state.pop("bench_results", None)


@dataclass(frozen=True)
class Choice:
    """What to benchmark: the dataset (a named one, or a typed server folder) and the model."""

    source: str  # a key of DATASETS
    typed_folder: str
    roots: Any  # the allowed server folders (folder_roots)
    model_name: str


def choose() -> Choice:
    """The dataset and model widgets (stops the page where no choice can work)."""
    source_col, model_col = st.columns(2)
    source = source_col.radio(
        "Dataset", list(DATASETS), format_func=DATASETS.get, key="bench_dataset", horizontal=True
    )
    dataset_name = source
    typed_folder = ""
    roots = folder_roots()
    if source == "folder":
        if not roots:
            st.info(f"Reading folders on this server is off. {HOW_TO_ENABLE}")
            st.stop()
        typed_folder = source_col.text_input(
            "Folder on this server",
            key="bench_folder",
            placeholder=str(roots[0]),
            help="A folder inside " + " or ".join(f"`{root}`" for root in roots) + ".",
        ).strip()
    made_for = DATASET_INPUT.get(source)
    models = [m for m in ui.available_models() if made_for in (None, m["input"])]
    if not models:
        st.error(f"No model for {DATASETS[source]} was found in assets/models.")
        st.stop()
    names = sorted((m["name"] for m in models), key=lambda n: n.startswith("photo"))
    model_name = model_col.selectbox("Model", names, key="bench_model")
    if made_for is None:
        model_col.caption(FOLDER_MODELS_NOTE)
    input_kind = next(m["input"] for m in models if m["name"] == model_name)
    if imagenet_caveat_applies(input_kind, dataset_name):
        ui.imagenet_caveat(brief=True)
    elif source == "folder" and input_kind == "photo":
        st.caption(FOLDER_PHOTO_NOTE)
    return Choice(source, typed_folder, roots, model_name)


@dataclass(frozen=True)
class Episodes:
    ways: int
    shots: int
    queries: int
    episodes: int
    seed: int


def episode_settings() -> Episodes:
    """Ways, shots, queries per class, episodes and seed, from five widgets."""
    ways_col, shots_col, queries_col, episodes_col, seed_col = st.columns(5)
    ways = ways_col.number_input("Classes (ways)", MIN_CLASSES, MAX_CLASSES, 5, key="bench_ways")
    shots = shots_col.number_input("Examples per class (shots)", 1, 20, 1, key="bench_shots")
    queries = queries_col.number_input("Queries per class", 1, 30, 15, key="bench_queries")
    episodes = episodes_col.number_input(
        "Episodes",
        1,
        1000,
        20,
        key="bench_episodes",
        help="The papers use 600 to 1000; a few dozen give a quick, rougher estimate.",
    )
    seed = seed_col.number_input("Seed", 0, 10_000, 0, key="bench_seed")
    return Episodes(int(ways), int(shots), int(queries), int(episodes), int(seed))


def open_dataset(choice: Choice, settings: Episodes) -> tuple[Any, str]:
    """(the test split, the dataset's name or resolved folder); stops the page with the
    reason when it is missing, refused or too small for the settings."""
    source, typed_folder, roots = choice.source, choice.typed_folder, choice.roots
    ways, shots, queries = settings.ways, settings.shots, settings.queries
    dataset_name = source
    if source == "folder":
        if not typed_folder:
            st.info(HOW_TO_GET["folder"])
            st.stop()
        try:
            dataset_name = str(resolve_allowed(typed_folder, roots))
        except FolderRefused as error:
            st.warning(markdown_text(str(error)))
            st.stop()
    try:
        data = dataset(dataset_name, "test")
    except DatasetMissing as error:
        st.warning(f"The dataset is not on this machine. {markdown_text(str(error))}")
        st.info(f"How to get it: {HOW_TO_GET[source]}")
        st.stop()
    try:
        check_episode_shape(int(ways), int(shots), int(queries), data.class_sizes())
    except ValueError as error:
        st.warning(f"{error}. Choose fewer classes, shots or queries.")
        st.stop()

    return data, dataset_name


def show_episode(data: Any, settings: Episodes) -> None:
    """The first episode's examples to learn from (up to 10 classes, 3 images each)."""
    ways, shots, queries, seed = settings.ways, settings.shots, settings.queries, settings.seed
    episode = sample_episode(
        data.class_sizes(),
        int(ways),
        int(shots),
        int(queries),
        torch.Generator().manual_seed(int(seed)),
    )
    shown = episode.classes.tolist()[:10]
    rows = st.columns(min(len(shown), 10))
    for k, (column, c) in enumerate(zip(rows, shown, strict=True)):
        column.markdown(ui.chip(k, f"class {k + 1}"), unsafe_allow_html=True)
        column.image(data.images(c, episode.support[k].tolist()[:3]), width=56)
    st.caption(
        f"The examples to learn from in the first episode ({len(shown)} of {int(ways)} classes "
        "shown). Class names are hidden from the model: it only knows which images go together."
    )


def run(choice: Choice, dataset_name: str, settings: Episodes) -> None:
    """Evaluate the model on the episodes with a progress bar; the result joins the
    session's results (an error stops the page with its reason)."""
    model_name = choice.model_name
    ways, shots, queries, seed = settings.ways, settings.shots, settings.queries, settings.seed
    episodes = settings.episodes
    model = ui.get_model(model_name)
    progress = st.progress(0.0, text="Starting...")
    config = EvalConfig(
        model=model_name,
        dataset=dataset_name,
        split="test",
        ways=int(ways),
        shots=int(shots),
        queries=int(queries),
        episodes=int(episodes),
        seed=int(seed),
    )
    running: list[float] = []

    def on_episode(done: int, accuracy: float) -> None:
        running.append(accuracy)
        progress.progress(
            done / config.episodes,
            text=f"Episode {done} of {config.episodes}: mean accuracy so far "
            f"{100 * sum(running) / len(running):.1f}%",
        )

    try:
        result = evaluate(config, model=model, on_episode=on_episode)
    except (DatasetMissing, ValueError) as error:
        st.error(f"The benchmark could not run: {error}")
        st.stop()
    progress.empty()
    result["input"] = model.input_kind
    st.session_state.setdefault("bench_results", []).append(result)


def show_results() -> None:
    """The latest result beside the paper's number, and every result so far in a table and
    a chart."""
    results = st.session_state.get("bench_results", [])
    if results:
        result = results[-1]
        papers = [
            paper_accuracy(r["dataset"], r["algorithm"], r["ways"], r["shots"]) for r in results
        ]
        seen = [imagenet_caveat_applies(r.get("input", ""), r["dataset"]) for r in results]
        photo = [r.get("input") == "photo" for r in results]
        heading, clear = st.columns([4, 1], vertical_alignment="bottom")
        heading.subheader("Results")
        clear.button("Clear results", key="bench_clear", on_click=clear_results)
        left, right = st.columns(2)
        left.metric(
            f"{result['ways']}-way {result['shots']}-shot accuracy ({result['model']})",
            f"{result['accuracy']:.1f}% ± {result['ci95']:.1f}",
            help="Mean over episodes ± 1.96 x standard deviation / sqrt(episodes).",
        )
        right.metric(
            "Paper (Conv-4 from scratch)" if photo[-1] else "Paper (Conv-4)",
            f"{papers[-1]:.1f}%" if papers[-1] else "not reported",
            help="Snell et al. 2017 (ProtoNet) and Finn et al. 2017 (MAML).",
        )
        if result["episodes"] < 100:
            st.caption(
                f"{result['episodes']} episodes give a wide interval; the papers used 600 to 1000."
            )
        if any(seen):
            ui.imagenet_caveat()
        table = pd.DataFrame(
            [
                {
                    "run": i,
                    "model": r["model"],
                    "dataset": r["dataset"],
                    "setting": f"{r['ways']}-way {r['shots']}-shot",
                    "episodes": r["episodes"],
                    "accuracy %": r["accuracy"],
                    "± 95% CI": r["ci95"],
                    "paper %": p,
                    **({"note": "backbone saw these classes" if s else ""} if any(seen) else {}),
                }
                for i, (r, p, s) in enumerate(zip(results, papers, seen, strict=True), 1)
            ]
        )
        st.dataframe(
            table,
            hide_index=True,
            key="bench_table",
            column_config={"note": st.column_config.TextColumn(width="medium")},
        )
        st.plotly_chart(
            viz.benchmark_figure(
                [f"{i}: {r['model']} {r['ways']}w{r['shots']}s" for i, r in enumerate(results, 1)],
                [r["accuracy"] for r in results],
                [r["ci95"] for r in results],
                papers,
                paper_name=PHOTO_PAPER_NAME if any(photo) else "paper",
            ),
            key="bench_chart",
            width="stretch",
        )


def papers_table() -> None:
    """The papers' numbers, in an expander."""
    with st.expander("The papers' numbers (Conv-4, 95% intervals omitted)"):
        st.caption(PAPERS_NOTE)
        st.dataframe(
            pd.DataFrame(
                [
                    {"dataset": d, "algorithm": a, "setting": f"{w}-way {s}-shot", "accuracy %": v}
                    for (d, a), numbers in PAPER_ACCURACY.items()
                    for (w, s), v in numbers.items()
                ]
            ),
            hide_index=True,
        )
