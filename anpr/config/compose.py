"""Where the configs are, the resolvers they use, and helpers that turn them into plain Python."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from anpr.config.hardware import cpu_runs_bf16_fast


def _conf_dir() -> Path:
    """The Hydra configs: ``anpr/conf`` inside an installed wheel (pyproject maps the repository's
    ``conf/`` there), else the checkout's top-level ``conf/`` (a clone or an editable install)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "conf"
    return installed if (installed / "train.yaml").is_file() else package.parent / "conf"


CONF_DIR = _conf_dir()


def micro_batch(batch_size: int, max_micro_batch: int) -> int:
    """Per-step batch: the preset's batch split into the fewest steps the hardware allows."""
    return math.ceil(int(batch_size) / accumulation(batch_size, max_micro_batch))


def accumulation(batch_size: int, max_micro_batch: int) -> int:
    """Gradient-accumulation steps that make up the preset's batch from micro-batches."""
    if int(batch_size) < 1 or int(max_micro_batch) < 1:
        raise ValueError(f"batch sizes must be positive, got {batch_size} and {max_micro_batch}")
    return math.ceil(int(batch_size) / int(max_micro_batch))


def auto_precision(cpu_bf16: bool = False) -> str:
    """bf16 mixed precision on GPUs that have it, fp16 mixed on older GPUs; on a CPU fp32,
    or bf16 autocast when ``cpu_bf16`` asks for it and the CPU runs bf16 natively."""
    import torch

    if torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    if cpu_bf16 and cpu_runs_bf16_fast():
        return "bf16-mixed"
    return "32-true"


def auto_workers() -> int:
    """Loader workers: leave one core to the training process, at most 8."""
    return max(0, min(8, (os.cpu_count() or 1) - 1))


def all_cores() -> int:
    """Processes for work that runs alone, such as rendering plates before training starts."""
    return max(1, os.cpu_count() or 1)


def auto_max_micro_batch() -> int:
    import torch

    return 128 if torch.cuda.is_available() else 64


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def register_resolvers() -> None:
    """Make ``${anpr.*:...}`` available in configs; safe to call more than once."""
    resolvers = {
        "anpr.micro_batch": micro_batch,
        "anpr.accumulation": accumulation,
        "anpr.auto_precision": auto_precision,
        "anpr.auto_workers": auto_workers,
        "anpr.all_cores": all_cores,
        "anpr.auto_max_micro_batch": auto_max_micro_batch,
        "anpr.cuda_available": cuda_available,
    }
    for name, fn in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def compose_train(overrides: Sequence[str] = (), return_hydra_config: bool = False) -> DictConfig:
    """``conf/train.yaml`` with ``overrides``, composed as ``anpr train`` composes it (for
    tools and tests that need the training config without running training)."""
    from hydra import compose, initialize_config_dir

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides), return_hydra_config=return_hydra_config)


def compose_model(name: str) -> DictConfig:
    """The training config with ``model=<name>``; a name not in ``conf/model`` is a clear error."""
    available = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
    if name not in available:
        raise FileNotFoundError(f"no model config {name!r} in {CONF_DIR / 'model'}; available: {', '.join(available)}")
    return compose_train([f"model={name}"])


def model_config(name: str) -> dict[str, Any]:
    """``conf/model/<name>.yaml`` as training composes it (Hydra merges its ``defaults``), plain."""
    return run_settings(compose_model(name))["model"]


def run_settings(cfg: DictConfig) -> dict[str, Any]:
    """A composed training config as plain, resolved Python, converted once at the start of a run.

    Hydra's own ``hydra`` node (in configs composed for tools) is left out, and so, outside a Hydra
    run, is any section that names the run's folder (``paths``): there is no run folder to name."""
    from hydra.core.hydra_config import HydraConfig

    settings = {}
    for key in cfg:
        if key == "hydra":
            continue
        try:
            settings[key] = to_plain(cfg[key])
        except InterpolationResolutionError:
            if HydraConfig.initialized():
                raise
    return settings


def to_plain(config: Any) -> Any:
    """An OmegaConf node as resolved plain dicts and lists (anything else is returned as is)."""
    if isinstance(config, (DictConfig, ListConfig)):
        return OmegaConf.to_container(config, resolve=True)
    return config
