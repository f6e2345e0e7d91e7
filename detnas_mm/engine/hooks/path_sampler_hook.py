"""Sample one supernet path before every training iteration."""
from typing import Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from detnas_mm.models.backbones import DetNASSupernet
from detnas_mm.registry import HOOKS
from detnas_mm.samplers import build_path_sampler


def find_supernet(model) -> DetNASSupernet:
    """The :class:`DetNASSupernet` backbone of a (wrapped) model."""
    if is_model_wrapper(model):
        model = model.module
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, DetNASSupernet):
        raise TypeError(f'Expected a model whose backbone is a '
                        f'DetNASSupernet, got backbone '
                        f'{type(backbone).__name__}')
    return backbone


@HOOKS.register_module()
class PathSamplerHook(Hook):
    """Set a sampled path on the supernet before each training iteration.

    In a distributed run the sampler draws on rank 0 and broadcasts, so
    every rank trains the same path. The sampler state is saved in
    checkpoints (``checkpoint['path_sampler']``) and restored on resume, so
    a resumed run continues the same path sequence.

    Args:
        sampler: Config of a path sampler, e.g.
            ``dict(type='detnas_mm.UniformPathSampler', seed=0)``. Its space
            is taken from the supernet.
        val_arch: Path used for validation and testing (gene string). If
            None, the last training path stays set.
    """

    priority = 'NORMAL'

    def __init__(self,
                 sampler: dict = dict(type='detnas_mm.UniformPathSampler'),
                 val_arch: Optional[Union[str, Sequence[int]]] = None):
        self.sampler_cfg = sampler
        self.val_arch = val_arch
        self.sampler = None

    def before_run(self, runner):
        supernet = find_supernet(runner.model)
        self.sampler = build_path_sampler(self.sampler_cfg, supernet.space)
        if self.val_arch is not None:
            # Fail now on a bad gene string, not after an epoch.
            supernet.set_path(self.val_arch)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        find_supernet(runner.model).set_path(self.sampler.sample())

    def before_val_epoch(self, runner):
        if self.val_arch is not None:
            find_supernet(runner.model).set_path(self.val_arch)

    def before_test_epoch(self, runner):
        self.before_val_epoch(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict):
        checkpoint['path_sampler'] = self.sampler.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict):
        if 'path_sampler' in checkpoint and self.sampler is not None:
            self.sampler.load_state_dict(checkpoint['path_sampler'])
