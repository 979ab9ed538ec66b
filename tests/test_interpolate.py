"""`anpr interpolate`: a fine-tune blended with its start, weight by weight."""

from __future__ import annotations

import pytest
import torch
from helpers.models import MODEL_FILES_CONTRACT, TINY_NET, script_main, tiny_model_files

from anpr.inference import load_checkpoint
from anpr.train.interpolation import InterpolationError, blend_states

interpolate = script_main("interpolate")


@pytest.fixture
def finetuned(tmp_path):
    """The tiny model with every weight moved, as a fine-tune would move it."""
    checkpoint, _, _, _ = tiny_model_files()
    net, info = load_checkpoint(checkpoint)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p))
    path = tmp_path / "finetuned.ckpt"
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "anpr": {**info.contract.to_dict(), "model": dict(info.model)}}, path)
    return path


def test_the_blend_lies_on_the_line_between_the_two_networks(tmp_path, finetuned):
    start, _, _, _ = tiny_model_files()
    out = tmp_path / "blend.ckpt"
    assert interpolate([str(start), str(finetuned), "--weight", "0.25", "--out", str(out)]) == 0
    a, _ = load_checkpoint(start)
    b, _ = load_checkpoint(finetuned)
    blend, info = load_checkpoint(out)
    assert info.contract == MODEL_FILES_CONTRACT and info.model == TINY_NET
    moved = 0
    for (name, x), y, z in zip(a.state_dict().items(), b.state_dict().values(), blend.state_dict().values()):
        if x.is_floating_point():
            assert torch.allclose(z, 0.75 * x + 0.25 * y, atol=1e-6), name
            moved += int(not torch.equal(x, y))
        else:
            assert torch.equal(z, x), name  # counters from the nearer side
    assert moved > 0


def test_weights_zero_and_one_give_back_the_two_ends():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([5.0, -2.0]), "n": torch.tensor(9)}
    assert torch.equal(blend_states(a, b, 0.0)["w"], a["w"]) and blend_states(a, b, 0.0)["n"] == 3
    assert torch.equal(blend_states(a, b, 1.0)["w"], b["w"]) and blend_states(a, b, 1.0)["n"] == 9
    with pytest.raises(InterpolationError, match=r"\[0, 1\]"):
        blend_states(a, b, 1.5)
    with pytest.raises(InterpolationError, match="different layers"):
        blend_states(a, {"w": b["w"]}, 0.5)


def test_another_network_or_contract_is_one_error_line(tmp_path, capsys, finetuned):
    start, _, _, _ = tiny_model_files()
    other = tmp_path / "other.ckpt"
    checkpoint = torch.load(finetuned, weights_only=True)
    checkpoint["anpr"]["preprocessing"]["image_width"] = 96
    torch.save(checkpoint, other)
    assert interpolate([str(start), str(other), "--out", str(tmp_path / "x.ckpt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "other.ckpt" in err and "\n" not in err
    assert not (tmp_path / "x.ckpt").exists()
