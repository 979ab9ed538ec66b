"""Finding a run folder again: ``anpr train ... ckpt_path=newest`` resumes the newest run that was
started with the same overrides, without the user digging out its folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from anpr.config.compose import compose_train
from anpr.errors import ConfigError

NEWEST = "ckpt_path=newest"


def comparable(overrides: Sequence[str]) -> list[str]:
    """Overrides that define a run: resuming (ckpt_path) and Hydra's own settings left out."""
    return sorted(o for o in overrides if not o.lstrip("+~").startswith(("ckpt_path=", "hydra.", "hydra/")))


def newest_run(overrides: Sequence[str]) -> Path:
    """The newest run folder with a ``checkpoints/last.ckpt`` whose recorded overrides match ``overrides``."""
    import yaml

    cfg = compose_train([o for o in overrides if o != NEWEST])
    runs = Path(cfg.paths.log_dir) / str(cfg.task_name)
    wanted = comparable(overrides)
    checkpoints = sorted(runs.glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for checkpoint in checkpoints:
        recorded = checkpoint.parent.parent / ".hydra" / "overrides.yaml"
        if recorded.is_file() and comparable(yaml.safe_load(recorded.read_text()) or []) == wanted:
            return checkpoint.parent.parent
    shown = " ".join(wanted) or "(no overrides)"
    raise ConfigError(
        f"ckpt_path=newest: no run under {runs} was started with the overrides {shown} and has a "
        f"checkpoints/last.ckpt ({len(checkpoints)} other run(s) there); start one without ckpt_path, or give "
        "hydra.run.dir=<run folder> ckpt_path=last"
    )


def resolve_newest(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``ckpt_path=newest`` turned into that run's folder and ``ckpt_path=last``."""
    if NEWEST not in argv:
        return list(argv)
    run = newest_run([a for a in argv if "=" in a and not a.startswith("-")])
    return [*(a for a in argv if a != NEWEST), "ckpt_path=last", f"hydra.run.dir={run}"]
