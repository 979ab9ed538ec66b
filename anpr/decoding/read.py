"""What reading one plate gives back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlateRead:
    """One plate as read by a model."""

    text: str
    confidence: float  # P(text | image) under the model: all CTC paths of the text, calibrated
    valid_format: bool | None  # the text follows the grammar (None: decoded without one)
    review: bool = False  # confidence below the caller's min_confidence: send to a person
    free_text: str = ""  # the unconstrained greedy reading
    free_confidence: float = 0.0  # its probability
    alternatives: tuple[tuple[str, float], ...] = field(default=())  # n best valid readings, likeliest first
    min_char_confidence: float = 0.0  # the older measure: smallest best-path character probability
    agreement: float | None = None  # share of the views and models whose own reading is this text (None: one)

    def to_record(self) -> dict:
        """The JSON form ``predict --json`` writes."""
        record = {
            "text": self.text,
            "confidence": _six_digits(self.confidence),
            "valid_format": self.valid_format,
            "review": self.review,
        }
        if self.free_text != self.text:
            record["free_text"] = self.free_text
        if self.alternatives:
            record["alternatives"] = [[t, _six_digits(p)] for t, p in self.alternatives]
        if self.agreement is not None:
            record["agreement"] = _six_digits(self.agreement)
        return record


def _six_digits(value: float) -> float:
    return float(f"{value:.6g}")
