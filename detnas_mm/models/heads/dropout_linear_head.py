"""The classifier of the DetNAS ImageNet supernet: dropout, then one fc."""
from typing import Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead

from detnas_mm.registry import MODELS


@MODELS.register_module()
class DropoutLinearClsHead(LinearClsHead):
    """mmpretrain's :class:`LinearClsHead` with dropout before the fc.

    The published DetNAS/SPOS ImageNet supernet applies ``Dropout2d(0.2)``
    to the last feature map and then average-pools; zeroing whole channels
    before a mean is the same as zeroing the pooled channels, so this head
    drops pooled features (after mmpretrain's ``GlobalAveragePooling``
    neck). mmpretrain's heads put dropout only after hidden layers.

    Args:
        num_classes: Number of categories.
        in_channels: Channels of the pooled feature.
        dropout_rate: Probability of zeroing a pooled channel in training.
        **kwargs: Other arguments of :class:`LinearClsHead` (``loss``,
            ``topk``, ``init_cfg`` ...).
    """

    def __init__(self, num_classes: int, in_channels: int,
                 dropout_rate: float = 0.2, **kwargs):
        if not 0 <= dropout_rate < 1:
            raise ValueError(f'dropout_rate must be in [0, 1), got '
                             f'{dropout_rate!r}')
        super().__init__(num_classes, in_channels, **kwargs)
        self.dropout_rate = dropout_rate
        self.dropout = nn.Dropout(dropout_rate)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.dropout(feats[-1])
