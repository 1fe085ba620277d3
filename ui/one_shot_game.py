"""The one-shot game page's glue (app_pages/one_shot_game.py): the session's Game, the test
alphabets read once per process, and the HTML of the candidates, verdicts and scores.

The game itself (trials, picks, tallies, the stored scores) is lab.game; this module only
keeps its newest state in st.session_state and draws it. Pictures are inline data: URIs, not
st.image, so a rerun never retires a picture the browser is still fetching (ui.widgets).
"""

from __future__ import annotations

import secrets
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from PIL import Image

    from core.data import TensorDataset
    from lab.game import Game, ModelAnswer, Outcome

STATE_KEY = "fsl_one_shot_game"
NAMES = {"you": "You", "omniglot-protonet": "ProtoNet", "omniglot-maml": "MAML"}
RIGHT, WRONG = "#009E73", "#D55E00"  # Okabe-Ito bluish green and vermillion (lab.style)
HOW_TO_GET = (
    "Put `images_background.zip` and `images_evaluation.zip` from "
    "https://github.com/brendenlake/omniglot and the Vinyals split files "
    "(`splits/vinyals/test.txt`) in that folder, or set `FEWSHOT_DATA` to the folder that "
    "holds `omniglot/`."
)


@st.cache_resource(show_spinner="Reading Omniglot's test alphabets...")
def _test_alphabets(root: str) -> TensorDataset:
    from core.data import omniglot

    return omniglot("test", Path(root))


def test_alphabets() -> TensorDataset:
    """Omniglot's test split from core.paths.data_root(), read once per process; without it,
    stop the page with where it looked and how to get it."""
    from core.data import DatasetMissing
    from core.paths import data_root
    from lab.labels import markdown_text

    root = data_root() / "omniglot"
    try:
        return _test_alphabets(str(root))
    except DatasetMissing as error:
        st.warning(
            f"The game needs Omniglot's test alphabets, which are not on this machine. "
            f"Looked in {markdown_text(str(root))} (`../shared/data` beside the app, or the "
            f"folder the `FEWSHOT_DATA` variable names). {markdown_text(str(error))}"
        )
        st.info(f"How to get it: {HOW_TO_GET}")
        st.stop()


def game_state() -> Game:
    """This session's game; a new one starts at a random trial."""
    from lab.game import new_game

    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = new_game(secrets.randbelow(1_000_000))
    return st.session_state[STATE_KEY]


def set_game(game: Game) -> None:
    st.session_state[STATE_KEY] = game


def _img(image: Image.Image, size: int, alt: str) -> str:
    from lab.viz import thumbnail_uri

    return (
        f'<img src="{thumbnail_uri(image, size)}" alt="{escape(alt, quote=True)}" '
        f'width="{size}" height="{size}" style="border-radius:6px;display:block;margin:auto">'
    )


def _badge(text: str, colour: str) -> str:
    return (
        f'<span style="background:{colour};color:white;border-radius:8px;padding:0 6px;'
        f'font-size:0.72rem;margin:1px;display:inline-block">{escape(text)}</span>'
    )


def question_html(query: Image.Image) -> str:
    return (
        '<div data-testid="fsl-game-question" style="border:3px solid #0072B2;border-radius:12px;'
        f'padding:10px;width:fit-content;margin:auto;background:white">'
        f"{_img(query, 150, 'the drawing to match')}</div>"
    )


def candidate_html(image: Image.Image, position: int, outcome: Outcome | None) -> str:
    """One candidate: its drawing and number; once answered, who picked it and whether it is
    the twin (a green frame), in words as well as colour."""
    border, badges = "#d6d9e0", []
    if outcome is not None:
        if position == outcome.trial.target:
            border = RIGHT
            badges.append(_badge("✓ twin", RIGHT))
        for player, picked in outcome.picks().items():
            if picked == position:
                colour = RIGHT if position == outcome.trial.target else WRONG
                badges.append(_badge(NAMES.get(player, player), colour))
        if outcome.visitor == position and position != outcome.trial.target:
            border = WRONG
    tags = "".join(badges) or "&nbsp;"
    height = "1.3em" if outcome is None else "2.6em"  # room for three tags, rows stay even
    return (
        f'<div data-testid="fsl-game-candidate" data-position="{position + 1}" '
        f'style="border:2px solid {border};border-radius:10px;padding:4px;text-align:center;'
        f'background:white">{_img(image, 72, f"candidate {position + 1}")}'
        f'<div style="font-size:0.75rem;color:#555">#{position + 1}</div>'
        f'<div style="min-height:{height};line-height:1.1">{tags}</div></div>'
    )


