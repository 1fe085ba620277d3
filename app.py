"""Few-Shot Lab: the entry point. Page config and navigation only; nothing heavy at import.

streamlit run app.py
"""

from __future__ import annotations

import streamlit as st

import ui
from ui.server_fixes import keep_upload_answers

keep_upload_answers()  # an upload right after a click must not be lost (ui/server_fixes.py)
st.set_page_config(page_title="Few-Shot Lab", layout="wide")

TEACH = "app_pages/teach.py"
HOW = "app_pages/how_it_works.py"


def home() -> None:
    """Landing page: what few-shot learning is, and three ways in (each kind of image also
    with a ready example lesson)."""
    st.title("Few-Shot Lab")
    st.markdown(
        "**Few-shot learning** means teaching a model new classes from a handful of examples "
        "each, because it has already *learned how to learn* from many other tasks."
    )
    st.write("")
    handwriting, photos, how = st.columns(3, gap="large")
    with handwriting.container(border=True):
        st.subheader("Teach it your handwriting")
        st.write("Draw or upload a few characters per class; it learns them instantly.")
        if st.button(
            "Start with handwriting", key="home_handwriting", type="primary", width="stretch"
        ):
            ui.workspace().input_kind = "character"
            st.switch_page(TEACH)
        ui.example_button("character", key="home_example_handwriting")
    with photos.container(border=True):
        st.subheader("Teach it your photos")
        st.write("Upload or snap a few photos per class: your cat, your mug, your plant.")
        if st.button("Start with photos", key="home_photos", type="primary", width="stretch"):
            ui.workspace().input_kind = "photo"
            st.switch_page(TEACH)
        ui.example_button("photo", key="home_example_photos")
    with how.container(border=True):
        st.subheader("How it works")
        st.write("MAML and Prototypical Networks in plain words, with the formulas.")
        if st.button("Read how it works", key="home_how", width="stretch"):
            st.switch_page(HOW)
    st.write("")
    st.caption(
        "Everything runs on this machine: the models ship with the app and your images stay "
        "in this browser session's memory."
    )


def home_alias() -> None:
    """/home: Streamlit serves the default page at the root only, so this hidden page sends
    visitors who type /home to it (and the navigation then marks Home as the page)."""
    st.switch_page(HOME)


# The default page's public path is "" (the root); url_path="" leaves "home" free for the
# alias, which would otherwise answer "Page not found".
HOME = st.Page(home, title="Home", default=True, url_path="")
pages = {
    "Start": [HOME, st.Page(home_alias, title="Home", url_path="home", visibility="hidden")],
    "Teach": [
        st.Page(TEACH, title="Teach & classify"),
        st.Page("app_pages/classify_many.py", title="Classify many"),
        st.Page("app_pages/inside_maml.py", title="Inside MAML"),
        st.Page("app_pages/embedding.py", title="Embedding space"),
        st.Page("app_pages/compare.py", title="Compare"),
        st.Page("app_pages/save_load.py", title="Save & load"),
    ],
    "Learn": [
        st.Page(HOW, title="How it works"),
        st.Page("app_pages/benchmark.py", title="Benchmark"),
        st.Page("app_pages/one_shot_game.py", title="You vs the model"),
        st.Page("app_pages/playground.py", title="Meta-learning playground"),
    ],
}
ui.warm_up_in_background()
page = st.navigation(pages)
if page is not HOME:  # Home imports nothing heavy; other pages wait for the warm-up's imports
    ui.wait_for_imports()
page.run()
