"""LightningModule: CTC training of a plate reader with sequence and character accuracy."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch
from torch import nn

from anpr.contract import PlateContract
from anpr.data.device_augment import DeviceAugmenter
from anpr.data.images import DeviceNormalize
from anpr.data.layouts import LAYOUTS
from anpr.decoding import PlateDecoder
from anpr.decoding.ctc import Decoded, greedy_decode
from anpr.errors import ConfigError
from anpr.evaluate.metrics import CharacterAccuracy, SequenceAccuracy
from anpr.grammar import load_grammar
from anpr.models.factory import build_model
from anpr.train.losses import alignment_loss, alignment_weight, plate_ctc_loss
from anpr.train.time_split import GRAMMAR_ACTION

log = logging.getLogger(__name__)


class PlateRecognitionModule(L.LightningModule):
    """Wraps a network emitting (batch, time, classes) logits with CTC loss, AdamW + OneCycleLR.

    Args:
        model: the network's config (``_target_`` plus arguments), kept so any checkpoint can be
            rebuilt without the training code's config files.
        contract: the plate contract (:class:`anpr.contract.PlateContract` or its ``to_dict()``):
            characters, input size and normalization, time steps and grammar. With a grammar,
            validation also logs the accuracy of grammar-constrained decoding (``val/seq_acc_grammar``).
        optimizer: AdamW arguments (``lr``, ``weight_decay``).
        scheduler: OneCycleLR arguments (``max_lr``, ``pct_start``, ``div_factor``, ...).
        max_consecutive_nonfinite: a batch whose loss is NaN/inf is skipped and counted; this
            many in a row stop training with an explanation instead of wasting the run.
        channels_last: run convolutions in NHWC memory layout (faster on recent GPUs and CPUs).
        compile: ``torch.compile`` the network in place (state-dict keys stay unchanged).
        device_augmentations: kornia transform configs applied to training batches on the
            training device (:mod:`anpr.data.device_augment`); empty: none.
        loss: ``name`` (``ctc`` or ``focal_ctc``) and ``focal_gamma`` (:mod:`anpr.train.losses`);
            validation always reports plain CTC, so runs with either loss compare.
        alignment: ``weight`` and ``fade_steps`` of the alignment guide
            (:func:`anpr.train.losses.alignment_loss`) on batches with character positions: added to
            the loss at ``weight``, fading linearly to nothing at ``fade_steps``. None: off.
    """

    def __init__(
        self,
        model: Mapping[str, Any],
        contract: PlateContract | Mapping[str, Any],
        optimizer: Mapping[str, Any] | None = None,
        scheduler: Mapping[str, Any] | None = None,
        max_consecutive_nonfinite: int = 5,
        channels_last: bool = False,
        compile: bool = False,
        device_augmentations: Sequence[Mapping[str, Any]] = (),
        loss: Mapping[str, Any] | None = None,
        alignment: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(contract, PlateContract):
            contract = contract.to_dict()
        self.save_hyperparameters()  # plain types only: checkpoints load with weights_only=True
        self.contract = PlateContract.from_dict(contract, "the module's contract")
        self.charset = self.contract.characters
        self.net = build_model(model, num_classes=self.charset.num_classes)
        if self.contract.time_steps not in (0, self.net.time_steps):
            raise ConfigError(
                f"the contract says {self.contract.time_steps} CTC time steps, but this network "
                f"emits {self.net.time_steps}: build the contract from the same model config"
            )
        self.normalize = DeviceNormalize(self.contract)
        self.device_augment = DeviceAugmenter(device_augmentations) if device_augmentations else None
        self.loss_options = dict(loss or {"name": "ctc"})
        plate_ctc_loss(
            torch.zeros(1, 1, 2),
            torch.ones(1, dtype=torch.long),
            torch.ones(1, dtype=torch.long),
            torch.ones(1, dtype=torch.long),
            **self.loss_options,
        )  # a bad option fails here
        self.val_seq_acc = SequenceAccuracy()
        self.val_char_acc = CharacterAccuracy()
        self.val_seq_acc_by_layout = nn.ModuleDict({k.replace("-", "_"): SequenceAccuracy() for k in LAYOUTS})
        grammar = self.contract.grammar
        self.grammar_decoder = (
            PlateDecoder(self.contract.charset, "grammar", grammar, n_best=1) if load_grammar(grammar) else None
        )
        self.val_seq_acc_grammar = SequenceAccuracy()
        self.nonfinite_batches = 0  # skipped in total (kept in checkpoints)
        self.consecutive_nonfinite = 0

    def setup(self, stage: str) -> None:
        if self.hparams.channels_last:
            self.net.to(memory_format=torch.channels_last)
        if self.hparams.compile and stage == "fit":
            self.net.compile()

    def model_input(self, images: torch.Tensor, augment: bool = False) -> torch.Tensor:
        """uint8 batches from the loaders to the normalized float input, augmented on this device
        when ``augment`` and device augmentations are configured; floats pass as they are."""
        if images.dtype != torch.uint8:
            return images
        if augment and self.device_augment is not None:
            return self.normalize(self.device_augment(images.float() / 255.0))
        return self.normalize(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, classes) for uint8 batches from the loaders or already-normalized floats."""
        images = self.model_input(images)
        if self.hparams.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return self.net(images)

    def compute_loss(self, logits: torch.Tensor, batch: dict, training: bool = False) -> torch.Tensor:
        """The configured loss while training, plain CTC otherwise; always in float32
        (half-precision CTC is a known NaN source)."""
        log_probs = logits.float().log_softmax(-1).permute(1, 0, 2)  # (T, B, C)
        input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
        options = self.loss_options if training else {"name": "ctc"}
        return plate_ctc_loss(log_probs, batch["targets"], input_lengths, batch["target_lengths"], **options)

    def decode(self, logits: torch.Tensor) -> list[Decoded]:
        return greedy_decode(self.charset, logits.float().softmax(-1))

    def training_step(self, batch: dict, batch_idx: int) -> dict | None:
        logits = self(self.model_input(batch["images"], augment=True))
        loss = self.compute_loss(logits, batch, training=True)
        guide = alignment_weight(self.global_step, **dict(self.hparams.alignment or {}))
        if guide > 0 and "char_x" in batch:
            aligned = alignment_loss(
                logits.float().log_softmax(-1),
                batch["targets"],
                batch["target_lengths"],
                batch["char_x"],
                batch["char_line"],
                int(getattr(self.net, "pool_rows", 1)),
            )
            self.log("train/alignment_loss", aligned, on_step=True, on_epoch=False, batch_size=len(batch["texts"]))
            loss = loss + guide * aligned
        # Decided jointly: under DDP every process must skip the same batch or backward hangs.
        if self.trainer.strategy.reduce_boolean_decision(not bool(torch.isfinite(loss)), all=False):
            return self.skip_nonfinite_batch(loss, batch_idx)
        self.consecutive_nonfinite = 0
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(batch["texts"]))
        return {"loss": loss, "logits": logits.detach()}  # logits for anpr.train.plateau.PlateauExit

    def skip_nonfinite_batch(self, loss: torch.Tensor, batch_idx: int) -> None:
        """Count and skip a batch with a NaN/inf loss (returning None skips its optimizer step)."""
        self.nonfinite_batches += 1
        self.consecutive_nonfinite += 1
        self.log("train/nonfinite_batches", float(self.nonfinite_batches), on_step=True, on_epoch=False)
        log.warning(
            "non-finite training loss (%s) at epoch %d batch %d: batch skipped (%d skipped so far)",
            loss.item(),
            self.current_epoch,
            batch_idx,
            self.nonfinite_batches,
        )
        if self.consecutive_nonfinite >= self.hparams.max_consecutive_nonfinite:
            max_lr = dict(self.hparams.scheduler or {}).get("max_lr", 3e-3)
            raise FloatingPointError(
                f"{self.consecutive_nonfinite} batches in a row had a non-finite loss. The learning rate "
                f"is probably too high (try scheduler.max_lr={max_lr / 3:g}) "
                "or the data has bad samples (run anpr check); with mixed precision, "
                "try trainer.precision=32-true. The last good weights are in checkpoints/last.ckpt."
            )
        return None

    def validation_step(self, batch: dict, batch_idx: int) -> dict:
        logits = self(batch["images"])
        loss = self.compute_loss(logits, batch)
        preds = [d.text for d in self.decode(logits)]
        targets = batch["texts"]
        self.val_seq_acc.update(preds, targets)
        self.val_char_acc.update(preds, targets)
        for layout in LAYOUTS:
            chosen = [i for i, name in enumerate(batch["layouts"]) if name == layout]
            if chosen:
                metric = self.val_seq_acc_by_layout[layout.replace("-", "_")]
                metric.update([preds[i] for i in chosen], [targets[i] for i in chosen])
        size = len(targets)
        self.log("val/loss", loss, on_epoch=True, prog_bar=True, batch_size=size, sync_dist=True)
        self.log("val/seq_acc", self.val_seq_acc, on_epoch=True, prog_bar=True, batch_size=size)
        self.log("val/char_acc", self.val_char_acc, on_epoch=True, prog_bar=True, batch_size=size)
        if self.grammar_decoder is not None:
            with self.trainer.profiler.profile(GRAMMAR_ACTION):  # its own share of the time split
                reads = self.grammar_decoder(logits.detach().float().cpu().numpy())
            self.val_seq_acc_grammar.update([r.text for r in reads], targets)
            self.log("val/seq_acc_grammar", self.val_seq_acc_grammar, on_epoch=True, batch_size=size)
        return {"loss": loss, "preds": preds}

    def on_validation_epoch_end(self) -> None:
        for key, metric in self.val_seq_acc_by_layout.items():
            with warnings.catch_warnings():  # a layout this set lacks is expected, not a mistake
                warnings.filterwarnings("ignore", message=".*was called before the ``update`` method.*")
                value = metric.compute()  # on every process: it synchronizes them
            seen = self.trainer.strategy.reduce(metric.total.float(), reduce_op="sum")
            if float(seen) > 0:
                self.log(f"val/seq_acc_{key}", value)
            metric.reset()

    def configure_optimizers(self) -> dict:
        """AdamW and a per-step OneCycleLR with the config's arguments (conf/train.yaml states the
        values; an argument left out takes PyTorch's default, never a second copy of ours)."""
        optimizer = torch.optim.AdamW(self.parameters(), **(self.hparams.optimizer or {}))
        total_steps = int(self.trainer.estimated_stepping_batches)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, total_steps=total_steps, **{"max_lr": optimizer.defaults["lr"], **(self.hparams.scheduler or {})}
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_train_start(self) -> None:
        """A resumed run must plan the steps its restored schedule was built for."""
        scheduler = self.lr_schedulers()
        planned = int(self.trainer.estimated_stepping_batches)
        total = getattr(scheduler, "total_steps", planned)
        if total != planned:
            raise ConfigError(
                f"the checkpoint's learning-rate schedule spans {total} optimizer steps (fixed when its run "
                f"started), but this run plans {planned}: a resumed run keeps the epochs, batch size and data "
                "it started with. To train on for longer or on other data, start a new run from its weights "
                "with init_from=<checkpoint> instead of ckpt_path."
            )

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Everything inference needs, as plain types, under one key."""
        contract = self.contract.with_time_steps(self.net.time_steps)
        checkpoint["anpr"] = {**contract.to_dict(), "model": dict(self.hparams.model)}
        checkpoint["nonfinite_batches"] = self.nonfinite_batches

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.nonfinite_batches = int(checkpoint.get("nonfinite_batches", 0))
