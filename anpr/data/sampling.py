"""The training order: shuffled anew each epoch, yet the same in a resumed run as in one that
never stopped.

A plain shuffling loader draws each epoch's order from the global random state, which a
checkpoint does not hold, and a run resumed mid-epoch starts a fresh order: the plates it had
not yet seen that epoch may never come, others come twice. Here each epoch's order is a
permutation seeded by (seed, epoch), and a resumed epoch starts where the checkpoint left it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class ResumableShuffle(Sampler[int]):
    """Each epoch a permutation of ``size`` indices seeded by ``seed`` and the epoch (Lightning
    calls :meth:`set_epoch`); :meth:`resume_at` makes the next pass start part-way in."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch, self.skip = int(size), int(seed), 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def resume_at(self, samples: int) -> None:
        """Leave out the first ``samples`` of the next pass: those the interrupted run had trained on."""
        self.skip = max(0, min(int(samples), self.size))

    def order(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed((self.seed * 100_003 + epoch) % 2**63)  # any seed, even 64-bit
        return torch.randperm(self.size, generator=generator).tolist()

    def __iter__(self) -> Iterator[int]:
        skip, self.skip = self.skip, 0
        return iter(self.order(self.epoch)[skip:])

    def __len__(self) -> int:
        return self.size  # an epoch's nominal length, which Lightning counts its batches by
