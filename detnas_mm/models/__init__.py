from detnas_mm.utils.checkpoint import allow_mmengine_checkpoints
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .utils import find_supernet  # noqa: F401

# Configs with a DetNAS backbone import this package: plain mmdet entry
# points then load the project's checkpoints with weights_only=True.
allow_mmengine_checkpoints()
