"""The plate contract: one object with what a model and its data agree on, stored and read back whole."""

from __future__ import annotations

import pytest
from helpers import TINY_CONTRACT, TINY_MODEL, TINY_NET, compose_train, tiny_contract, tiny_model_files, tiny_module

from anpr.config.contract import contract_from_config
from anpr.contract import ContractError, PlateContract
from anpr.data.images import Preprocessor
from anpr.errors import ConfigError
from anpr.inference import CheckpointError, PlateReader
from anpr.inference.reader import checkpoint_info
from anpr.models.model_file import contract_from_onnx_metadata, contract_onnx_metadata


def test_round_trips_through_checkpoint_and_onnx_forms():
    contract = tiny_contract(grammar="india", mean=(0.5, 0.5, 0.5))
    assert PlateContract.from_dict(contract.to_dict()) == contract
    assert contract_from_onnx_metadata(contract_onnx_metadata(contract)) == contract
    assert Preprocessor(contract).image_height == 32 and contract.characters.num_classes == 37


def test_float32_copies_of_the_normalization_are_the_same_contract():
    stored = {
        "charset": TINY_CONTRACT.charset,
        "time_steps": 32,
        "preprocessing": {
            "image_height": 32,
            "image_width": 128,
            "mean": [0.48500001430511475, 0.4560000002384186, 0.406],
            "std": [0.2290000021457672, 0.224, 0.22499999403953552],
        },
    }
    assert PlateContract.from_dict(stored) == TINY_CONTRACT


def test_an_incomplete_contract_names_the_file_and_what_is_missing():
    with pytest.raises(ContractError, match=r"model\.ckpt.*preprocessing\.std"):
        PlateContract.from_dict(
            {"charset": "AB", "preprocessing": {"image_height": 32, "image_width": 128, "mean": [0.5] * 3}},
            "model.ckpt",
        )
    with pytest.raises(CheckpointError, match="charset"):
        checkpoint_info({"anpr": {"model": TINY_NET, "preprocessing": TINY_CONTRACT.preprocessing}}, "x.ckpt")
    with pytest.raises(ContractError, match="3 values"):
        tiny_contract(mean=(0.5, 0.5))


def test_a_training_config_gives_its_networks_time_steps_and_its_normalization():
    cfg = compose_train(TINY_MODEL + ["grammar=none", "normalization.mean=[0.1,0.2,0.3]"])
    contract = contract_from_config(cfg)
    assert contract == tiny_contract(mean=(0.1, 0.2, 0.3), grammar="none")
    default = contract_from_config(compose_train([]))
    assert (default.image_height, default.image_width, default.time_steps) == (48, 192, 48)  # crnn_small
    assert default.grammar == "india"


def test_the_module_refuses_a_contract_of_another_network():
    with pytest.raises(ConfigError, match="16 CTC time steps.*emits 32"):
        tiny_module(tiny_contract(time_steps=16))


def test_trained_files_carry_the_contract_they_were_trained_with():
    checkpoint, onnx_path, _, _ = tiny_model_files()
    from_checkpoint = PlateReader.from_path(checkpoint).info.contract
    assert from_checkpoint == PlateReader.from_path(onnx_path).info.contract
    assert from_checkpoint.time_steps == 32 and from_checkpoint.mean == (0.5, 0.45, 0.4)
