"""A training config's plate contract, decided once per run from the settings that fix it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from anpr.charset import Charset
from anpr.config.compose import compose_train, to_plain
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


def training_contract(model: str | None, charset: str | None, time_steps: int | None):
    """The plate contract training would use with ``model`` (None: the default model), the
    ``charset`` and ``time_steps`` given in place of the config's; the composed config and the
    model's name come with it."""
    overrides = [f"model={model}"] if model else []
    if charset:
        overrides.append(f"charset={charset}")
    cfg = compose_train(overrides, return_hydra_config=True)
    contract = contract_from_config(cfg)
    if time_steps:
        contract = replace(contract, time_steps=time_steps)
    return contract, cfg, cfg.hydra.runtime.choices.get("model", model)
