"""You against the model: Lake et al.'s one-shot game, one drawing at a time (issue 30, item 7).

A game trial is one of lab.oneshot's trials narrowed to one question: drawer B's drawing of
one character (the target), and drawer A's drawings of the trial's 20 characters, all from
one alphabet of Omniglot's test split; find the twin. The visitor and both shipped Omniglot
models answer the same question; a Tally counts who was right.

Everything here is pure: a Game is frozen, and each action (pick, next_trial, start_round)
returns a new one, so a page keeps the newest in its session state and nothing is shared.
The models are only read (adapt_tensors returns new objects).

The models' scores on many trials are not computed here: scripts/within_alphabet.py
measured them once per shipped model on the same 400 test trials (omniglot-protonet v1 with
omniglot-maml v3 in docs/results/maml-v3/within-alphabet-test.jsonl, v4 alone in
docs/results/maml-v4/, protonet v2 with maml v5 in docs/results/maml-v5/), and stored_scores
reads those files, the newer line of a model winning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from PIL import Image

from core.data import TensorDataset
from core.paths import PROJECT_ROOT
from lab.oneshot import HUMAN_ACCURACY, Trial, trial_tensors, trials

MODELS = ("omniglot-protonet", "omniglot-maml")
YOU = "you"
PLAYERS = (YOU, *MODELS)
WAYS = 20
ROUND_LENGTH = 20
ROUND_SEED = 2015  # "Play 20 trials" is the same round for everyone: seeds 2015 .. 2034
SCORES_FILES = tuple(
    PROJECT_ROOT / "docs" / "results" / version / "within-alphabet-test.jsonl"
    for version in ("maml-v3", "maml-v4", "maml-v5")
)


@dataclass(frozen=True)
class GameTrial:
    trial: Trial
    target: int  # position among the candidates of the character the query shows
    seed: int


def draw_trial(data: TensorDataset, seed: int, ways: int = WAYS) -> GameTrial:
    """The game trial of `seed`: lab.oneshot's first trial of that seed, and one of its
    characters as the question. Same seed, same trial, on every machine.

    Raises:
        ValueError: no alphabet of `data` has `ways` characters (lab.oneshot.trials).
    """
    trial = next(trials(data, ways, 1, seed))
    generator = torch.Generator().manual_seed(seed)
    return GameTrial(trial, int(torch.randint(ways, (1,), generator=generator)), seed)


def trial_images(
    data: TensorDataset, game_trial: GameTrial, size: int = 96
) -> tuple[Image.Image, list[Image.Image]]:
    """The question's drawing and the candidates' drawings, dark ink on white, scaled to
    `size` pixels for people (the models read the 28-pixel originals)."""
    trial = game_trial.trial

    def drawing(character: int, drawer: int) -> Image.Image:
        image = data.images(character, [drawer])[0]
        return image.resize((size, size), Image.Resampling.BICUBIC)

    query = drawing(trial.classes[game_trial.target], trial.query_drawer)
    return query, [drawing(c, trial.support_drawer) for c in trial.classes]


@dataclass(frozen=True)
class ModelAnswer:
    model: str
    pick: int  # the candidate position with the highest probability
    probabilities: tuple[float, ...]  # (N,) one per candidate
    distances: tuple[float, ...] | None  # (N,) ProtoNet's distance to each candidate; MAML: None

    def top(self, k: int = 3) -> list[int]:
        """The `k` candidate positions the model found likeliest, likeliest first."""
        order = sorted(range(len(self.probabilities)), key=lambda i: -self.probabilities[i])
        return order[:k]


def model_answer(model, data: TensorDataset, game_trial: GameTrial) -> ModelAnswer:
    """What `model` picks: it adapts to the candidates (one drawing per character, as in
    lab.oneshot.score) and classifies the question's drawing."""
    support, query = trial_tensors(data, game_trial.trial)
    ways = support.shape[0]
    classifier = model.adapt_tensors(support, torch.arange(ways), list(range(ways)))
    question = query[game_trial.target : game_trial.target + 1]  # (1, 1, H, W)
    probabilities = classifier.predict_proba_tensors(question)[0]
    distances = None
    if model.algorithm == "protonet":
        distances = tuple(float(d) for d in classifier.distances_tensors(question)[0])
    return ModelAnswer(
        model.name,
        int(probabilities.argmax()),
        tuple(float(p) for p in probabilities),
        distances,
    )


