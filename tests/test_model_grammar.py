"""A model file carries its grammar: readers decode with it unless told otherwise."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import script_main, tiny_model_files
from helpers.models import tiny_contract, tiny_module

from anpr.config.compose import compose_train
from anpr.config.contract import contract_from_config
from anpr.grammar import GrammarError
from anpr.inference import PlateReader

# Four digits and nothing else: no Indian plate fits it, so a read that fits it came from this grammar.
DEPOT = "name: depot\nformats:\n  depot_number:\n    - {name: number, chars: '0123456789', min: 4, max: 4}\n"


def _checkpoint_trained_with(tmp_path, grammar_file):
    """A checkpoint as training writes it, its contract decided from a config naming ``grammar_file``."""
    cfg = compose_train([f"grammar={grammar_file}"])
    contract = contract_from_config(cfg)
    contract = tiny_contract(grammar=contract.grammar)
    torch.manual_seed(0)
    module = tiny_module(contract)
    checkpoint = {"state_dict": module.state_dict()}
    module.on_save_checkpoint(checkpoint)
    path = tmp_path / "depot.ckpt"
    torch.save(checkpoint, path)
    return path


def test_a_yaml_grammar_is_embedded_so_the_file_reads_without_it(tmp_path):
    grammar_file = tmp_path / "depot.yaml"
    grammar_file.write_text(DEPOT)
    checkpoint = _checkpoint_trained_with(tmp_path, grammar_file)
    grammar_file.unlink()  # the model file alone must be enough
    reader = PlateReader.from_path(checkpoint, min_valid_ratio=0.0)
    assert reader.decoder.grammar.name == "depot"


def test_predict_decodes_with_the_model_files_grammar_without_being_told(tmp_path, capsys):
    grammar_file = tmp_path / "depot.yaml"
    grammar_file.write_text(DEPOT)
    checkpoint = _checkpoint_trained_with(tmp_path, grammar_file)
    _, _, images_dir, _ = tiny_model_files()
    code = script_main("predict")([str(checkpoint), str(images_dir), "--json", "--min-valid-ratio", "0"])
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records and all(len(r["text"]) == 4 and r["text"].isdigit() and r["valid_format"] for r in records)
    # told otherwise, it reads Indian formats
    argv = [str(checkpoint), str(images_dir), "--json", "--grammar", "india", "--min-valid-ratio", "0"]
    assert script_main("predict")(argv) == 0
    india = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert india and all(r["valid_format"] and not r["text"].isdigit() for r in india)


def test_files_that_record_no_grammar_read_with_the_default():
    reader = PlateReader.from_path("pretrained-v1")  # written before files recorded their grammar
    assert reader.info.contract.grammar is None and reader.decoder.grammar.name == "india"


def test_a_bad_grammar_file_fails_when_the_contract_is_decided(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("formats: 3\n")
    with pytest.raises(GrammarError, match="bad.yaml"):
        contract_from_config(compose_train([f"grammar={bad}"]))
