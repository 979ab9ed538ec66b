"""LightningDataModule for rec-format plate datasets: split, sample limit, loaders."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from anpr.contract import PlateContract
from anpr.data import checks
from anpr.data.augment import Augmenter
from anpr.data.char_centres import read_centres
from anpr.data.checks import ImageLimits, count_by_kind
from anpr.data.dataset import PlateDataset, collate_plates
from anpr.data.images import Preprocessor
from anpr.data.labels import DatasetError, LabelRecord, read_labels
from anpr.data.layouts import read_layouts
from anpr.data.sampling import ResumableShuffle
from anpr.data.workers import usable_workers
from anpr.errors import ConfigError

log = logging.getLogger(__name__)

BAD_SAMPLE_POLICIES = ("error", "skip")
BAD_SAMPLES_FILE = "bad_samples.tsv"


class PlateDataModule(L.LightningDataModule):
    """Owns the plate dataset, its train/validation split and the augmentations.

    Without ``val_labels_file`` the labels are split ``1 - val_fraction`` / ``val_fraction`` by a
    seeded permutation, so the same seed always gives the same split. ``max_samples`` keeps a
    seeded subset first (the seed project's ``debug_samples``; ``null`` is its ``use_full_dataset``).

    At setup the labels files and their images are checked (:func:`anpr.data.checks.check_dataset`,
    the same checks as ``anpr check``). With ``on_bad_sample="error"`` any problem that
    would stop training raises :class:`DatasetError` naming each file:line; with ``"skip"`` those
    lines are left out, their count is logged and the list is written to
    ``<report_dir>/bad_samples.tsv``. Labels are never edited and images never substituted.

    ``char_centres_file`` (optional, the renderer's ``chars.tsv``) says where each character of a
    training image is; training then guides its first steps with it (``alignment`` in train.yaml).

    ``contract`` (:class:`anpr.contract.PlateContract`) sets the characters labels may hold, the
    input size and normalization, and the CTC time steps that reject labels too long for the model.

    Args (the data checks):
        on_bad_sample: ``error`` or ``skip``.
        min_image_height, min_image_width: smaller images are problems (too small to read).
        check_cache_dir: where image check results are cached (per file size and mtime) so the
            next run does not decode the images again; None: a ``.anpr-checks`` folder next to
            the labels file.
        report_dir: where ``bad_samples.tsv`` goes; None: the Trainer's ``default_root_dir``
            (the run folder).

    Args (augmentation):
        augmentations: albumentations transforms (or their configs) applied at model size.
        source_augmentations: the same, applied before the resize to each crop at its own size
            and aspect (:class:`PlateDataset`'s ``source_augment``); not with ``in_memory_cache``.

    Args (speed):
        in_memory_cache: decode and resize every image once at setup and keep the crops in
            memory as uint8 (:mod:`anpr.data.cache`), so loader workers only augment. Costs
            ``samples x height x width x 3`` bytes (100k plates at 48x192: 2.7 GB) per process.
            ``"auto"``: only where that fits a quarter of the memory available at setup.
    """

    def __init__(
        self,
        images_dir: str,
        labels_file: str,
        contract: PlateContract,
        val_images_dir: str | None = None,
        val_labels_file: str | None = None,
        layouts_file: str | None = None,
        char_centres_file: str | None = None,
        val_fraction: float = 0.15,
        split_seed: int = 42,
        max_samples: int | None = None,
        batch_size: int = 32,
        val_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        augmentations: Sequence[Any] = (),
        source_augmentations: Sequence[Any] = (),
        on_bad_sample: str = "error",
        min_image_height: int = 8,
        min_image_width: int = 16,
        check_cache_dir: str | None = None,
        report_dir: str | None = None,
        in_memory_cache: bool | str = False,
    ) -> None:
        super().__init__()
        self.images_dir, self.labels_file = images_dir, labels_file
        self.val_images_dir, self.val_labels_file = val_images_dir, val_labels_file
        self.layouts_file, self.char_centres_file = layouts_file, char_centres_file
        self.contract = contract
        self.charset = contract.characters
        self.preprocessor = Preprocessor(contract)
        self._resume_position = (0, 0)  # (epoch, batches done in it) of a mid-epoch checkpoint
        self.val_fraction, self.split_seed, self.max_samples = val_fraction, split_seed, max_samples
        self.batch_size = batch_size
        self.val_batch_size = val_batch_size or batch_size
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.augmentations = list(augmentations)
        self.source_augmentations = list(source_augmentations)
        if in_memory_cache is True and self.source_augmentations:
            raise ConfigError(
                "data.in_memory_cache keeps crops already resized to model size, but the augmentation's "
                "source_transforms need each crop at its own size: set data.in_memory_cache=false or "
                "choose an augmentation without source_transforms"
            )
        if on_bad_sample not in BAD_SAMPLE_POLICIES:
            raise ValueError(f"data.on_bad_sample must be one of {BAD_SAMPLE_POLICIES}, got {on_bad_sample!r}")
        self.on_bad_sample = on_bad_sample
        self.image_limits = ImageLimits(int(min_image_height), int(min_image_width))
        self.check_cache_dir, self.report_dir = check_cache_dir, report_dir
        if isinstance(in_memory_cache, str) and in_memory_cache != "auto":
            raise ConfigError(f"data.in_memory_cache must be true, false or auto, got {in_memory_cache!r}")
        self.in_memory_cache: bool | str = in_memory_cache if in_memory_cache == "auto" else bool(in_memory_cache)
        self.check_reports: dict[str, checks.CheckReport] | None = None
        self._scanned: tuple[int | None, dict[str, checks.CheckReport]] | None = None
        self.train_set: PlateDataset | None = None
        self.val_set: PlateDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        self.check_data()
        train_records, val_records = self.split_records()
        val_dir = self.val_images_dir or self.images_dir
        augment = Augmenter(self.augmentations) if self.augmentations else None
        source_augment = Augmenter(self.source_augmentations) if self.source_augmentations else None
        layouts = read_layouts(self.layouts_file) if self.layouts_file else {}
        centres = read_centres(self.char_centres_file) if self.char_centres_file else {}
        self.train_set = PlateDataset(
            train_records, self.images_dir, self.charset, self.preprocessor, augment, layouts, centres, source_augment
        )
        self.val_set = PlateDataset(val_records, val_dir, self.charset, self.preprocessor, None, layouts)
        if self.use_memory_cache(len(train_records) + len(val_records)):
            from anpr.data.cache import cache_dataset

            self.train_set = cache_dataset(self.train_set, "training set")
            self.val_set = cache_dataset(self.val_set, "validation set")

    def use_memory_cache(self, crops: int) -> bool:
        """``in_memory_cache`` as set, or for ``auto``: on where the crops fit the memory share
        (:func:`anpr.data.cache.cache_fits`) and no source transform needs the files."""
        if self.in_memory_cache != "auto":
            return bool(self.in_memory_cache)
        if self.source_augmentations:
            log.info("data.in_memory_cache=auto: off (the augmentation's source_transforms read each file)")
            return False
        from anpr.data.cache import cache_fits

        processes = getattr(self.trainer, "world_size", None) or 1  # one cache per DDP process
        pre = self.preprocessor
        fits, weighed = cache_fits(crops, pre.image_height, pre.image_width, processes)
        log.info("data.in_memory_cache=auto: %s (%s)", "on" if fits else "off", weighed)
        return fits

    def split_records(self) -> tuple[list[LabelRecord], list[LabelRecord]]:
        """Train and validation records after the sample limit and the seeded split."""
        records = self._records(self.labels_file)
        rng = np.random.default_rng(self.split_seed)
        if self.max_samples is not None and self.max_samples < len(records):
            keep = np.sort(rng.permutation(len(records))[: self.max_samples])
            records = [records[i] for i in keep]
        if self.val_labels_file:
            return records, self._records(self.val_labels_file)
        order = rng.permutation(len(records))
        n_val = max(1, round(len(records) * self.val_fraction))
        val_ids, train_ids = np.sort(order[:n_val]), np.sort(order[n_val:])
        if len(train_ids) == 0:
            raise ValueError(f"{self.labels_file}: too few samples ({len(records)}) to split off validation")
        return [records[i] for i in train_ids], [records[i] for i in val_ids]

    def prepare_data(self) -> None:
        """Run the data checks once per machine before the processes set up (Lightning calls
        this on one process); each process's :meth:`setup` then finds the results cached."""
        self._scan(self.contract.time_steps or None)

    def check_data(self) -> list[checks.CheckReport]:
        """Check every labels file and its images (cached); apply ``on_bad_sample``."""
        if self.check_reports is None:
            time_steps = self.contract.time_steps or None
            reports = self._scan(time_steps)
            self._apply_policy(list(reports.values()), time_steps)
            self.check_reports = reports
        return list(self.check_reports.values())

    def _scan(self, time_steps: int | None) -> dict[str, checks.CheckReport]:
        """Reports per labels file (as configured), memoized for the same time steps."""
        if self._scanned is not None and self._scanned[0] == time_steps:
            return self._scanned[1]
        sources = {str(self.labels_file): self.images_dir}
        if self.val_labels_file:
            sources.setdefault(str(self.val_labels_file), self.val_images_dir or self.images_dir)
        reports = {}
        for labels_file, images_dir in sources.items():
            cache_dir = self.check_cache_dir or Path(labels_file).parent / ".anpr-checks"
            report = checks.check_dataset(
                images_dir, labels_file, self.charset, time_steps, self.image_limits, cache_dir=cache_dir
            )
            if report.scanned:
                log.info(
                    "Checked %d image(s) of %s in %.1f s (%.0f images/s; cached for the next run)",
                    report.scanned,
                    labels_file,
                    report.scan_seconds,
                    report.images_per_second,
                )
            reports[labels_file] = report
        self._scanned = (time_steps, reports)
        return reports

    def _apply_policy(self, reports: list[checks.CheckReport], time_steps: int | None) -> None:
        warnings = count_by_kind(i for r in reports for i in r.warnings)
        if warnings:
            log.info("Data check warnings (handled): %s", ", ".join(f"{n} {k}" for k, n in warnings.items()))
        if time_steps is None:
            log.info("Label length not checked against the model's CTC time steps (unknown here)")
        if all(r.ok for r in reports):
            return
        report_file = self._report_path()
        trainer = getattr(self, "trainer", None)
        if report_file is not None and (trainer is None or trainer.is_global_zero):
            checks.write_bad_samples(reports, report_file)
        if self.on_bad_sample == "error":
            raise DatasetError(checks.training_error_message(reports, listed_in=report_file))
        for report in reports:
            if 0 in report.bad_lines:  # the file as a whole: nothing to skip to
                raise DatasetError(checks.training_error_message([report]))
            if not report.good_records():
                raise DatasetError(
                    f"{report.labels_file}: no good samples left after skipping bad ones\n"
                    + checks.training_error_message([report])
                )
        total = sum(len(r.records) for r in reports)
        skipped = total - sum(len(r.good_records()) for r in reports)
        malformed = sum(len(r.bad_lines - {x.line_number for x in r.records}) for r in reports)
        kinds = count_by_kind(i for r in reports for i in r.fatal)
        log.warning(
            "Skipping %d of %d sample(s) with problems%s (data.on_bad_sample=skip: %s)%s",
            skipped,
            total,
            f" and {malformed} malformed line(s)" if malformed else "",
            ", ".join(f"{n} {k}" for k, n in kinds.items()),
            f"; the list is in {report_file}" if report_file else "",
        )

    def _report_path(self) -> Path | None:
        folder = self.report_dir
        if folder is None:
            trainer = getattr(self, "trainer", None)
            folder = getattr(trainer, "default_root_dir", None) if trainer is not None else None
        return Path(folder) / BAD_SAMPLES_FILE if folder else None

    def _records(self, labels_file: str) -> list[LabelRecord]:
        """The checked records minus skipped lines; unchecked (split_records() alone): strict parse."""
        if self.check_reports is not None and str(labels_file) in self.check_reports:
            return self.check_reports[str(labels_file)].good_records()
        return read_labels(labels_file)

    def train_dataloader(self) -> DataLoader:
        if self.train_set is None:
            raise RuntimeError("call setup() before asking for data loaders")
        order = ResumableShuffle(len(self.train_set), seed=torch.initial_seed())  # the run's seed_everything
        epoch, done = self._resume_position
        batches = -(-len(self.train_set) // self.batch_size)
        # The epoch is set now, not only when Lightning sets it: loader workers draw their first
        # indices before that. A checkpoint from the middle of an epoch resumes it part-way in.
        order.set_epoch(epoch + 1 if done >= batches else epoch)
        if 0 < done < batches:
            order.resume_at(done * self.batch_size)
        return self._loader(self.train_set, self.batch_size, sampler=order)

    def state_dict(self) -> dict:
        """Where in its epoch the run is, so a resumed run continues that epoch's order."""
        if self.trainer is None:
            return {}
        progress = self.trainer.fit_loop.epoch_loop.batch_progress.current
        return {"epoch": int(self.trainer.current_epoch), "batches_done": int(progress.ready)}

    def load_state_dict(self, state: dict) -> None:
        self._resume_position = (int(state.get("epoch", 0)), int(state.get("batches_done", 0)))

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, self.val_batch_size, shuffle=False)

    def _loader(self, dataset: PlateDataset | None, batch_size: int, shuffle: bool = False, sampler=None) -> DataLoader:
        if dataset is None:
            raise RuntimeError("call setup() before asking for data loaders")
        workers = usable_workers(self.num_workers)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            sampler=sampler,
            num_workers=workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers and workers > 0,
            collate_fn=collate_plates,
            drop_last=False,
        )
