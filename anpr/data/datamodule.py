"""LightningDataModule for rec-format plate datasets: split, sample limit, loaders."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from anpr.charset import DEFAULT_CHARACTERS, Charset
from anpr.data.augment import Augmenter
from anpr.data.dataset import PlateDataset, collate_plates
from anpr.data.images import IMAGENET_MEAN, IMAGENET_STD, Preprocessor
from anpr.data.labels import LabelRecord, read_labels


class PlateDataModule(L.LightningDataModule):
    """Owns the plate dataset, its train/validation split and the augmentations.

    Without ``val_labels_file`` the labels are split ``1 - val_fraction`` / ``val_fraction`` by a
    seeded permutation, so the same seed always gives the same split. ``max_samples`` keeps a
    seeded subset first (the seed project's ``debug_samples``; ``null`` is its ``use_full_dataset``).
    """

    def __init__(
        self,
        images_dir: str,
        labels_file: str,
        val_images_dir: str | None = None,
        val_labels_file: str | None = None,
        layouts_file: str | None = None,
        charset: str = DEFAULT_CHARACTERS,
        image_height: int = 64,
        image_width: int = 256,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        val_fraction: float = 0.15,
        split_seed: int = 42,
        max_samples: int | None = None,
        batch_size: int = 32,
        val_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        augmentations: Sequence[Any] = (),
    ) -> None:
        super().__init__()
        self.images_dir, self.labels_file = images_dir, labels_file
        self.val_images_dir, self.val_labels_file = val_images_dir, val_labels_file
        self.layouts_file = layouts_file
        self.charset = Charset(charset)
        self.preprocessor = Preprocessor(image_height, image_width, mean, std)
        self.val_fraction, self.split_seed, self.max_samples = val_fraction, split_seed, max_samples
        self.batch_size = batch_size
        self.val_batch_size = val_batch_size or batch_size
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.augmentations = list(augmentations)
        self.train_set: PlateDataset | None = None
        self.val_set: PlateDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train_records, val_records = self.split_records()
        val_dir = self.val_images_dir or self.images_dir
        augment = Augmenter(self.augmentations) if self.augmentations else None
        layouts = read_layouts(self.layouts_file) if self.layouts_file else {}
        self.train_set = PlateDataset(
            train_records, self.images_dir, self.charset, self.preprocessor, augment, layouts
        )
        self.val_set = PlateDataset(val_records, val_dir, self.charset, self.preprocessor, None, layouts)

    def split_records(self) -> tuple[list[LabelRecord], list[LabelRecord]]:
        """Train and validation records after the sample limit and the seeded split."""
        records = read_labels(self.labels_file)
        rng = np.random.default_rng(self.split_seed)
        if self.max_samples is not None and self.max_samples < len(records):
            keep = np.sort(rng.permutation(len(records))[: self.max_samples])
            records = [records[i] for i in keep]
        if self.val_labels_file:
            return records, read_labels(self.val_labels_file)
        order = rng.permutation(len(records))
        n_val = max(1, round(len(records) * self.val_fraction))
        val_ids, train_ids = np.sort(order[:n_val]), np.sort(order[n_val:])
        if len(train_ids) == 0:
            raise ValueError(f"{self.labels_file}: too few samples ({len(records)}) to split off validation")
        return [records[i] for i in train_ids], [records[i] for i in val_ids]

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, self.val_batch_size, shuffle=False)

    def _loader(self, dataset: PlateDataset | None, batch_size: int, shuffle: bool) -> DataLoader:
        if dataset is None:
            raise RuntimeError("call setup() before asking for data loaders")
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            collate_fn=collate_plates,
            drop_last=False,
        )


def read_layouts(path: str | Path) -> dict[str, str]:
    """``image_name<TAB>layout`` lines (layout: one-line / two-line) for per-layout metrics."""
    layouts = {}
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        if "\t" in line:
            name, layout = line.split("\t", 1)
            layouts[name.strip()] = layout.strip()
    return layouts
