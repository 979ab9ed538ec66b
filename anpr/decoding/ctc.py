"""CTC arithmetic in NumPy, batched: probabilities, best-path decoding and the exact probability
of a given reading (the forward algorithm), so inference needs no torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from anpr.charset import Charset

BLANK = 0


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``log softmax(logits / temperature)`` over the last axis, in float64."""
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    shifted = scaled - scaled.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _runs(log_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The best path as runs of one class: (row, class, best-frame probability) of each run, in
    order, and each row's least likely frame."""
    log_probs = np.asarray(log_probs)
    batch, frames = log_probs.shape[:2]
    best = log_probs.argmax(axis=-1).ravel()
    best_p = np.exp(log_probs.max(axis=-1)).ravel()
    new_run = np.ones(best.size, dtype=bool)
    new_run[1:] = best[1:] != best[:-1]
    new_run[::frames] = True  # every plate starts a run
    starts = np.flatnonzero(new_run)
    return (
        starts // frames,
        best[starts],
        np.maximum.reduceat(best_p, starts),
        best_p.reshape(batch, frames).min(axis=1),
    )


def best_path(log_probs: np.ndarray) -> list[tuple[list[int], list[float]]]:
    """Greedy (best-path) CTC decoding of (batch, time, classes) log-probabilities.

    Per plate: the characters (class indices; repeats collapsed, blanks dropped) and each one's
    probability at its best frame (a character held over several frames counts once).
    """
    rows, classes, probs, _ = _runs(log_probs)
    chars = classes != BLANK
    out: list[tuple[list[int], list[float]]] = [([], []) for _ in range(len(np.asarray(log_probs)))]
    for row, cls, p in zip(rows[chars].tolist(), classes[chars].tolist(), probs[chars].tolist()):
        out[row][0].append(cls)
        out[row][1].append(p)
    return out


def best_path_labels(log_probs: np.ndarray) -> list[list[int]]:
    """The best path's characters (class indices) per plate."""
    best = np.asarray(log_probs).argmax(axis=-1)
    previous = np.concatenate([np.full((best.shape[0], 1), BLANK), best[:, :-1]], axis=1)
    keep = (best != BLANK) & (best != previous)
    return [row[mask].tolist() for row, mask in zip(best, keep)]


def min_char_confidence(log_probs: np.ndarray) -> np.ndarray:
    """The older confidence: the smallest of the best path's character probabilities (a path with
    no character scores its least likely frame).

    Kept to compare calibration against the sequence probability: it ignores how likely the
    reading is as a whole (two doubtful characters score as one).
    """
    rows, classes, probs, frame_min = _runs(log_probs)
    probs = np.where(classes == BLANK, np.inf, probs)
    smallest = np.full(len(frame_min), np.inf)
    np.minimum.at(smallest, rows, probs)
    return np.where(np.isfinite(smallest), smallest, frame_min)


RESCALE_EVERY = 4  # frames between rescalings of the CTC forward variables


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

    # Probabilities rescaled to sum 1 every few frames (the log of the scales is kept): products
    # and sums instead of logaddexp, several times faster, and no underflow: four frames of
    # probabilities even as small as e^-150 each stay far above float64's smallest number.
    emit = np.exp(np.take_along_axis(log_probs, np.broadcast_to(extended[:, None, :], (batch, frames, states)), axis=2))
    emit *= in_label[:, None, :]
    # One frame's step as a matrix per row: a state is reached from itself, the state before and,
    # where the label allows a skip, the one before that (one matmul a frame, not five array ops).
    step = np.zeros((batch, states, states))
    step[:, positions, positions] = 1.0
    step[:, positions[:-1], positions[1:]] = 1.0
    step[:, positions[:-2], positions[2:]] = can_skip[:, 2:]
    alpha = np.zeros((batch, 1, states))
    alpha[:, 0, 0] = emit[:, 0, 0]
    if states > 1:
        alpha[:, 0, 1] = np.where(lengths > 0, emit[:, 0, 1], 0.0)
    emit = emit[:, :, None, :]  # (batch, frames, 1, states)
    log_scale = np.zeros(batch)
    with np.errstate(divide="ignore"):
        for t in range(frames):
            if t > 0:
                alpha = np.matmul(alpha, step) * emit[:, t]
            if t % RESCALE_EVERY == RESCALE_EVERY - 1 or t == frames - 1:
                scale = alpha.sum(axis=2)
                alpha /= np.where(scale > 0, scale, 1.0)[:, :, None]
                log_scale += np.log(scale[:, 0])
        alpha = alpha[:, 0]
        rows = np.arange(batch)
        last = alpha[rows, 2 * lengths]
        before_last = np.where(lengths > 0, alpha[rows, np.maximum(2 * lengths - 1, 0)], 0.0)
        return np.log(last + before_last) + log_scale


@dataclass(frozen=True)
class Decoded:
    """One plate read by greedy CTC decoding."""

    text: str
    confidence: float  # minimum over the emitted characters of their probability
    char_confidences: tuple[float, ...]


def greedy_decode(charset: Charset, probs: np.ndarray) -> list[Decoded]:
    """Best-path CTC decoding of ``probs`` (batch, time, classes): collapse repeats, drop blanks.

    ``probs`` must be probabilities (softmax output), as a NumPy array or a torch tensor.
    """
    log_probs = np.log(np.maximum(_as_numpy(probs).astype(np.float64), 1e-30))
    frame_min = np.exp(log_probs.max(axis=-1)).min(axis=1)  # the confidence of a path with no character
    results = []
    for (labels, confidences), fallback in zip(best_path(log_probs), frame_min.tolist()):
        confidence = min(confidences) if confidences else fallback
        results.append(Decoded(charset.decode_indices(labels), confidence, tuple(confidences)))
    return results


def _as_numpy(array) -> np.ndarray:
    if hasattr(array, "detach"):
        return array.detach().float().cpu().numpy()
    return np.asarray(array)