@dataclass(frozen=True)
class Outcome:
    trial: GameTrial
    visitor: int  # the candidate position the visitor picked
    answers: tuple[ModelAnswer, ...]

    def picks(self) -> dict[str, int]:
        return {YOU: self.visitor} | {a.model: a.pick for a in self.answers}

    def right(self) -> dict[str, bool]:
        return {player: pick == self.trial.target for player, pick in self.picks().items()}


@dataclass(frozen=True)
class Tally:
    played: int = 0
    right: Mapping[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> Tally:
        right = dict(self.right)
        for player, correct in outcome.right().items():
            right[player] = right.get(player, 0) + int(correct)
        return Tally(self.played + 1, right)

    def percent(self, player: str) -> float | None:
        """The player's share of right answers in %, None before the first trial."""
        return 100.0 * self.right.get(player, 0) / self.played if self.played else None


@dataclass(frozen=True)
class Game:
    seed: int  # the trial on screen
    next_free_seed: int  # free play's next trial once a round ends or is left
    outcome: Outcome | None = None  # the answer to the trial on screen, once picked
    tally: Tally = Tally()  # every trial this session
    round: tuple[Outcome, ...] | None = None  # the "Play 20 trials" round's answers, if one runs

    @property
    def round_over(self) -> bool:
        return self.round is not None and len(self.round) == ROUND_LENGTH

    @property
    def round_tally(self) -> Tally:
        tally = Tally()
        for outcome in self.round or ():
            tally = tally.add(outcome)
        return tally


def new_game(seed: int) -> Game:
    """Free play from trial `seed` on (a page passes a random seed per session)."""
    return Game(seed, seed + 1)


def pick(game: Game, data: TensorDataset, models: Sequence, choice: int) -> Game:
    """The visitor picks candidate `choice`; the models answer the same trial; the tallies
    count it. A second pick on an answered trial changes nothing.

    Raises:
        ValueError: `choice` is not a candidate position.
    """
    if not 0 <= choice < WAYS:
        raise ValueError(f"pick a candidate between 1 and {WAYS}, not {choice + 1}")
    if game.outcome is not None:
        return game
    game_trial = draw_trial(data, game.seed)
    answers = tuple(model_answer(model, data, game_trial) for model in models)
    outcome = Outcome(game_trial, choice, answers)
    played = None if game.round is None else (*game.round, outcome)
    return replace(game, outcome=outcome, tally=game.tally.add(outcome), round=played)


def next_trial(game: Game) -> Game:
    """The next trial: the round's next one while a round runs, else free play's next."""
    if game.round is not None and not game.round_over:
        return replace(game, seed=ROUND_SEED + len(game.round), outcome=None)
    free = game.next_free_seed
    return replace(game, seed=free, next_free_seed=free + 1, outcome=None, round=None)


def start_round(game: Game) -> Game:
    """Start (or restart) the fixed round of ROUND_LENGTH trials; the session's tally goes on."""
    return replace(game, seed=ROUND_SEED, outcome=None, round=())


def _shown(path: Path) -> str:
    """A results file as a visitor may look it up: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def stored_scores(paths: Path | Sequence[Path] = SCORES_FILES) -> list[dict]:
    """The models' measured scores (JSON lines written by scripts/within_alphabet.py; a
    model's line in a later file replaces its earlier one), then people's, as {"who",
    "accuracy", "ci95", "trials", "source", "file"} (file: where a model's line is; people's
    None); accuracy in %.

    Raises:
        FileNotFoundError: the results file is missing (the message names it).
        ValueError: a line is not a score (the message names the file and line).
    """
    rows: dict[str, dict] = {}
    for path in [paths] if isinstance(paths, Path) else paths:
        if not path.exists():
            raise FileNotFoundError(f"the models' stored scores are missing: {path}")
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                rows[str(record["model"])] = {
                    "who": str(record["model"]),
                    "accuracy": float(record["accuracy"]),
                    "ci95": float(record["ci95"]),
                    "trials": int(record["trials"]),
                    "source": str(record["command"]),
                    "file": _shown(path),
                }
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path} line {number} is not a score: {error}") from error
    people = {"who": "people", "accuracy": HUMAN_ACCURACY, "ci95": None, "trials": None}
    source = "Lake, Salakhutdinov & Tenenbaum, Science 2015"
    return [*rows.values(), people | {"source": source, "file": None}]
