"""A training config's plate contract, decided once per run from the settings that fix it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anpr.charset import Charset
from anpr.config.compose import to_plain
from anpr.contract import PlateContract
from anpr.grammar import embed_grammar
from anpr.models.factory import build_model


def contract_from_config(cfg: Mapping[str, Any]) -> PlateContract:
    """A training config's contract: the charset, grammar and normalization it sets, the input
    size of its model, and the CTC time steps of the network that model config builds."""
    model = to_plain(cfg["model"])
    charset = str(cfg["charset"])
    norm = to_plain(cfg["normalization"])
    steps = build_model(model, num_classes=Charset(charset).num_classes).time_steps
    return PlateContract(
        charset,
        model["image_height"],
        model["image_width"],
        norm["mean"],
        norm["std"],
        steps,
        embed_grammar(cfg.get("grammar")),
    )
