"""Training feedback: a per-epoch console summary and a TensorBoard grid of validation reads."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from anpr.data.sheets import reads_grid


class ValidationSummary(L.Callback):
    """After each validation epoch, print losses, both accuracies and a few sample reads."""

    def __init__(self, num_samples: int = 3) -> None:
        self.num_samples = num_samples
        self.samples: list[tuple[str, str]] = []
        self.console = Console()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if batch_idx == 0:
            self.samples = list(zip(outputs["preds"], batch["texts"]))[: self.num_samples]

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Printed after every epoch-end hook, so the per-layout accuracies are this epoch's."""
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = trainer.callback_metrics
        table = Table(title=f"Epoch {trainer.current_epoch + 1}/{trainer.max_epochs}", show_header=False)
        for label, key, form in [
            ("Training loss (last step)", "train/loss_step", "{:.4f}"),
            ("Validation loss", "val/loss", "{:.4f}"),
            ("Sequence accuracy", "val/seq_acc", "{:.1%}"),
            ("Seq. acc. grammar decoding", "val/seq_acc_grammar", "{:.1%}"),
            ("Character accuracy", "val/char_acc", "{:.1%}"),
            ("Seq. acc. one-line", "val/seq_acc_one_line", "{:.1%}"),
            ("Seq. acc. two-line", "val/seq_acc_two_line", "{:.1%}"),
            ("Left the CTC plateau at step", "train/plateau_exit_step", "{:.0f}"),
        ]:
            if key in metrics:
                table.add_row(label, form.format(float(metrics[key])))
        for i, (pred, truth) in enumerate(self.samples, start=1):
            mark = "[green]ok[/green]" if pred == truth else "[red]wrong[/red]"
            table.add_row(f"Sample {i}", f"{pred!r} (truth {truth!r}) {mark}")
        self.console.print(table)


class PredictionGrid(L.Callback):
    """Log a grid of validation crops with predicted/true text to TensorBoard; wrong reads in red."""

    def __init__(self, max_images: int = 24, columns: int = 4) -> None:
        self.max_images, self.columns = max_images, columns
        self.grid: np.ndarray | None = None

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if batch_idx == 0 and not trainer.sanity_checking:
            n = min(self.max_images, len(batch["texts"]))
            mean, std = pl_module.contract.mean, pl_module.contract.std
            images = batch["images"][:n].cpu()
            if images.dtype == torch.uint8:  # loaders hand over raw pixels
                images = images.permute(0, 2, 3, 1).numpy()
            else:
                images = denormalize(images.float(), mean, std)
            self.grid = reads_grid(images, outputs["preds"][:n], batch["texts"][:n], self.columns)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.grid is None or trainer.sanity_checking:
            return
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(experiment, "add_image"):
                experiment.add_image("val/predictions", self.grid, trainer.global_step, dataformats="HWC")
        self.grid = None


def denormalize(images: torch.Tensor, mean, std) -> np.ndarray:
    """(B, 3, H, W) normalized tensors back to (B, H, W, 3) uint8 RGB."""
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    pixels = ((images * std_t + mean_t) * 255).clamp(0, 255).byte()
    return pixels.permute(0, 2, 3, 1).numpy()
