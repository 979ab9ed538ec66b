"""Prefix beam search over CTC outputs, constrained by a plate automaton.

Finds the most probable readings (summed over all their CTC paths, not one best path) that the
automaton can still complete, frame by frame. It keeps the ``beam_width`` likeliest prefixes and
extends them only with characters the automaton allows, so a hypothesis like ``CA0Q`` is never
formed. Two prunings keep it fast on peaky CTC outputs, where most frames are all blank:

- frames whose blank probability is at least ``1 - skip_below`` are not expanded; they only
  separate repeated characters (each prefix's probability moves to its blank-ended part);
- a frame is extended only with characters of probability at least ``char_floor`` (at most
  ``max_chars_per_frame`` of them).

The probabilities this search accumulates rank the hypotheses; the decoder then scores its
finalists exactly with the forward algorithm (:func:`anpr.decoding.ctc.sequence_log_likelihood`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anpr.grammar import DEAD, Automaton


@dataclass(frozen=True)
class SearchOptions:
    beam_width: int = 8
    char_floor: float = 1e-4
    max_chars_per_frame: int = 6
    skip_below: float = 1e-4


class _Table:
    """The automaton as Python lists indexed by CTC class (class 0 is the blank)."""

    def __init__(self, automaton: Automaton) -> None:
        self.next = [[DEAD] + row for row in automaton.delta.tolist()]
        self.accepting = automaton.accepting.tolist()


_TABLES: dict[int, tuple[Automaton, _Table]] = {}


def _table(automaton: Automaton) -> _Table:
    cached = _TABLES.get(id(automaton))
    if cached is None or cached[0] is not automaton:
        cached = (automaton, _Table(automaton))
        _TABLES[id(automaton)] = cached
    return cached[1]


def constrained_prefix_search(
    probs: np.ndarray, automaton: Automaton, options: SearchOptions = SearchOptions()
) -> list[tuple[tuple[int, ...], float]]:
    """Complete readings of one plate's (time, classes) probabilities, likeliest first.

    Returns ``(class indices, search score)`` pairs for every beam hypothesis in an accepting
    automaton state; the scores are relative (rescaled per frame), only their order matters.
    """
    table = _table(automaton)
    next_state, accepting = table.next, table.accepting
    frames = np.asarray(probs, dtype=np.float64)
    keep_frame = frames[:, 0] < 1.0 - options.skip_below
    # prefix -> [p ending in blank, p ending in its last character, automaton state]
    beams: dict[tuple[int, ...], list] = {(): [1.0, 0.0, 0]}
    top = min(options.max_chars_per_frame, frames.shape[1] - 1)
    for t in np.flatnonzero(keep_frame).tolist():
        row = frames[t]
        if t > 0 and not keep_frame[t - 1]:  # a skipped (all-blank) frame: repeats need no blank now
            for entry in beams.values():
                entry[0] += entry[1]
                entry[1] = 0.0
        blank = float(row[0])
        order = np.argpartition(-row[1:], top - 1)[:top] + 1 if top < frames.shape[1] - 1 else np.arange(1, frames.shape[1])
        candidates = [(int(c), float(row[c])) for c in order.tolist() if row[c] >= options.char_floor]
        extended: dict[tuple[int, ...], list] = {}
        for prefix, (p_blank, p_char, state) in beams.items():
            total = p_blank + p_char
            entry = extended.get(prefix)
            if entry is None:
                entry = extended[prefix] = [0.0, 0.0, state]
            entry[0] += total * blank
            if prefix:
                entry[1] += p_char * float(row[prefix[-1]])  # the last character held for another frame
            for cls, p in candidates:
                nxt = next_state[state][cls]
                if nxt == DEAD:
                    continue
                gain = p_blank * p if prefix and prefix[-1] == cls else total * p
                if gain == 0.0:
                    continue
                longer = prefix + (cls,)
                target = extended.get(longer)
                if target is None:
                    target = extended[longer] = [0.0, 0.0, nxt]
                target[1] += gain
        ranked = sorted(extended.items(), key=lambda item: -(item[1][0] + item[1][1]))[: options.beam_width]
        scale = ranked[0][1][0] + ranked[0][1][1] or 1.0
        beams = {prefix: [e[0] / scale, e[1] / scale, e[2]] for prefix, e in ranked}
    finished = [(prefix, e[0] + e[1]) for prefix, e in beams.items() if accepting[e[2]]]
    finished.sort(key=lambda item: -item[1])
    return finished