def verdict_html(player: str, outcome: Outcome) -> str:
    """'You: right' or 'ProtoNet picked #3, the twin is #7', in words and colour."""
    picked, target = outcome.picks()[player], outcome.trial.target
    right = picked == target
    who = NAMES.get(player, player)
    words = f"{who} picked #{picked + 1}" + ("" if right else f"; the twin is #{target + 1}")
    mark = "✓ Right" if right else "✗ Wrong"
    return (
        f'<div data-testid="fsl-game-verdict" data-player="{escape(player, quote=True)}" '
        f'data-right="{str(right).lower()}" style="font-size:1.05rem;margin-bottom:4px">'
        f'<b style="color:{RIGHT if right else WRONG}">{mark}</b>: {escape(words)}</div>'
    )


def top_html(answer: ModelAnswer, candidates: list[Image.Image], target: int, k: int = 3) -> str:
    """The model's `k` likeliest candidates: picture, number, probability bar, and for
    ProtoNet the distance to that candidate (smaller = closer)."""
    from lab.viz import percent

    rows = []
    for position in answer.top(k):
        p = answer.probabilities[position]
        twin = " ✓" if position == target else ""
        detail = percent(p)
        if answer.distances is not None:
            detail += f" · distance {answer.distances[position]:.3g}"
        rows.append(
            f'<div data-testid="fsl-game-top" data-position="{position + 1}" data-value="{p!r}" '
            'style="display:grid;grid-template-columns:40px 2.6em 1fr;gap:6px;'
            'align-items:center;font-size:0.8rem;margin:2px 0">'
            f"{_img(candidates[position], 40, f'candidate {position + 1}')}<b>#{position + 1}"
            f'{twin}</b><span><span style="display:block;background:#eef0f4;height:0.7em;'
            f'border-radius:2px"><span style="display:block;height:100%;width:{100 * p:.1f}%;'
            f'background:#0072B2;border-radius:2px"></span></span>{escape(detail)}</span></div>'
        )
    return "".join(rows)


def score_cells(tally) -> list[tuple[str, str]]:
    """(name, 'right / played') for each player of lab.game.PLAYERS."""
    from lab.game import PLAYERS

    return [(NAMES[p], f"{tally.right.get(p, 0)} / {tally.played}") for p in PLAYERS]


def measured_bars(rows: list[dict], yours: float | None) -> str:
    """The stored scores (lab.game.stored_scores) and the visitor's, as labelled bars."""
    from ui.widgets import class_bars

    def name(row: dict) -> str:
        if row["who"] == "people":
            return "People (Lake et al. 2015)"
        return f"{NAMES.get(row['who'], row['who'])} ({row['trials']} test trials)"

    entries = [(name(row), row["accuracy"], row["ci95"]) for row in rows]
    if yours is not None:
        entries.append(("You (this session)", yours, None))
    return class_bars(
        [name for name, _, _ in entries],
        [value for _, value, _ in entries],
        [value / 100 for _, value, _ in entries],
        [f"{value:.1f}%" for _, value, _ in entries],
        [f"{value:.2f}%" + (f" ± {ci:.2f} (95%)" if ci else "") for _, value, ci in entries],
        testid="fsl-game-scores",
    )


def on_pick(choice: int) -> None:
    """Button callback: the visitor picks candidate `choice`; both models answer (lab.game)."""
    from lab.game import MODELS, pick
    from ui.models import get_model

    models = [get_model(name) for name in MODELS]
    set_game(pick(game_state(), test_alphabets(), models, choice))


def on_next() -> None:
    from lab.game import next_trial

    set_game(next_trial(game_state()))


def on_round() -> None:
    from lab.game import start_round

    set_game(start_round(game_state()))


def pair_html(query: Image.Image, candidates: list[Image.Image], outcome: Outcome) -> str:
    """The drawing to match, the visitor's pick and (if that was wrong) the twin, side by side."""
    right = outcome.visitor == outcome.trial.target
    colour = RIGHT if right else WRONG
    cells = [("the drawing", query, "#0072B2"), ("your pick", candidates[outcome.visitor], colour)]
    if not right:
        cells.append(("the twin", candidates[outcome.trial.target], RIGHT))
    figures = "".join(
        f'<figure style="margin:0;text-align:center"><div style="border:2px solid {colour};'
        f'border-radius:8px;padding:2px;background:white">{_img(image, 64, words)}</div>'
        f'<figcaption style="font-size:0.75rem;color:#555">{words}</figcaption></figure>'
        for words, image, colour in cells
    )
    return f'<div style="display:flex;gap:12px;margin-top:6px">{figures}</div>'
