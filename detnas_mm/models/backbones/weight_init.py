"""The weight initialisation of the official DetNAS networks."""
import torch.nn as nn
from mmengine.model.weight_init import BaseInit, update_init_info
from torch.nn.modules.batchnorm import _BatchNorm

from detnas_mm.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module()
class DetNASInit(BaseInit):
    """Initialise a DetNAS backbone as the official code does.

    The official supernet and DetNASNet (``_initialize_weights`` of the
    DetNAS and ShuffleNet-Series code, also used by mmpretrain's
    ShuffleNetV2): every conv weight from N(0, std) with
    ``std = 1 / weight.shape[1]`` (input channels per group, so a depthwise
    conv gets std 1), the first conv (the stem) from N(0, 0.01), biases 0;
    BN weight 1 and bias 1e-4; linear weights N(0, 0.01), biases 0.

    Use it as ``init_cfg=dict(type='detnas_mm.DetNASInit')`` of a
    ``DetNASSupernet`` or ``DetNASNet`` (the default of both).

    Args:
        stem_prefix: Name prefix of the first conv, relative to the module
            initialised.
        **kwargs: Arguments of mmengine's ``BaseInit`` (``layer`` is not
            used: every conv, BN and linear layer is initialised).
    """

    def __init__(self, stem_prefix: str = 'stem', **kwargs):
        super().__init__(**kwargs)
        self.stem_prefix = stem_prefix

    def __call__(self, module: nn.Module):
        for name, m in module.named_modules():
            if isinstance(m, nn.Conv2d):
                std = 0.01 if name.startswith(self.stem_prefix) else \
                    1.0 / m.weight.shape[1]
                nn.init.normal_(m.weight, 0, std)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, _BatchNorm):
                if m.weight is not None:
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 1e-4)
                if m.running_mean is not None:
                    m.running_mean.zero_()
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: stem N(0, 0.01), convs N(0, ' \
            f'1/fan_in per group), BN 1 / 1e-4, linear N(0, 0.01)'
