"""The plate contract: the facts a model and its data must agree on, in one frozen object.

A network trained on 48x192 crops normalized one way, emitting 36 characters over 24 CTC steps,
reads garbage when fed 64x256 crops or decoded with another alphabet. So these facts are decided
once per run (:func:`anpr.config.contract.contract_from_config`) and then passed around, never
re-derived: the data module preprocesses and checks labels with it, the LightningModule normalizes
with it, checkpoints and ONNX files store it (:mod:`anpr.models.model_file`), and inference and
``init_from`` rebuild it from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Any

from anpr.charset import Charset
from anpr.errors import UserError

# The keys of a contract's ``preprocessing`` entry, as checkpoints and ONNX files store them.
PREPROCESSING_KEYS = ("image_height", "image_width", "mean", "std")

# The plate formats of files that record none (written before the grammar was stored).
DEFAULT_GRAMMAR = "india"


class ContractError(UserError):
    """A model file or config whose contract is missing or incomplete."""


@dataclass(frozen=True)
class PlateContract:
    """What a model and its data must agree on.

    Attributes:
        charset: the characters the network emits, in class order after the CTC blank.
        image_height, image_width: the network's input size; every crop is resized to it.
        mean, std: per-channel normalization of RGB pixels in [0, 1].
        time_steps: CTC output steps of the network (the longest label it can emit is shorter);
            0 where unknown (files written before it was stored).
        grammar: the plate formats decoding follows (:mod:`anpr.grammar`): a built-in name, ``none``
            (free text), ``module:NAME`` or a grammar embedded as JSON (a YAML grammar file's
            content, so the model file reads the same anywhere); None: not recorded (older files),
            read with :data:`DEFAULT_GRAMMAR`.
    """

    charset: str
    image_height: int
    image_width: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    time_steps: int = 0
    grammar: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_height", int(self.image_height))
        object.__setattr__(self, "image_width", int(self.image_width))
        # Rounded: files written through float32 store 0.48500001430511475 for 0.485.
        object.__setattr__(self, "mean", tuple(round(float(m), 6) for m in self.mean))
        object.__setattr__(self, "std", tuple(round(float(s), 6) for s in self.std))
        object.__setattr__(self, "time_steps", int(self.time_steps or 0))
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ContractError(f"mean and std need 3 values (R, G, B), got {self.mean} and {self.std}")
        Charset(self.charset)  # a bad alphabet fails here, not at the first label

    @cached_property
    def characters(self) -> Charset:
        return Charset(self.charset)

    @property
    def preprocessing(self) -> dict[str, Any]:
        """Input size and normalization, the ``preprocessing`` entry of checkpoints and ONNX files."""
        return {
            "image_height": self.image_height,
            "image_width": self.image_width,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @property
    def decoding_grammar(self) -> str:
        """The grammar readers of this model decode with unless told otherwise."""
        return DEFAULT_GRAMMAR if self.grammar is None else self.grammar

    def with_time_steps(self, time_steps: int) -> PlateContract:
        return replace(self, time_steps=int(time_steps))

    def to_dict(self) -> dict[str, Any]:
        """Plain types only: checkpoints are loaded with ``weights_only=True``."""
        return {
            "charset": self.charset,
            "preprocessing": self.preprocessing,
            "time_steps": self.time_steps,
            "grammar": self.grammar,
        }

    @classmethod
    def from_dict(cls, block: Mapping[str, Any], source: str = "checkpoint") -> PlateContract:
        """From :meth:`to_dict`'s form, as checkpoints store it (older ones lack grammar and
        time_steps)."""
        pre = block.get("preprocessing")
        missing = [k for k in ("charset", "preprocessing") if k not in block]
        missing += [f"preprocessing.{k}" for k in PREPROCESSING_KEYS if isinstance(pre, Mapping) and k not in pre]
        if missing or not isinstance(pre, Mapping):
            raise ContractError(
                f"{source}: the plate contract lacks {missing or ['preprocessing']}; "
                "expected a file written by anpr's training or export"
            )
        return cls(
            str(block["charset"]),
            pre["image_height"],
            pre["image_width"],
            pre["mean"],
            pre["std"],
            int(block.get("time_steps") or 0),
            block.get("grammar"),
        )

    def differences(self, other: PlateContract, ignore: tuple[str, ...] = ()) -> list[tuple[str, Any, Any]]:
        """(field, this value, other value) for each field that differs, except ``ignore``."""
        mine, theirs = asdict(self), asdict(other)
        return [(k, mine[k], theirs[k]) for k in mine if k not in ignore and mine[k] != theirs[k]]
