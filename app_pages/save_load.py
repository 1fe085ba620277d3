"""Save & load: the whole teaching session as one zip, and back again."""

from __future__ import annotations

import streamlit as st

import ui
from lab.labels import LabelRejected, check_labels, markdown_text
from lab.session import SessionRejected, export_session, read_session
from lab.workspace import from_session, to_session

ws = ui.workspace()
st.title("Save & load")
st.write(
    "Download your classes, their images (exactly the files you gave), the images to check "
    "and your settings as one zip file, and load it again later to carry on where you left off."
)
ui.show_messages()

save_col, load_col = st.columns(2, gap="large")
with save_col:
    st.subheader("Save")
    n_images = sum(len(card.items) for card in ws.classes)
    st.write(f"{len(ws.classes)} classes, {n_images} examples, {len(ws.queries)} images to check.")
    saved = export_session(to_session(ws))
    st.download_button(
        "Download session (.zip)",
        saved,
        file_name="few-shot-lab-session.zip",
        mime="application/zip",
        key="session_download",
        type="primary",
        disabled=n_images == 0 and not ws.queries,
    )
    if n_images == 0 and not ws.queries:
        st.caption("Nothing to save yet: add images on Teach & classify first.")
    max_upload_mb = st.get_option("server.maxUploadSize")
    if len(saved) > max_upload_mb * 1024 * 1024:
        st.warning(
            f"This session file is {len(saved) / 1e6:.1f} MB; this server loads session files "
            f"of up to {max_upload_mb} MB (server.maxUploadSize). Keep the file: it loads on a "
            "server with a higher limit, or remove some images and save again."
        )

with load_col:
    st.subheader("Load")
    st.caption(
        "Loading replaces your current classes and images. Only zips saved here work; a file "
        "that cannot be loaded leaves your current work as it is."
    )
    nonce = ui.nonce("session_up")
    uploaded = st.file_uploader(
        "Session file", type=["zip"], key=f"session_up_{nonce}", label_visibility="collapsed"
    )
    if uploaded is not None:
        shown_name = markdown_text(uploaded.name)
        try:
            session = read_session(uploaded.getvalue())
            check_labels(session.class_names)
        except (SessionRejected, LabelRejected) as error:
            st.error(
                f"{shown_name} was not loaded: {markdown_text(str(error))}. "
                "Your current work is unchanged."
            )
        else:
            new = from_session(session, first_id=ws.next_id + 1000)
            ui.replace_workspace(new)
            ui.bump("session_up")
            ui.say(
                "success",
                f"Loaded {shown_name}: {len(session.class_names)} classes, "
                f"{sum(len(s) for s in session.support)} examples.",
            )
            st.rerun()
