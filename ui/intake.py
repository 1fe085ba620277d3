"""Images in: upload (many at once), drawing pad or webcam, decoded by core.images."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st
from PIL import Image

from ui.session_state import bump, say, ui_state

if TYPE_CHECKING:
    from lab.workspace import Item, Workspace

# The image uploaders take files of any name: core.images.decode_image decides from the
# bytes and names every refused file with the reason. (Streamlit's `type=` filter would
# refuse a whole batch with one exception when a single file has another extension.)
IMAGE_TYPES = None
MAX_UPLOAD_MB = 10  # per image, checked by the browser; core.images.MAX_FILE_BYTES on the server


def decode_files(
    ws: Workspace, files: list[tuple[str, bytes]], room: int, limit: int
) -> list[Item]:
    """Decode uploaded files into Items; every rejected file gets a message naming it.

    Args:
        files: (name, bytes) pairs in upload order.
        room: at most this many images are taken; the rest get a message.
        limit: the total the message names ("the limit of 50 images here").

    Returns:
        The Items of the files that decoded, in upload order.
    """
    from core.images import ImageRejected, decode_image
    from lab.labels import markdown_text
    from lab.workspace import Item

    items = []
    for name, data in files:
        if len(items) >= room:
            say(
                "warning",
                f"{markdown_text(name)} was not added: the limit of {limit} "
                "images here is reached; remove some to make room.",
            )
            continue
        try:
            image = decode_image(data, name)
        except ImageRejected as error:
            say("error", f"{markdown_text(error.name)} was not added: {error.reason}.")
            continue
        items.append(Item(ws.new_id(), name, data, image))
    return items


def add_images(ws: Workspace, files: list[tuple[str, bytes]], items: list[Item], limit: int):
    """Decode `files` onto the end of `items` (a class's images or the queries), keeping at
    most `limit` in all, then rerun the page so the widgets come back empty."""
    items.extend(decode_files(ws, files, limit - len(items), limit))
    st.rerun()


def take_waiting_uploads(ws: Workspace, limits: dict[str, int]) -> None:
    """Add the files now waiting in the upload and camera widgets of each intake key (the
    browser sent them with this run), before the page draws anything.

    The page then draws once, with the images in place and the widgets empty (new keys),
    instead of drawing everything, reaching the widget, and drawing it all again after a
    rerun (add_images): an upload costs one run of the page, not two (issue 19).

    Args:
        limits: intake key ("query", "class_<id>") -> the most images it may hold.
    """
    for key, limit in limits.items():
        nonce = ui_state().nonce(key)
        uploaded = st.session_state.get(f"{key}_up_{nonce}") or []
        files = [(f.name, f.getvalue()) for f in uploaded]
        snap = st.session_state.get(f"{key}_cam_{nonce}")
        if snap is not None and st.session_state.get(f"{key}_source") == "Camera":
            taken = [item.name for item in intake_items(ws, key)]
            files.append((numbered_name("camera", ".jpg", taken), snap.getvalue()))
        if files:
            items = intake_items(ws, key)
            items.extend(decode_files(ws, files, limit - len(items), limit))
            bump(key)


def canvas_png(rgba: np.ndarray | None) -> bytes | None:
    """A drawing pad's (H, W, 4) uint8 RGBA array -> PNG bytes on white, or None if blank."""
    if rgba is None:
        return None
    array = np.asarray(rgba)
    if array.ndim != 3 or array.shape[2] != 4:
        return None
    alpha = array[..., 3].astype(np.float32) / 255.0
    gray = array[..., :3].astype(np.float32).mean(-1)
    ink = alpha * (1.0 - gray / 255.0)
    if float(ink.max(initial=0.0)) < 0.2:
        return None
    image = Image.fromarray(array.astype(np.uint8), "RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    buffer = io.BytesIO()
    Image.alpha_composite(white, image).convert("L").save(buffer, format="PNG")
    return buffer.getvalue()


def numbered_name(stem: str, suffix: str, taken: Iterable[str]) -> str:
    """The next name of a numbered series among `taken`: "drawing 3.png" after
    "drawing 1.png" and "drawing 2.png"; "drawing 1.png" when there is none yet.

    Numbering goes on from the highest number taken, so names follow the order the images
    were added in and a removed image's number is not given to a new one.
    """
    pattern = re.compile(rf"{re.escape(stem)} (\d+){re.escape(suffix)}")
    numbers = [int(match.group(1)) for name in taken if (match := pattern.fullmatch(name))]
    return f"{stem} {max(numbers, default=0) + 1}{suffix}"


def intake_items(ws: Workspace, key: str) -> list[Item]:
    """The images an intake `key` adds to: "query" -> the queries, "class_<id>" -> that
    class's images; [] for any other key."""
    if key == "query":
        return ws.queries
    class_id = key.removeprefix("class_")
    if class_id.isdigit():
        card = next((c for c in ws.classes if c.id == int(class_id)), None)
        if card is not None:
            return card.items
    return []


def image_intake(
    ws: Workspace, key: str, *, draw: bool = True, camera: bool = True, label: str = "Add images"
) -> list[tuple[str, bytes]]:
    """Upload (many at once), drawing pad or webcam; returns new files once.

    The widgets get a new key after each intake, so they come back empty. Drawings and
    snapshots are named per class (or among the queries) in order: "drawing 1.png",
    "drawing 2.png", ...
    """
    nonce = ui_state().nonce(key)

    def taken() -> list[str]:
        return [item.name for item in intake_items(ws, key)]

    sources = ["Upload"] + (["Draw"] if draw else []) + (["Camera"] if camera else [])
    source = st.radio(
        label, sources, horizontal=True, key=f"{key}_source", label_visibility="collapsed"
    )
    files: list[tuple[str, bytes]] = []
    if source == "Upload":
        uploaded = st.file_uploader(
            label,
            type=IMAGE_TYPES,
            accept_multiple_files=True,
            key=f"{key}_up_{nonce}",
            max_upload_size=MAX_UPLOAD_MB,
            label_visibility="collapsed",
        )
        files = [(f.name, f.getvalue()) for f in uploaded or []]
    elif source == "Draw":
        # Imported here only: importing the component outside a Streamlit run raises.
        from streamlit_drawable_canvas import st_canvas

        result = st_canvas(
            stroke_width=14,
            stroke_color="#000000",
            background_color="#FFFFFF",
            height=200,
            width=200,
            drawing_mode="freedraw",
            key=f"{key}_canvas_{nonce}",
            update_streamlit=True,
            return_image_data=True,
        )
        if st.button("Add this drawing", key=f"{key}_add_drawing_{nonce}"):
            png = canvas_png(None if result is None else result.image_data)
            if png is None:
                st.warning("The pad is empty: draw a character first.")
            else:
                files = [(numbered_name("drawing", ".png", taken()), png)]
    else:
        snap = st.camera_input(label, key=f"{key}_cam_{nonce}", label_visibility="collapsed")
        if snap is not None:
            files = [(numbered_name("camera", ".jpg", taken()), snap.getvalue())]
    if files:
        bump(key)
    return files


def limits_text() -> str:
    """The limits the teach page enforces, in one sentence for its caption."""
    from core.constants import MAX_CLASSES, MIN_CLASSES
    from core.images import MAX_FILE_BYTES, MAX_PIXELS
    from lab.labels import MAX_LABEL_CHARS
    from lab.workspace import MAX_IMAGES_PER_CLASS

    return (
        f"PNG, JPEG, GIF, BMP, WebP or TIFF; up to {MAX_FILE_BYTES / 1e6:.0f} MB and "
        f"{MAX_PIXELS / 1e6:.0f} megapixels per image; {MIN_CLASSES} to {MAX_CLASSES} classes, "
        f"up to {MAX_IMAGES_PER_CLASS} images per class; class names up to {MAX_LABEL_CHARS} "
        "characters, each different (any language or emoji). Images stay in memory, never on "
        "disk."
    )
