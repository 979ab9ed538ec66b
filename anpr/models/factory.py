"""Building networks from config, restricted to this package's model classes."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from torch import nn

ALLOWED_PREFIX = "anpr.models."


def build_model(config: Mapping[str, Any], **overrides: Any) -> nn.Module:
    """Instantiate ``config['_target_']`` with the other keys as arguments.

    Only classes under ``anpr.models`` are allowed: a checkpoint carries this config, and a
    checkpoint from a stranger must not be able to name arbitrary code to run.
    """
    config = _plain(config)
    target = config.pop("_target_", None)
    if not isinstance(target, str) or not target.startswith(ALLOWED_PREFIX):
        raise ValueError(f"model _target_ must be a class under {ALLOWED_PREFIX!r}, got {target!r}")
    module_name, _, class_name = target.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"{target} is not a network class")
    config.update(overrides)
    return cls(**config)


def _plain(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config as a plain dict; an OmegaConf node is resolved (imported only then: readers
    that build a network from a model file never load the config stack)."""
    if type(config).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(config, resolve=True)  # type: ignore[return-value]
    return dict(config)
