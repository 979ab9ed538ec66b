"""Start training from another run's weights (``init_from=...``): fine-tuning, not resuming.

Resuming (``ckpt_path``) continues the same run: its optimizer, schedule, epoch and step. Starting
from weights keeps only the network: a model trained on synthetic plates becomes the starting point
for training on your own crops, with a fresh optimizer and learning-rate schedule for the new run.
The checkpoint must describe the same network, characters and input as this run's config, or the
weights would mean something else; any difference is an error that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from anpr.contract import PlateContract
from anpr.errors import ConfigError
from anpr.models.model_file import load_checkpoint


def _differences(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """'key (checkpoint A, this run B)' for each key whose values differ."""
    return [
        f"{key} (checkpoint {saved.get(key)!r}, this run {wanted.get(key)!r})"
        for key in sorted(set(saved) | set(wanted))
        if saved.get(key) != wanted.get(key)
    ]


def load_initial_weights(
    net: torch.nn.Module, path: str | Path, contract: PlateContract, model: Mapping[str, Any]
) -> None:
    """Copy the network weights of checkpoint ``path`` into ``net`` after checking they fit.

    ``contract`` and ``model`` are this run's; the checkpoint's must match, except for the grammar
    and the time steps, which follow from the model (``ConfigError`` listing every difference
    otherwise). Unreadable or unsafe files raise the reader's ``CheckpointError``.
    """
    source, info = load_checkpoint(path)
    problems = [f"model.{d}" for d in _differences(info.model, model)]
    problems += [
        f"{field} (checkpoint {saved!r}, this run {wanted!r})"
        for field, saved, wanted in info.contract.differences(contract, ignore=("grammar", "time_steps"))
    ]
    if problems:
        target = str(model.get("_target_", "")).rsplit(".", 1)[-1]
        raise ConfigError(
            f"init_from={path}: the checkpoint does not fit this run's network ({target}); it differs in: "
            + "; ".join(problems)
            + ". Train with the checkpoint's settings (the model config and charset of the run that "
            "wrote it, see its .hydra/config.yaml), or drop init_from to train from scratch."
        )
    net.load_state_dict(source.state_dict())
