"""You vs the model (app_pages/one_shot_game.py): pick, the models' verdicts, the scores, the
round, and the page without Omniglot."""

from __future__ import annotations

import re

from lab import game
from lab.labels import markdown_text
from tests.app.conftest import new_app

PAGE = "app_pages/one_shot_game.py"


def _verdicts(at) -> dict[str, tuple[int, bool]]:
    """{player: (picked candidate number, right)} from the verdict blocks on the page."""
    found = {}
    for block in at.markdown:
        match = re.search(
            r'data-player="([^"]+)" data-right="(true|false)".*? picked #(\d+)', block.value
        )
        if match:
            found[match.group(1)] = (int(match.group(3)), match.group(2) == "true")
    return found


def _scores(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_a_pick_shows_the_models_answers_and_counts(omniglot_test, protonet_model, maml_model):
    at = new_app()
    at.switch_page(PAGE).run()
    assert not at.exception
    state = at.session_state[view_key()]
    trial = game.draw_trial(omniglot_test, state.seed)
    assert at.button(key=f"game_pick_{trial.target}").label == f"Pick {trial.target + 1}"
    assert _verdicts(at) == {} and _scores(at) == {
        "You": "0 / 0",
        "ProtoNet": "0 / 0",
        "MAML": "0 / 0",
    }

    at.button(key=f"game_pick_{trial.target}").click().run()
    assert not at.exception
    verdicts = _verdicts(at)
    assert verdicts["you"] == (trial.target + 1, True)
    for model in (protonet_model, maml_model):
        expected = game.model_answer(model, omniglot_test, trial).pick
        assert verdicts[model.name] == (expected + 1, expected == trial.target)
    scores = _scores(at)
    assert scores["You"] == "1 / 1"
    assert scores["ProtoNet"] == f"{int(verdicts['omniglot-protonet'][1])} / 1"
    assert not any(b.key and b.key.startswith("game_pick_") for b in at.button)  # answered
    tops = [b.value for b in at.markdown if 'data-testid="fsl-game-top"' in b.value]
    assert len(tops) == 2 and "distance" in tops[0] and "distance" not in tops[1]

    at.button(key="game_next").click().run()  # a wrong pick on the next trial
    second = game.draw_trial(omniglot_test, at.session_state[view_key()].seed)
    assert second.seed == trial.seed + 1 and _verdicts(at) == {}
    at.button(key=f"game_pick_{(second.target + 1) % 20}").click().run()
    assert _verdicts(at)["you"] == ((second.target + 1) % 20 + 1, False)
    assert _scores(at)["You"] == "1 / 2"
    page = " ".join(b.value for b in at.markdown) + " ".join(c.value for c in at.caption)
    assert "84.8%" in page and "84.7%" in page and "95.5%" in page and "50.0%" in page
    assert "scripts.within_alphabet" in page and "Lake" in page
    assert "(docs/results/maml-v5/within-alphabet-test.jsonl)" in page  # the file it read


def test_play_twenty_trials_starts_the_fixed_round(omniglot_test):
    at = new_app()
    at.switch_page(PAGE).run()
    at.button(key="game_round").click().run()
    assert not at.exception
    state = at.session_state[view_key()]
    assert state.seed == game.ROUND_SEED and state.round == ()
    assert "0 of 20" in at.get("progress")[0].proto.text
    target = game.draw_trial(omniglot_test, state.seed).target
    at.button(key=f"game_pick_{target}").click().run()
    assert "1 of 20" in at.get("progress")[0].proto.text
    assert at.session_state[view_key()].round_tally.right["you"] == 1

    # the round's last answer: a summary, and the round can be played again
    outcomes = []
    for n in range(game.ROUND_LENGTH):
        trial = game.draw_trial(omniglot_test, game.ROUND_SEED + n)
        answers = tuple(game.ModelAnswer(m, trial.target, (0.05,) * 20, None) for m in game.MODELS)
        outcomes.append(
            game.Outcome(trial, trial.target if n < 12 else (trial.target + 1) % 20, answers)
        )
    tally = game.Tally()
    for outcome in outcomes:
        tally = tally.add(outcome)
    at.session_state[view_key()] = game.Game(
        game.ROUND_SEED + 19, 5, outcomes[-1], tally, tuple(outcomes)
    )
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "Round over! Out of 20: You 12 / 20, ProtoNet 20 / 20, MAML 20 / 20."
    ]
    assert at.button(key="game_round").label == "Play again"
    assert at.button(key="game_next").label == "Next trial →"  # or back to free play
    at.button(key="game_round").click().run()
    assert at.session_state[view_key()].round == () and not at.success


def test_without_omniglot_the_page_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("FEWSHOT_DATA", str(tmp_path))
    at = new_app()
    at.switch_page(PAGE).run()
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert markdown_text(str(tmp_path / "omniglot")) in warning and "FEWSHOT_DATA" in warning
    assert "brendenlake/omniglot" in " ".join(i.value for i in at.info)
    assert not any(b.key and b.key.startswith("game_pick_") for b in at.button)


def view_key() -> str:
    from ui.one_shot_game import STATE_KEY

    return STATE_KEY
