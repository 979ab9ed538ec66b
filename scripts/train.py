"""Train a plate reader: `python scripts/train.py preset=accuracy hardware=gpu12gb`."""

import hydra
from omegaconf import DictConfig

from anpr.config import register_resolvers

register_resolvers()


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from anpr.training import train  # imported late so `--help` and `--cfg` stay fast

    metrics = train(cfg)
    return metrics.get(f"best/{cfg.optimized_metric}", metrics.get(cfg.optimized_metric))


if __name__ == "__main__":
    main()
