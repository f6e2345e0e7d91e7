"""Sample one supernet path before every training iteration."""
import json
import os.path as osp
from typing import Optional, Sequence, Union

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from detnas_mm.models.backbones import format_arch
from detnas_mm.models.utils import find_supernet
from detnas_mm.registry import HOOKS
from detnas_mm.samplers import build_path_sampler


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
        record_paths: Write the path of every training iteration to
            ``<work_dir>/paths_rank{rank}.jsonl``, one JSON line per
            iteration: ``{"iter": <0-based iteration>, "arch": "<genes>"}``.
            Every rank writes its own file, so the files show that all
            ranks train the same paths. On resume, lines of iterations at
            or after the resumed one are dropped first, so the file always
            holds the sequence the checkpointed weights were trained on.
    """

    priority = 'NORMAL'

    def __init__(self,
                 sampler: dict = dict(type='detnas_mm.UniformPathSampler'),
                 val_arch: Optional[Union[str, Sequence[int]]] = None,
                 record_paths: bool = False):
        self.sampler_cfg = sampler
        self.val_arch = val_arch
        self.record_paths = record_paths
        self.sampler = None
        self._record = None

    def before_run(self, runner):
        supernet = find_supernet(runner.model)
        self.sampler = build_path_sampler(self.sampler_cfg, supernet.space)
        if self.val_arch is not None:
            # Fail now on a bad gene string, not after an epoch.
            supernet.set_path(self.val_arch)

    def before_train(self, runner):
        # Runs after load_or_resume, so runner.iter is the resumed iteration.
        if not self.record_paths:
            return
        path = osp.join(runner.work_dir, f'paths_rank{get_rank()}.jsonl')
        kept = []
        if osp.isfile(path):
            with open(path) as f:
                kept = [line for line in f
                        if json.loads(line)['iter'] < runner.iter]
        self._record = open(path, 'w')
        self._record.writelines(kept)
        self._record.flush()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        supernet = find_supernet(runner.model)
        supernet.set_path(self.sampler.sample())
        if self._record is not None:
            line = dict(iter=runner.iter,
                        arch=format_arch(supernet.path, supernet.space))
            self._record.write(json.dumps(line) + '\n')
            # Flushed every line: a killed run leaves a complete record.
            self._record.flush()

    def after_train(self, runner):
        if self._record is not None:
            self._record.close()
            self._record = None

    def before_val_epoch(self, runner):
        if self.val_arch is not None:
            find_supernet(runner.model).set_path(self.val_arch)

    def before_test_epoch(self, runner):
        self.before_val_epoch(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict):
        checkpoint['path_sampler'] = self.sampler.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict):
        # Only a resumed run continues the sequence; `load_from` (e.g. a
        # pretraining checkpoint for fine-tuning) starts a fresh one. This
        # is how mmengine's EMAHook tells the two apart.
        if not getattr(runner, '_resume', False):
            return
        if 'path_sampler' in checkpoint and self.sampler is not None:
            self.sampler.load_state_dict(checkpoint['path_sampler'])
