"""Prefix beam search over CTC outputs, constrained by a plate automaton.

Finds the most probable readings (summed over all their CTC paths, not one best path) that the
automaton can still complete, frame by frame. It keeps the ``beam_width`` likeliest prefixes and
extends them only with characters the automaton allows, so a hypothesis like ``CA0Q`` is never
formed. Three prunings keep it fast on peaky CTC outputs, where most frames are all blank:

- frames whose blank probability is at least ``1 - skip_below`` are not expanded; they only
  separate repeated characters (each prefix's probability moves to its blank-ended part);
- a frame is extended only with characters of probability at least ``char_floor`` (at most
  ``max_chars_per_frame`` of them, chosen for the whole batch at once);
- prefixes less likely than ``drop_below`` times the best one are dropped.

The probabilities this search accumulates rank the hypotheses; the decoder then scores its
finalists exactly with the forward algorithm (:func:`anpr.decoding.ctc.sequence_log_likelihood`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from anpr.grammar import DEAD, Automaton


@dataclass(frozen=True)
class SearchOptions:
    beam_width: int = 8
    char_floor: float = 1e-4
    max_chars_per_frame: int = 6
    skip_below: float = 1e-4
    drop_below: float = 1e-6


class _Table:
    """The automaton as Python lists indexed by CTC class (class 0 is the blank)."""

    def __init__(self, automaton: Automaton) -> None:
        self.next = [[DEAD] + row for row in automaton.delta.tolist()]
        self.accepting = automaton.accepting.tolist()


@lru_cache(maxsize=16)
def _table(automaton: Automaton) -> _Table:
    return _Table(automaton)


@dataclass
class FrameCandidates:
    """Per plate, the frames worth expanding: (frame index, blank prob, [(class, prob), ...])."""

    frames: list[list[tuple[int, float, list[tuple[int, float]]]]]
    probs: list[np.ndarray]


def frame_candidates(probs: np.ndarray, options: SearchOptions) -> FrameCandidates:
    """The candidate characters of every frame of a (batch, time, classes) batch, in one pass."""
    probs = np.asarray(probs, dtype=np.float64)
    chars = probs[:, :, 1:]
    top = min(options.max_chars_per_frame, chars.shape[-1])
    order = (
        np.argpartition(-chars, top - 1, axis=-1)[:, :, :top]
        if top < chars.shape[-1]
        else np.broadcast_to(np.arange(chars.shape[-1]), chars.shape)
    )
    top_p = np.take_along_axis(chars, order, axis=-1)
    keep_frame = probs[:, :, 0] < 1.0 - options.skip_below
    out = []
    for plate in range(probs.shape[0]):
        kept = np.flatnonzero(keep_frame[plate]).tolist()
        classes = (order[plate, kept] + 1).tolist()
        ps = top_p[plate, kept].tolist()
        blanks = probs[plate, kept, 0].tolist()
        out.append(
            [
                (t, blank, [(c, p) for c, p in zip(cs, pr) if p >= options.char_floor])
                for t, blank, cs, pr in zip(kept, blanks, classes, ps)
            ]
        )
    return FrameCandidates(out, list(probs))


def constrained_prefix_search(
    frames: list[tuple[int, float, list[tuple[int, float]]]],
    probs: np.ndarray,
    automaton: Automaton,
    options: SearchOptions = SearchOptions(),
) -> list[tuple[tuple[int, ...], float]]:
    """Complete readings of one plate, likeliest first, from its :func:`frame_candidates`.

    Returns ``(class indices, search score)`` pairs for every beam hypothesis in an accepting
    automaton state; the scores are relative (rescaled per frame), only their order matters.
    """
    table = _table(automaton)
    next_state, accepting = table.next, table.accepting
    # prefix -> [p ending in blank, p ending in its last character, automaton state]
    beams: dict[tuple[int, ...], list] = {(): [1.0, 0.0, 0]}
    previous_t = -1
    for t, blank, candidates in frames:
        row = probs[t]
        if t != previous_t + 1:  # skipped (all-blank) frames between: repeats need no blank now
            for entry in beams.values():
                entry[0] += entry[1]
                entry[1] = 0.0
        previous_t = t
        extended: dict[tuple[int, ...], list] = {}
        for prefix, (p_blank, p_char, state) in beams.items():
            total = p_blank + p_char
            entry = extended.get(prefix)
            if entry is None:
                entry = extended[prefix] = [0.0, 0.0, state]
            entry[0] += total * blank
            last = prefix[-1] if prefix else -1
            if p_char:
                entry[1] += p_char * float(row[last])  # the last character held for another frame
            moves = next_state[state]
            for cls, p in candidates:
                nxt = moves[cls]
                if nxt == DEAD:
                    continue
                gain = p_blank * p if cls == last else total * p
                if not gain:
                    continue
                longer = prefix + (cls,)
                target = extended.get(longer)
                if target is None:
                    extended[longer] = [0.0, gain, nxt]
                else:
                    target[1] += gain
        if len(extended) > options.beam_width:
            ranked = sorted(extended.items(), key=_total, reverse=True)[: options.beam_width]
        else:
            ranked = list(extended.items())
        best = max(e[0] + e[1] for _, e in ranked) or 1.0
        floor = best * options.drop_below
        beams = {prefix: [e[0] / best, e[1] / best, e[2]] for prefix, e in ranked if e[0] + e[1] >= floor}
    finished = [(prefix, e[0] + e[1]) for prefix, e in beams.items() if accepting[e[2]]]
    finished.sort(key=lambda item: -item[1])
    return finished


def _total(item) -> float:
    return item[1][0] + item[1][1]
