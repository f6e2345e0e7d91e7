import os

from .version import __version__

# mmengine 0.10.7 calls torch.load without weights_only, and torch >= 2.6
# defaults it to True, which rejects every mmengine checkpoint (they hold
# the message hub's numpy history): resume and Pretrained init would fail.
# Restore the default mmengine was written for; checkpoints are trusted
# local files here, as they were before torch 2.6.
os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')

__all__ = ['__version__']
