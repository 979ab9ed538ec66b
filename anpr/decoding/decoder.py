"""From logits to plate readings: greedy or grammar-constrained, with a sequence confidence.

Both decoders report the same confidence: the probability of the returned text under the model,
summed over all its CTC paths (``exp(-CTC loss)``), after the model's calibration temperature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from anpr.grammar import DEFAULT_GRAMMAR, Grammar, compile_automaton, load_grammar

from .combine import combine_readings
from .ctc import best_path_labels, log_softmax, min_char_confidence, sequence_log_likelihood
from .prefix_search import SearchOptions, constrained_prefix_search, frame_candidates
from .read import PlateRead

DECODERS = ("greedy", "grammar")
DEFAULT_DECODER = "grammar"
# The best valid reading is kept while it is at least this share as likely as the free (greedy)
# reading; below it the free reading is returned with valid_format=False (a vanity, foreign,
# temporary or damaged plate is reported as read, not forced into a format it does not have).
DEFAULT_MIN_VALID_RATIO = 0.01


class PlateDecoder:
    """Turns (batch, time, classes) logits into :class:`PlateRead` s.

    ``decoder="greedy"`` reads the best path; ``"grammar"`` the most probable reading the grammar
    accepts (constrained prefix search, then exact rescoring), falling back to the greedy reading
    when that is far more likely (``min_valid_ratio``). ``grammar=None`` (or ``"none"``) is free
    text: both decoders then read greedily and ``valid_format`` is None.
    """

    def __init__(
        self,
        charset: str,
        decoder: str = DEFAULT_DECODER,
        grammar: str | Grammar | None = DEFAULT_GRAMMAR,
        temperature: float = 1.0,
        n_best: int = 3,
        min_valid_ratio: float = DEFAULT_MIN_VALID_RATIO,
        search: SearchOptions = SearchOptions(),
        combined_power: float = 1.0,
    ) -> None:
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}: use one of {DECODERS}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.charset = charset
        self.decoder = decoder
        self.grammar = load_grammar(grammar)
        self.automaton = compile_automaton(self.grammar, charset) if self.grammar is not None else None
        self.temperature = float(temperature)
        self.n_best = int(n_best)
        self.min_valid_ratio = float(min_valid_ratio)
        self.search = search
        # Calibration of a combined reading's confidence (mean probability ** power): the mean of
        # several readings' probabilities is under-confident (anpr calibrate fits the power).
        self.combined_power = float(combined_power)

    def text(self, labels: Sequence[int]) -> str:
        return "".join(self.charset[c - 1] for c in labels)

    def is_valid(self, text: str) -> bool | None:
        return None if self.grammar is None else self.grammar.is_valid(text)

    def __call__(self, logits: np.ndarray, min_confidence: float | None = None) -> list[PlateRead]:
        """Reads of (batch, time, classes) logits, or of (batch, readings, time, classes): several
        readings of each plate (views of the crop, models of an ensemble) decoded as one
        (:func:`anpr.decoding.combine.combine_readings`)."""
        log_probs = log_softmax(logits, self.temperature)
        if log_probs.ndim == 4:
            reads = combine_readings(self, log_probs)
        else:
            reads = self.read_log_probs(log_probs)
        if min_confidence is not None:
            reads = [_with_review(r, min_confidence) for r in reads]
        return reads

    def read_log_probs(self, log_probs: np.ndarray, n_best: int | None = None) -> list[PlateRead]:
        """Reads of (batch, time, classes) log-probabilities (temperature already applied), with
        ``n_best`` alternatives (default: the decoder's)."""
        n_best = self.n_best if n_best is None else int(n_best)
        free = best_path_labels(log_probs)
        free_log_p = sequence_log_likelihood(log_probs, free)
        char_conf = min_char_confidence(log_probs)
        if self.decoder == "greedy" or self.automaton is None:
            reads = [
                self._read(self.text(f), lp, lp, self.text(f), (), cc) for f, lp, cc in zip(free, free_log_p, char_conf)
            ]
        else:
            reads = self._grammar_reads(log_probs, free, free_log_p, char_conf, n_best)
        return reads

    def _read(self, text, log_p, free_log_p, free_text, alternatives, char_conf, valid=None) -> PlateRead:
        return PlateRead(
            text=text,
            confidence=float(np.exp(log_p)),
            valid_format=self.is_valid(text) if valid is None else valid,
            free_text=free_text,
            free_confidence=float(np.exp(free_log_p)),
            alternatives=alternatives,
            min_char_confidence=float(char_conf),
        )

    def _grammar_reads(self, log_probs, free, free_log_p, char_conf, n_best) -> list[PlateRead]:
        free_valid = [self.automaton.accepts_labels(labels) for labels in free]
        # A valid greedy reading with probability >= 1/2 is the most probable string of all (the
        # rest share < 1/2), so when only the best reading is wanted no search is needed.
        settled = [n_best <= 1 and valid and lp >= np.log(0.5) for valid, lp in zip(free_valid, free_log_p)]
        searched = [i for i, done in enumerate(settled) if not done]
        per_plate = frame_candidates(np.exp(log_probs[searched]), self.search) if searched else None
        candidates: list[list[tuple[int, ...]]] = [[tuple(labels)] for labels in free]
        for k, i in enumerate(searched):
            found = constrained_prefix_search(per_plate.frames[k], per_plate.probs[k], self.automaton, self.search)
            found = [labels for labels, _ in found[: max(n_best, 1)]]
            if free_valid[i] and tuple(free[i]) not in found:
                found.append(tuple(free[i]))
            candidates[i] = found
        # Exact probabilities of every finalist, all plates in one batched forward pass.
        owners = [i for i, found in enumerate(candidates) for _ in found]
        flat = [list(labels) for found in candidates for labels in found]
        scores = sequence_log_likelihood(log_probs[owners], flat) if flat else np.zeros(0)
        log_ratio = np.log(self.min_valid_ratio) if self.min_valid_ratio > 0 else -np.inf
        reads, k = [], 0
        for i, found in enumerate(candidates):
            scored = sorted(zip(scores[k : k + len(found)].tolist(), found), key=lambda item: -item[0])
            k += len(found)
            free_text = self.text(free[i])
            alternatives = tuple((self.text(labels), float(np.exp(lp))) for lp, labels in scored[:n_best])
            if scored and scored[0][0] >= free_log_p[i] + log_ratio:
                best_log_p, best = scored[0]
                reads.append(
                    self._read(
                        self.text(best), best_log_p, free_log_p[i], free_text, alternatives, char_conf[i], valid=True
                    )
                )
            else:
                reads.append(
                    self._read(
                        free_text, free_log_p[i], free_log_p[i], free_text, alternatives, char_conf[i], valid=False
                    )
                )
        return reads


def _with_review(read: PlateRead, min_confidence: float) -> PlateRead:
    return replace(read, review=read.confidence < min_confidence)
