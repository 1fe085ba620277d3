"""You vs the model: Lake et al.'s one-shot game on Omniglot's test alphabets (lab.game)."""

from __future__ import annotations

import streamlit as st

import ui
from lab.game import MODELS, ROUND_LENGTH, draw_trial, stored_scores, trial_images
from lab.labels import markdown_text
from ui import one_shot_game as view

st.title("You vs the model")
st.markdown(
    "Here is **one drawing** of a character you have probably never seen. Below it are "
    "**20 characters of the same alphabet**, each drawn by someone else. Which one is its twin? "
    "Then see what the two models (which never saw these alphabets either) picked."
)
data = view.test_alphabets()
for name in MODELS:
    ui.get_model(name)  # a damaged model stops the page here with how to fix it
game = view.game_state()
trial = draw_trial(data, game.seed)
query, candidates = trial_images(data, trial)
outcome = game.outcome

left, right = st.columns([1, 3], gap="large")
with left:
    st.markdown("**Find the twin of this drawing**")
    st.markdown(view.question_html(query), unsafe_allow_html=True)
    st.caption(f"Alphabet: {markdown_text(trial.trial.alphabet.replace('_', ' '))}")
    if game.round is not None:
        done = len(game.round)
        st.progress(done / ROUND_LENGTH, text=f"Round: {done} of {ROUND_LENGTH} trials answered")
    if outcome is not None:  # after a round's last trial, free play goes on
        st.button("Next trial →", key="game_next", type="primary", on_click=view.on_next)
    if game.round is None or game.round_over:
        label = "Play again" if game.round_over else f"Play {ROUND_LENGTH} trials"
        st.button(label, key="game_round", on_click=view.on_round, width="stretch")
        st.caption(f"The same {ROUND_LENGTH} trials for everyone, with a score at the end.")
with right:
    if outcome is None:
        st.caption("Click **Pick** under the drawing you think is the same character.")
    else:
        st.caption("The green frame is the twin; the tags say who picked what.")
    for row in range(4):
        cells = st.columns(5, gap="small")
        for column, cell in enumerate(cells):
            position = row * 5 + column
            cell.markdown(
                view.candidate_html(candidates[position], position, outcome),
                unsafe_allow_html=True,
            )
            if outcome is None:
                cell.button(
                    f"Pick {position + 1}",
                    key=f"game_pick_{position}",
                    on_click=view.on_pick,
                    args=(position,),
                    width="stretch",
                )

if outcome is not None:
    st.subheader("Who got it?")
    columns = st.columns(1 + len(outcome.answers), gap="large")
    columns[0].markdown(
        view.verdict_html("you", outcome) + view.pair_html(query, candidates, outcome),
        unsafe_allow_html=True,
    )
    for column, answer in zip(columns[1:], outcome.answers, strict=True):
        with column:
            st.markdown(view.verdict_html(answer.model, outcome), unsafe_allow_html=True)
            what = "probability and distance" if answer.distances else "probability"
            st.caption(f"Its three likeliest candidates ({what}):")
            st.markdown(
                view.top_html(answer, candidates, outcome.trial.target), unsafe_allow_html=True
            )

if game.round_over:
    summary = game.round_tally
    cells = ", ".join(f"{name} {score}" for name, score in view.score_cells(summary))
    st.success(f"Round over! Out of {ROUND_LENGTH}: {cells}.")

st.divider()
session, measured = st.columns([1, 2], gap="large")
with session:
    st.subheader("Score this session")
    for column, (name, score) in zip(st.columns(3), view.score_cells(game.tally), strict=True):
        column.metric(name, score)
with measured:
    st.subheader("On many trials")
    try:
        rows = stored_scores()
    except (OSError, ValueError) as error:
        st.info(f"The models' measured scores cannot be shown: {markdown_text(str(error))}.")
    else:
        st.markdown(view.measured_bars(rows, game.tally.percent("you")), unsafe_allow_html=True)
        files = ", ".join(dict.fromkeys(row["file"] for row in rows if row["file"]))
        st.caption(
            "Models: each of 400 seeded trials of Omniglot's test alphabets asks all 20 "
            "questions (8,000 picks), measured once with `python -m scripts.within_alphabet "
            f"--split test --trials 400` ({files}); "
            "± is a 95% interval over trials. People: 95.5% on the same kind of trial, "
            "[Lake, Salakhutdinov & Tenenbaum, Science 2015]"
            "(https://doi.org/10.1126/science.aab3050)."
        )
