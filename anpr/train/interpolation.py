"""Blend a fine-tuned reader with the one it started from, weight by weight.

Fine-tuning a reader on new plates (your camera's, or harder synthetic ones) teaches it those and
makes it forget some of what it read before. The straight line between the two sets of weights
usually holds a reader that keeps most of both (Wortsman et al., "Robust fine-tuning of
zero-shot models", 2022, WiSE-FT): a fine-tune of the shipped reader is meant to be blended
with it. Both checkpoints must share the network and the plate contract; a fine-tune started
with ``init_from`` does.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from anpr.errors import UserError


class InterpolationError(UserError):
    """The two checkpoints cannot be blended (another network or another contract)."""


def blend_states(start: dict[str, Any], finetuned: dict[str, Any], weight: float) -> dict[str, Any]:
    """``(1 - weight) * start + weight * finetuned`` for every floating-point tensor; counters
    (BatchNorm's ``num_batches_tracked``) come from the side the blend is nearer to."""
    if not 0.0 <= weight <= 1.0:
        raise InterpolationError(f"the weight of the fine-tuned checkpoint must be in [0, 1], not {weight}")
    if start.keys() != finetuned.keys():
        missing = sorted(start.keys() ^ finetuned.keys())[:3]
        raise InterpolationError(f"the two networks have different layers ({', '.join(missing)}, ...)")
    nearer = finetuned if weight >= 0.5 else start
    out = {}
    for name, a in start.items():
        b = finetuned[name]
        if a.shape != b.shape:
            raise InterpolationError(
                f"layer {name} has shape {tuple(a.shape)} in one and {tuple(b.shape)} in the other"
            )
        out[name] = a.lerp(b.to(a.dtype), weight) if a.is_floating_point() else nearer[name].clone()
    return out


def interpolate_checkpoints(start: str | Path, finetuned: str | Path, weight: float) -> dict[str, Any]:
    """The blended checkpoint (``state_dict`` and ``anpr`` block, no calibration: a blend's
    confidences need their own temperature, ``anpr calibrate``)."""
    from anpr.models.model_file import load_checkpoint

    net_a, info_a = load_checkpoint(start)
    net_b, info_b = load_checkpoint(finetuned)
    if info_a.model != info_b.model:
        raise InterpolationError(f"{finetuned}: another network than {start} (model configs differ)")
    # The grammar is a decoding default, not part of the weights (older files lack it).
    changed = info_a.contract.differences(info_b.contract, ignore=("grammar",))
    if changed:
        field, mine, theirs = changed[0]
        raise InterpolationError(
            f"{finetuned}: its {field} is {theirs!r}, {start} has {mine!r}; blend only a fine-tune of it"
        )
    state = blend_states(net_a.state_dict(), net_b.state_dict(), weight)
    uncalibrated = replace(info_b, calibration={})
    return {"state_dict": {f"net.{k}": v for k, v in state.items()}, "anpr": uncalibrated.to_dict()}
