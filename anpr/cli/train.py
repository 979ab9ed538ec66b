"""Train a plate reader with Hydra overrides of conf/train.yaml.

    anpr train preset=accuracy hardware=gpu12gb
    anpr train -m preset=speed,balanced model.hidden_size=128,256
    anpr train --cfg job                               # print the composed config, train nothing
    anpr train --config-dir my_conf data=my_crops      # add your own config folder to ours
    anpr train experiment=cpu_hour ckpt_path=newest    # resume the newest run started so

Hydra parses the arguments (`anpr train --help` lists the config groups); the run folders come
from conf/hydra/default.yaml either way.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig

from anpr.config.compose import CONF_DIR, register_resolvers

register_resolvers()  # at import, so launchers that unpickle run() in a new process have them too


def route_lightning_logs_through_hydra() -> None:
    """Lightning adds its own console handlers; Hydra's already prints (and files) every record.

    Without this every Lightning message is printed twice, and each run ends its set-up with an
    advertisement for a cloud logging service, which is dropped here.
    """
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                logger.removeHandler(handler)
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
        lambda record: not str(record.msg).startswith("💡 Tip")
    )


def run(cfg: DictConfig) -> float | None:
    """One training job; returns the optimized metric, which sweepers such as Optuna minimise or maximise."""
    from anpr.cli.console import report_error
    from anpr.errors import UserError
    from anpr.train.run import train  # imported late so `--help` and `--cfg` stay fast

    route_lightning_logs_through_hydra()
    try:
        metrics = train(cfg)
    except UserError as err:  # the message says what to do; a traceback would bury it
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        report_error(str(err))
        sys.exit(2)
    return metrics.get(f"best/{cfg.optimized_metric}", metrics.get(cfg.optimized_metric))


def main(argv: list[str] | None = None, conf_dir: Path | None = None) -> int:
    """Run Hydra on ``argv`` (default: the command line) with the configs in ``conf_dir`` (default: CONF_DIR)."""
    conf_dir = Path(conf_dir or CONF_DIR)
    if not conf_dir.is_dir():
        from anpr.cli.console import report_error

        report_error(
            f"anpr train needs its config folder and {conf_dir} is missing: reinstall anpr "
            "(the wheel carries anpr/conf) or run from a clone of the repository"
        )
        return 2
    import hydra

    from anpr.config.runs import resolve_newest
    from anpr.errors import UserError

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        argv = resolve_newest(argv)  # ckpt_path=newest: the newest run started with these overrides
    except UserError as err:
        from anpr.cli.console import report_error

        report_error(str(err))
        return 2
    app = hydra.main(version_base="1.3", config_path=str(conf_dir), config_name="train")(run)
    with hydra_command_line(argv):
        app()
    return 0


@contextmanager
def hydra_command_line(overrides: list[str]) -> Iterator[None]:
    """Put ``overrides`` in sys.argv, where Hydra reads them, for the length of the call.

    Lightning's DDP launcher starts the other ranks by running that command line again:
    ``python <sys.argv[0]> <sys.argv[1:]>``, or ``python -m <__main__'s module> <sys.argv[1:]>``.
    A training script (scripts/train.py, ``python -m anpr.cli.train``) runs again as it is.
    ``anpr train`` cannot (its first argument, the subcommand, is not an override), so there the
    ranks are pointed at this module: ``python -m anpr.cli.train <overrides>``.
    """
    main_module = sys.modules["__main__"]
    saved_argv, saved_spec = sys.argv, getattr(main_module, "__spec__", None)
    rerunnable = bool(saved_argv) and Path(saved_argv[0]).is_file()
    sys.argv = [saved_argv[0] if rerunnable else str(Path(__file__).resolve()), *overrides]
    if not rerunnable:
        main_module.__spec__ = importlib.util.find_spec("anpr.cli.train")
    try:
        yield
    finally:
        sys.argv = saved_argv
        if not rerunnable:
            main_module.__spec__ = saved_spec


if __name__ == "__main__":
    raise SystemExit(main())
