"""Benchmark: accuracy on many random N-way K-shot episodes, next to the papers' numbers
(the parts are in ui.benchmark; the evaluation is core.evaluate)."""

from __future__ import annotations

import streamlit as st

from ui import benchmark

st.title("Benchmark")
st.write(
    "How well does a model learn classes from a few examples each? Draw many random tasks "
    "(episodes) from a dataset's test classes: N classes (ways), K examples each (shots) to "
    "learn from, and 15 new images per class to check; then average the accuracy (with its "
    "95% confidence interval). The handwriting models never saw the Omniglot test characters, "
    "so their numbers compare with the papers'. The photo models' backbone was trained on "
    "ImageNet-1k, mini-ImageNet's test classes included, so theirs do not."
)
choice = benchmark.choose()
settings = benchmark.episode_settings()
data, dataset_name = benchmark.open_dataset(choice, settings)

st.subheader("One episode")
benchmark.show_episode(data, settings)
if st.button("Run the benchmark", key="bench_run", type="primary"):
    benchmark.run(choice, dataset_name, settings)
benchmark.show_results()
benchmark.papers_table()
