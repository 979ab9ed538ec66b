"""Train a plate reader: `python scripts/train.py preset=accuracy hardware=gpu12gb`."""

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

from anpr.config import register_resolvers

register_resolvers()


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


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from anpr.training import train  # imported late so `--help` and `--cfg` stay fast

    from anpr.console import report_error
    from anpr.errors import UserError

    route_lightning_logs_through_hydra()
    try:
        metrics = train(cfg)
    except UserError as err:  # the message says what to do; a traceback would bury it
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        report_error(str(err))
        sys.exit(2)
    return metrics.get(f"best/{cfg.optimized_metric}", metrics.get(cfg.optimized_metric))


if __name__ == "__main__":
    main()
