"""The CRNN family: the seed network's shape, size and time steps; config-only variants."""

from __future__ import annotations

import pytest
import torch

from anpr.config.compose import model_config as load_model_config
from anpr.models import CRNN
from anpr.models.factory import build_model


def test_seed_network_matches_the_reference() -> None:
    model = build_model(load_model_config("crnn"), num_classes=37)
    params = sum(p.numel() for p in model.parameters())
    assert abs(params - 14.6e6) / 14.6e6 < 0.01, params
    assert model.time_steps == 16
    logits = model.eval()(torch.randn(2, 3, 64, 256))
    assert logits.shape == (2, 16, 37)


def test_height_only_strides_give_more_time_steps() -> None:
    model = build_model(load_model_config("crnn_2row"), num_classes=37)
    assert model.time_steps == 64  # 2 rows x 256/8
    assert model.eval()(torch.randn(1, 3, 64, 256)).shape == (1, 64, 37)


@pytest.mark.parametrize("name", ["crnn", "crnn_2row", "crnn_small"])
def test_model_configs_build_and_promise_their_time_steps(name: str) -> None:
    config = load_model_config(name)
    model = build_model(config, num_classes=37).eval()
    out = model(torch.randn(1, 3, config["image_height"], config["image_width"]))
    assert out.shape == (1, model.time_steps, 37)


def test_widths_depths_and_lstm_are_config_values() -> None:
    model = CRNN(
        image_height=32,
        image_width=128,
        stem_channels=[8, 16],
        stages=[{"out_channels": 24, "blocks": 3, "stride": [2, 1]}],
        neck_channels=24,
        hidden_size=12,
        lstm_layers=3,
    )
    assert model.rnn.num_layers == 3 and model.rnn.hidden_size == 12
    assert model.time_steps == 64
    assert model(torch.randn(1, 3, 32, 128)).shape == (1, 64, 37)


def test_bad_geometry_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="height"):
        CRNN(image_height=40, image_width=256)


def test_only_package_models_can_be_built() -> None:
    with pytest.raises(ValueError, match="anpr.models"):
        build_model({"_target_": "os.system", "command": "echo pwned"})
