"""Training losses over CTC outputs: plain CTC and focal CTC for hard examples."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("ctc", "focal_ctc")


def plate_ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    name: str = "ctc",
    focal_gamma: float = 2.0,
) -> torch.Tensor:
    """CTC loss per character, averaged over the batch; ``focal_ctc`` weights hard plates up.

    ``log_probs`` is (T, B, C) float32 with the blank at class 0. Plain CTC divides each plate's
    loss by its length and averages, as ``nn.CTCLoss(reduction="mean")`` does. Focal CTC (Feng et
    al., 2019) multiplies each plate's loss by (1 - p)^gamma, where p = exp(-loss) is the
    probability the model gives the whole right reading: plates it already reads barely count.
    Infinite losses (a plate too long for the time steps) count as zero, as ``zero_infinity``.
    """
    if name not in LOSSES:
        raise ValueError(f"loss.name must be one of {LOSSES}, got {name!r}")
    per_plate = F.ctc_loss(
        log_probs, targets, input_lengths, target_lengths, blank=0, reduction="none", zero_infinity=True
    )
    if name == "focal_ctc":
        read_right = torch.exp(-per_plate)
        per_plate = (1 - read_right).clamp_min(0) ** focal_gamma * per_plate
    return (per_plate / target_lengths.clamp_min(1).to(per_plate.dtype)).mean()


def alignment_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    char_x: torch.Tensor,
    char_line: torch.Tensor,
    rows: int = 1,
) -> torch.Tensor:
    """Cross-entropy of each character at the time step under its centre: where to read.

    CTC alone must discover which time steps hold which character, and spends its first
    thousands of steps emitting blanks until it does (the plateau). The renderer knows where it
    drew every character, so the answer can be given: ``char_x`` (fraction of the width, NaN
    where unknown) and ``char_line`` (0 top) per target character, aligned with ``targets``.
    ``log_probs`` is (B, T, C) with T = ``rows`` x columns, rows read top first (the network's
    ``pool_rows``). Lines fill the rows from the bottom: a plate's last line goes to the last
    row, the line above it to the row above. So the main line of every layout shares one row
    (a one-line plate, a two-line plate's registration number, the big text beside a stacked
    'MP/09' prefix) and only what is printed above it is read from the rows above; filling from
    the top instead would ask a stacked plate to move its main text to another row than a
    one-line plate's. Only the characters' time steps are supervised (CTC places the blanks;
    making every other step a blank target measured slower). A one-row network cannot hold a
    two-line plate's lines apart, so such plates are left out there. Returns 0 when no
    character has a position.
    """
    batch, steps, _ = log_probs.shape
    columns = steps // rows
    device = log_probs.device
    plate = torch.repeat_interleave(torch.arange(batch, device=device), target_lengths.to(device))
    char_x, char_line, targets = char_x.to(device), char_line.to(device), targets.to(device)
    known = torch.isfinite(char_x)
    last_line = torch.zeros(batch, dtype=char_line.dtype, device=device).scatter_reduce(
        0, plate, char_line, reduce="amax"
    )
    known &= last_line[plate] < rows
    if not bool(known.any()):
        return log_probs.sum() * 0.0
    column = (torch.nan_to_num(char_x) * columns).floor().long().clamp(0, columns - 1)
    row = char_line + (rows - 1 - last_line[plate])
    frame = row.clamp(0, rows - 1) * columns + column
    return -log_probs[plate, frame, targets][known].mean()


def alignment_weight(step: int, weight: float = 0.0, fade_steps: int = 0) -> float:
    """The alignment guide's weight at optimizer ``step``: ``weight`` fading linearly to 0 at
    ``fade_steps`` (either 0: off)."""
    if weight <= 0 or fade_steps <= 0:
        return 0.0
    return float(weight) * max(0.0, 1.0 - step / fade_steps)
