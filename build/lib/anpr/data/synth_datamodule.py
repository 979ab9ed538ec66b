"""DataModule over built-in synthetic plates: rendered once into a cache folder, then read as rec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anpr.data.datamodule import PlateDataModule


class SynthPlateDataModule(PlateDataModule):
    """Synthetic plates rendered to ``cache_dir`` on first use and reused afterwards.

    Rendering once and caching (rather than rendering on the fly in the loader) keeps the CPU
    free for training on small machines; augmentation still varies every epoch. The cache key
    holds the sample count, seed, two-line share and renderer version, so changing any of them
    renders a new set instead of reusing a stale one.
    """

    def __init__(
        self,
        num_samples: int = 20000,
        synth_seed: int = 0,
        two_line_fraction: float = 0.25,
        cache_dir: str = "data/synth",
        render_workers: int = 1,
        **kwargs: Any,
    ) -> None:
        from anpr.data.synth import GENERATOR_VERSION

        self.num_samples, self.synth_seed = int(num_samples), int(synth_seed)
        self.two_line_fraction, self.render_workers = float(two_line_fraction), int(render_workers)
        key = f"n{self.num_samples}-seed{self.synth_seed}-two{self.two_line_fraction:g}-v{GENERATOR_VERSION}"
        self.dataset_dir = Path(cache_dir) / key
        super().__init__(
            images_dir=str(self.dataset_dir / "images"),
            labels_file=str(self.dataset_dir / "labels.txt"),
            layouts_file=str(self.dataset_dir / "layout.tsv"),
            char_centres_file=str(self.dataset_dir / "chars.tsv"),
            **kwargs,
        )

    def prepare_data(self) -> None:
        self.render_if_missing()
        super().prepare_data()  # the data checks, once, before any training process starts

    def render_if_missing(self) -> None:
        if (self.dataset_dir / "labels.txt").is_file():
            return
        from anpr.data.synth import write_dataset

        print(f"Rendering {self.num_samples} synthetic plates into {self.dataset_dir} (once; cached)")
        write_dataset(
            self.dataset_dir,
            self.num_samples,
            seed=self.synth_seed,
            two_line_fraction=self.two_line_fraction,
            workers=self.render_workers,
        )

    def setup(self, stage: str | None = None) -> None:
        self.render_if_missing()  # also when used outside a Trainer
        super().setup(stage)
