"""Decoding CTC outputs into plate readings (NumPy only): greedy or grammar-constrained."""

from .ctc import best_path_labels, log_softmax, min_char_confidence, sequence_log_likelihood
from .decoder import DECODERS, DEFAULT_DECODER, DEFAULT_MIN_VALID_RATIO, PlateDecoder, PlateRead
from .prefix_search import SearchOptions, constrained_prefix_search

__all__ = [
    "DECODERS",
    "DEFAULT_DECODER",
    "DEFAULT_MIN_VALID_RATIO",
    "PlateDecoder",
    "PlateRead",
    "SearchOptions",
    "best_path_labels",
    "constrained_prefix_search",
    "log_softmax",
    "min_char_confidence",
    "sequence_log_likelihood",
]
