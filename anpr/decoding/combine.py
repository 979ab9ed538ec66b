"""One reading from several readings of a plate: views of the crop, models of an ensemble.

CTC models need not put a character on the same frame (two models, or two boxes of one crop,
align differently), so frames are not averaged. Each reading is decoded on its own; every text
any of them proposes (its reading, its free reading, its alternatives) is then scored exactly
under every reading (all CTC paths), and the text with the highest mean log-probability wins (a
product of experts). Its confidence is the mean of its probabilities (a mixture): high only
where every reading finds the text likely, so disagreement lowers it. Being a mean, it is
under-confident; ``anpr calibrate`` on a reader file fits the power it is raised to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ctc import sequence_log_likelihood
from .read import PlateRead

# Alternatives each reading proposes. With 1, a reading whose valid greedy text is already more
# likely than all others together needs no search (most plates), and where the readings agree the
# combined alternatives are few; where they disagree, each proposes its own best.
SINGLE_N_BEST = 1


def combine_readings(decoder: Any, log_probs: np.ndarray) -> list[PlateRead]:
    """Reads of (batch, readings, time, classes) log-probabilities, one per plate, by
    ``decoder`` (a :class:`~anpr.decoding.PlateDecoder`) and its settings."""
    batch, readings, frames, classes = log_probs.shape
    flat = log_probs.reshape(batch * readings, frames, classes)
    singles = decoder.read_log_probs(flat, SINGLE_N_BEST)
    index = {c: i + 1 for i, c in enumerate(decoder.charset)}

    candidates: list[list[str]] = []
    for plate in range(batch):
        texts: dict[str, None] = {}
        for read in singles[plate * readings : (plate + 1) * readings]:
            texts.update(dict.fromkeys([read.text, read.free_text, *(t for t, _ in read.alternatives)]))
        candidates.append([t for t in texts if t] or [""])
    rows = [plate * readings + r for plate, texts in enumerate(candidates) for r in range(readings) for _ in texts]
    labels = [[index[c] for c in text] for texts in candidates for _ in range(readings) for text in texts]
    scores = sequence_log_likelihood(flat[rows], labels) if rows else np.zeros(0)

    reads, k = [], 0
    log_ratio = np.log(decoder.min_valid_ratio) if decoder.min_valid_ratio > 0 else -np.inf
    constrained = decoder.grammar is not None and decoder.decoder == "grammar"
    for plate, texts in enumerate(candidates):
        n = len(texts)
        per_reading = scores[k : k + n * readings].reshape(readings, n)  # log P(text | reading)
        k += n * readings
        product = per_reading.mean(axis=0)
        mixture = np.exp(per_reading).mean(axis=0) ** decoder.combined_power
        valid = [decoder.is_valid(t) for t in texts]
        order = sorted(range(n), key=lambda j: -product[j])
        best = order[0]
        valid_order = [j for j in order if valid[j]]
        if constrained and valid_order and product[valid_order[0]] >= product[best] + log_ratio:
            best = valid_order[0]  # the likeliest valid text, unless a free one is far likelier
        own = singles[plate * readings : (plate + 1) * readings]
        first = own[0]
        alternatives = ()
        if constrained:
            # the chosen reading first, then the likeliest others (by the probability reported)
            others = sorted((j for j in valid_order if j != best), key=lambda j: -mixture[j])
            ranked = ([best] if valid[best] else []) + others
            alternatives = tuple((texts[j], float(mixture[j])) for j in ranked[: decoder.n_best])
        reads.append(
            PlateRead(
                text=texts[best],
                confidence=float(mixture[best]),
                valid_format=valid[best],
                free_text=first.free_text,
                free_confidence=float(mixture[texts.index(first.free_text)]) if first.free_text in texts else 0.0,
                alternatives=alternatives,
                min_char_confidence=min(r.min_char_confidence for r in own),
                agreement=sum(r.text == texts[best] for r in own) / readings,
            )
        )
    return reads
