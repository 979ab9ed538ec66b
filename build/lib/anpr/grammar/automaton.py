"""A grammar compiled into a deterministic finite automaton over a model's charset.

The decoder extends a reading one character at a time and must know at once whether a valid plate
can still follow: a DFA answers that with one table lookup. It is built from the same
:class:`~anpr.grammar.spec.Grammar` as the regex check (subset construction over the formats'
group-by-group NFA, then minimised), so both accept exactly the same strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .spec import Grammar, Group

DEAD = -1  # delta entry: no valid plate continues with this character


@dataclass(frozen=True, eq=False)
class Automaton:
    """``delta[state, i]`` is the state after ``charset[i]`` (or :data:`DEAD`); state 0 is the start."""

    charset: str
    delta: np.ndarray  # (states, len(charset)) int32
    accepting: np.ndarray  # (states,) bool

    @property
    def num_states(self) -> int:
        return int(self.delta.shape[0])

    def run(self, text: str) -> int:
        """The state after reading ``text`` from the start, or DEAD."""
        index = {c: i for i, c in enumerate(self.charset)}
        state = 0
        for char in text:
            if char not in index:
                return DEAD
            state = int(self.delta[state, index[char]])
            if state == DEAD:
                return DEAD
        return state

    def accepts(self, text: str) -> bool:
        state = self.run(text)
        return state != DEAD and bool(self.accepting[state])

    def accepts_labels(self, labels) -> bool:
        """``accepts`` for CTC class indices (class ``i`` is ``charset[i - 1]``)."""
        state = 0
        for cls in labels:
            state = int(self.delta[state, cls - 1])
            if state == DEAD:
                return False
        return bool(self.accepting[state])


# An NFA state: (format, group, characters read in the group, a non-zero digit seen, word prefix).
_NState = tuple[int, int, int, bool, str]


def _group_complete(group: Group, count: int, nonzero_seen: bool, prefix: str) -> bool:
    if group.words:
        return prefix in group.words
    return count >= group.min_len and (nonzero_seen or not group.nonzero)


def _closure(grammar: Grammar, states: set[_NState]) -> frozenset[_NState]:
    """Add the states reached by finishing a group without reading (min reached, or optional)."""
    todo, seen = list(states), set(states)
    while todo:
        f, g, n, nz, prefix = todo.pop()
        groups = grammar.formats[f].groups
        if g < len(groups) and _group_complete(groups[g], n, nz, prefix):
            nxt = (f, g + 1, 0, False, "")
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)


def _step(grammar: Grammar, state: _NState, char: str) -> _NState | None:
    f, g, n, nz, prefix = state
    groups = grammar.formats[f].groups
    if g >= len(groups):
        return None
    group = groups[g]
    if group.words:
        longer = prefix + char
        return (f, g, 0, False, longer) if any(w.startswith(longer) for w in group.words) else None
    if n < group.max_len and char in group.chars:
        return (f, g, n + 1, group.nonzero and (nz or char != "0"), "")
    return None


def _is_accepting(grammar: Grammar, states: frozenset[_NState]) -> bool:
    return any(g == len(grammar.formats[f].groups) for f, g, *_ in states)


@lru_cache(maxsize=16)
def compile_automaton(grammar: Grammar, charset: str) -> Automaton:
    """The minimal DFA accepting the strings over ``charset`` that ``grammar`` accepts."""
    start = _closure(grammar, {(f, 0, 0, False, "") for f in range(len(grammar.formats))})
    index = {start: 0}
    subsets, rows = [start], []
    while len(rows) < len(subsets):
        current = subsets[len(rows)]
        row = []
        for char in charset:
            moved = {s for s in (_step(grammar, st, char) for st in current) if s is not None}
            if not moved:
                row.append(DEAD)
                continue
            target = _closure(grammar, moved)
            if target not in index:
                index[target] = len(subsets)
                subsets.append(target)
            row.append(index[target])
        rows.append(row)
    delta = np.array(rows, dtype=np.int32).reshape(len(subsets), len(charset))
    accepting = np.array([_is_accepting(grammar, s) for s in subsets], dtype=bool)
    return _minimise(charset, delta, accepting)


def _minimise(charset: str, delta: np.ndarray, accepting: np.ndarray) -> Automaton:
    """Moore's partition refinement: merge states no string can tell apart."""
    block = accepting.astype(np.int64)
    while True:
        targets = np.where(delta == DEAD, DEAD, block[np.maximum(delta, 0)])
        signatures = {}
        new_block = np.array(
            [signatures.setdefault((int(block[s]), *targets[s].tolist()), len(signatures)) for s in range(len(block))]
        )
        if len(signatures) == len(set(block.tolist())):
            break
        block = new_block
    # Renumber so the start state's block is 0, in order of first appearance.
    order = {}
    for b in block.tolist():
        order.setdefault(b, len(order))
    remap = np.array([order[b] for b in block.tolist()])
    n = len(order)
    new_delta = np.full((n, len(charset)), DEAD, dtype=np.int32)
    new_accepting = np.zeros(n, dtype=bool)
    for s in range(len(block)):
        new_delta[remap[s]] = np.where(delta[s] == DEAD, DEAD, remap[np.maximum(delta[s], 0)])
        new_accepting[remap[s]] = accepting[s]
    return Automaton(charset, new_delta, new_accepting)
