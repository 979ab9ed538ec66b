"""CRNN plate reader: residual SE CNN, 1x1 neck, height pooling to rows, BiLSTM, CTC head.

Every width, depth, stride and size is a constructor argument so model variants are config files.
With ``pool_rows=2`` the feature map keeps two rows that are read top row first as one CTC
sequence, which lets the network read two-line plates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from anpr.models.blocks import ResidualBlock, conv_bn_relu


@dataclass(frozen=True)
class StageConfig:
    """One stage of residual blocks; the first block applies ``stride`` (height, width)."""

    out_channels: int
    blocks: int = 2
    stride: tuple[int, int] = (2, 2)


class CRNN(nn.Module):
    """CNN-BiLSTM network emitting per-time-step class logits of shape (batch, time, classes)."""

    def __init__(
        self,
        num_classes: int = 37,
        image_height: int = 64,
        image_width: int = 256,
        in_channels: int = 3,
        stem_channels: Sequence[int] = (32, 64),
        stem_strides: Sequence[Sequence[int]] = ((1, 1), (2, 2)),
        stages: Sequence[StageConfig | dict] = (
            StageConfig(128, 2, (2, 2)),
            StageConfig(256, 2, (2, 2)),
            StageConfig(512, 2, (2, 2)),
        ),
        se_min_channels: int = 128,
        se_reduction: int = 16,
        neck_channels: int = 512,
        pool_rows: int = 1,
        hidden_size: int = 256,
        lstm_layers: int = 2,
        lstm_dropout: float = 0.1,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        stages = [s if isinstance(s, StageConfig) else StageConfig(**dict(s)) for s in stages]
        strides = [tuple(s) for s in stem_strides] + [tuple(s.stride) for s in stages]
        self.height_reduction = math.prod(s[0] for s in strides)
        self.width_reduction = math.prod(s[1] for s in strides)
        feature_height = image_height // self.height_reduction
        if image_height % self.height_reduction or feature_height % pool_rows:
            raise ValueError(
                f"image height {image_height} must divide by the height strides "
                f"({self.height_reduction}) into a multiple of pool_rows={pool_rows}"
            )
        if image_width % self.width_reduction:
            raise ValueError(f"image width {image_width} must be a multiple of {self.width_reduction}")
        self.image_height, self.image_width, self.pool_rows = image_height, image_width, pool_rows

        layers: list[nn.Module] = []
        channels = in_channels
        for out_channels, stride in zip(stem_channels, stem_strides):
            layers.append(conv_bn_relu(channels, out_channels, tuple(stride)))
            channels = out_channels
        for stage in stages:
            for i in range(stage.blocks):
                stride = tuple(stage.stride) if i == 0 else (1, 1)
                use_se = stage.out_channels >= se_min_channels
                layers.append(ResidualBlock(channels, stage.out_channels, stride, use_se, se_reduction))
                channels = stage.out_channels
        self.backbone = nn.Sequential(*layers)
        self.neck = nn.Sequential(
            nn.Conv2d(channels, neck_channels, 1, bias=False),
            nn.BatchNorm2d(neck_channels),
            nn.ReLU(inplace=True),
        )
        # A fixed kernel (not adaptive pooling) keeps ONNX export free of shape logic.
        self.pool = nn.AvgPool2d(kernel_size=(feature_height // pool_rows, 1))
        self.rnn = nn.LSTM(
            neck_channels,
            hidden_size,
            num_layers=lstm_layers,
            bidirectional=True,
            batch_first=True,
            dropout=lstm_dropout if lstm_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden_size, num_classes)

    @property
    def time_steps(self) -> int:
        """CTC time steps per image: rows times feature-map width."""
        return self.pool_rows * (self.image_width // self.width_reduction)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.pool(self.neck(self.backbone(images)))  # (B, C, rows, W')
        sequence = features.permute(0, 2, 3, 1).flatten(1, 2)  # (B, rows*W', C), top row first
        sequence, _ = self.rnn(sequence)
        return self.classifier(self.dropout(sequence))
