"""Model cost: parameters and FLOPs per plate (torch's FLOP counter, plus the LSTMs it skips)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def gflops_per_plate(model: nn.Module, image_height: int, image_width: int) -> float:
    """Forward GFLOPs for one plate; a multiply-add counts as two FLOPs."""
    lstm_flops: list[int] = []

    def count_lstm(module: nn.LSTM, inputs, _output) -> None:
        steps = inputs[0].shape[1] if module.batch_first else inputs[0].shape[0]
        directions = 2 if module.bidirectional else 1
        for layer in range(module.num_layers):
            in_size = module.input_size if layer == 0 else module.hidden_size * directions
            per_step = 4 * (in_size + module.hidden_size) * module.hidden_size * 2
            lstm_flops.append(directions * steps * per_step)

    hooks = [m.register_forward_hook(count_lstm) for m in model.modules() if isinstance(m, nn.LSTM)]
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            model(torch.zeros(1, 3, image_height, image_width))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return (counter.get_total_flops() + sum(lstm_flops)) / 1e9
