"""What tests share: tiny datasets, the one tiny network and its contract, script runners.

Tests import these (``from helpers import ...``); fixtures live in ``tests/conftest.py``.
"""

from helpers.models import (
    CHARSET,
    MODEL_FILES_CONTRACT,
    TINY_CONTRACT,
    TINY_MODEL,
    TINY_NET,
    CountingBackend,
    quiet_trainer,
    script_main,
    stop_after_save,
    tiny_contract,
    tiny_datamodule,
    tiny_model_files,
    tiny_module,
    vary_reads,
)
from helpers.plates import (
    BROKEN_TIME_STEPS,
    draw_plate,
    make_broken_dataset,
    random_plate_texts,
    write_rec_dataset,
)
from helpers.runs import ROOT, compose_train, run_script, train_args

__all__ = [
    "CountingBackend",
    "BROKEN_TIME_STEPS",
    "CHARSET",
    "MODEL_FILES_CONTRACT",
    "ROOT",
    "TINY_CONTRACT",
    "TINY_MODEL",
    "TINY_NET",
    "compose_train",
    "draw_plate",
    "make_broken_dataset",
    "random_plate_texts",
    "run_script",
    "quiet_trainer",
    "script_main",
    "stop_after_save",
    "tiny_contract",
    "tiny_datamodule",
    "tiny_model_files",
    "tiny_module",
    "train_args",
    "vary_reads",
    "write_rec_dataset",
]
