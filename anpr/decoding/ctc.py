"""CTC arithmetic in NumPy, batched: probabilities, best-path decoding and the exact probability
of a given reading (the forward algorithm), so inference needs no torch."""

from __future__ import annotations

from typing import Sequence

import numpy as np

BLANK = 0


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``log softmax(logits / temperature)`` over the last axis, in float64."""
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    shifted = scaled - scaled.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def best_path_labels(log_probs: np.ndarray) -> list[list[int]]:
    """Greedy (best-path) CTC decoding of (batch, time, classes): class indices per plate."""
    best = np.asarray(log_probs).argmax(axis=-1)
    previous = np.concatenate([np.full((best.shape[0], 1), BLANK), best[:, :-1]], axis=1)
    keep = (best != BLANK) & (best != previous)
    return [row[mask].tolist() for row, mask in zip(best, keep)]


def min_char_confidence(log_probs: np.ndarray) -> np.ndarray:
    """The older confidence: the smallest of the best path's per-character probabilities.

    Kept to compare calibration against the sequence probability; it ignores how likely the
    reading is as a whole (two doubtful characters score as one).
    """
    probs = np.exp(np.asarray(log_probs))
    best = probs.argmax(axis=-1)
    best_prob = probs.max(axis=-1)
    out = np.empty(len(best))
    for i, (path, path_prob) in enumerate(zip(best.tolist(), best_prob)):
        runs, start = [], 0  # a character spanning several frames counts with its best frame
        for t in range(1, len(path) + 1):
            if t == len(path) or path[t] != path[start]:
                if path[start] != BLANK:
                    runs.append(float(path_prob[start:t].max()))
                start = t
        out[i] = min(runs) if runs else float(path_prob.min())
    return out


def sequence_log_likelihood(log_probs: np.ndarray, labels: Sequence[Sequence[int]]) -> np.ndarray:
    """``log P(label | frames)`` for each row: the sum over all CTC paths that collapse to it.

    ``log_probs`` is (batch, time, classes) log-softmax output, ``labels`` one list of class
    indices per row (no blanks). Rows whose label needs more frames than there are get ``-inf``.
    This is exactly ``-CTCLoss(reduction='none')``.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    batch, frames, _ = log_probs.shape
    lengths = np.array([len(label) for label in labels], dtype=np.int64)
    states = 2 * int(lengths.max(initial=0)) + 1
    extended = np.full((batch, states), BLANK, dtype=np.int64)
    for row, label in enumerate(labels):
        extended[row, 1 : 2 * len(label) : 2] = label
    positions = np.arange(states)
    in_label = positions[None, :] < (2 * lengths[:, None] + 1)
    can_skip = np.zeros((batch, states), dtype=bool)
    can_skip[:, 2:] = (extended[:, 2:] != BLANK) & (extended[:, 2:] != extended[:, :-2])

    emit = np.take_along_axis(log_probs, np.broadcast_to(extended[:, None, :], (batch, frames, states)), axis=2)
    alpha = np.full((batch, states), -np.inf)
    alpha[:, 0] = emit[:, 0, 0]
    if states > 1:
        alpha[:, 1] = np.where(lengths > 0, emit[:, 0, 1], -np.inf)
    alpha[~in_label] = -np.inf
    for t in range(1, frames):
        from_prev = np.full_like(alpha, -np.inf)
        from_prev[:, 1:] = alpha[:, :-1]
        from_skip = np.full_like(alpha, -np.inf)
        from_skip[:, 2:] = np.where(can_skip[:, 2:], alpha[:, :-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, from_prev), from_skip) + emit[:, t]
        alpha[~in_label] = -np.inf
    rows = np.arange(batch)
    last = alpha[rows, 2 * lengths]
    before_last = np.where(lengths > 0, alpha[rows, np.maximum(2 * lengths - 1, 0)], -np.inf)
    return np.logaddexp(last, before_last)
