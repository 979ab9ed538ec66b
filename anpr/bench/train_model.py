"""Part ``model`` of the training benchmark: the network's training step alone, on random tensors.

Without data loading or a Trainer this is the fastest the model can train here, the rate the
loader and the loop are compared against; channels_last, bf16 and torch.compile are timed too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from anpr.bench.train_report import ModelCost, ModelRow
from anpr.bench.train_settings import TrainSettings
from anpr.bench.train_setup import input_size, module_optimizers, training_module


def _random_batch(datamodule, module, batch: int) -> tuple[Any, dict]:
    """Images and CTC targets of the right shapes: the model's cost does not depend on content."""
    import torch

    generator = torch.Generator().manual_seed(0)
    pre = datamodule.preprocessor
    images = torch.randn(batch, 3, pre.image_height, pre.image_width, generator=generator)
    steps = int(getattr(module.net, "time_steps", 0)) or 16
    length = max(1, min(10, steps // 2))
    num_classes = module.charset.num_classes
    targets = torch.randint(1, num_classes, (batch * length,), generator=generator)
    return images, {"targets": targets, "target_lengths": torch.full((batch,), length, dtype=torch.long)}


def model_variants(compile: bool) -> list[tuple[bool, bool, bool]]:
    """(channels_last, bf16, compiled) combinations to time."""
    variants = [(cl, bf16, False) for bf16 in (False, True) for cl in (False, True)]
    if compile:
        variants += [(False, False, True), (False, True, True)]
    return variants


def time_model(
    cfg, datamodule, name: str, settings: TrainSettings, status: Callable[[str], Any], notes: list[str]
) -> list[ModelRow]:
    """Images/s of each variant's training step, the median over interleaved rounds; a
    torch.compile that fails becomes a note instead of a row."""
    import torch

    from anpr.inference.timing import interleaved_medians

    fns: dict[tuple[bool, bool, bool], Callable[[], Any]] = {}
    for channels_last, bf16, compiled in model_variants(settings.compile):
        module = training_module(cfg, datamodule, channels_last=channels_last, compile=compiled)
        module.setup("fit")
        module.train()
        optimizer, _ = module_optimizers(module, 1000)
        images, batch = _random_batch(datamodule, module, settings.batch)

        def step(module=module, optimizer=optimizer, images=images, batch=batch, bf16=bf16) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = module.compute_loss(module(images), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        if compiled:
            status(f"{name}: compiling (channels_last={channels_last}, bf16={bf16})")
            try:
                started = time.perf_counter()
                step()
                notes.append(
                    f"{name}: torch.compile's first step{' (bf16)' if bf16 else ''} took "
                    f"{time.perf_counter() - started:.0f} s"
                )
            except Exception as err:  # a missing compiler must not cost the other figures
                notes.append(f"{name}: torch.compile failed ({type(err).__name__}: {str(err).splitlines()[0]})")
                continue
        fns[(channels_last, bf16, compiled)] = step
    status(f"{name}: timing the model alone ({len(fns)} variants)")
    medians = interleaved_medians(fns, settings.warmup, settings.model_steps * settings.rounds, settings.rounds)
    size = input_size(datamodule)
    return [
        ModelRow(name, size, settings.batch, cl, bf16, compiled, settings.batch / seconds)
        for (cl, bf16, compiled), seconds in medians.items()
    ]


def model_cost(cfg, datamodule, name: str) -> ModelCost:
    """Parameters and forward GFLOPs per plate: what the GPU estimate is made from."""
    from anpr.models.complexity import count_parameters, gflops_per_plate

    module = training_module(cfg, datamodule)
    pre = datamodule.preprocessor
    return ModelCost(
        name,
        input_size(datamodule),
        count_parameters(module.net),
        gflops_per_plate(module.net, pre.image_height, pre.image_width),
    )
