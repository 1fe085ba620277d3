"""Reading the shipped omniglot-maml card's history (its "previous" versions, newest first)."""

from __future__ import annotations

from typing import Any

from core.maml_head import HEAD_BIAS, HEAD_WEIGHT


def every_tensor_rates(card: dict[str, Any]) -> dict[str, float]:
    """The step sizes of the newest earlier version whose inner loop moved every tensor (v2),
    from the card's chain of "previous" versions: the shipped model moves its classifier
    only, and the pages' handling of a diverging loop needs one that can diverge."""
    version = card.get("previous")
    while version:
        rates = version["maml"]["lr"]
        if isinstance(rates, dict) and any(
            float(rate) > 0 for name, rate in rates.items() if name not in (HEAD_WEIGHT, HEAD_BIAS)
        ):
            return rates
        version = version.get("previous")
    raise LookupError(f"no earlier version of {card['name']} adapted its backbone")
