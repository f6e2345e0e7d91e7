"""Registries of detnas_mm, children of mmengine's root registries.

Because every registry here has mmengine's root as parent and the scope
``detnas_mm``, ``type='detnas_mm.DetNASSupernet'`` resolves from the mmdet
scope, the mmpretrain scope and mmengine's root alike: mmengine imports
``detnas_mm.registry`` on seeing the scope prefix, and the ``locations``
below import the modules that register the classes.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, locations=['detnas_mm.models'])
# Path samplers live here: they are small task utilities, like mmdet's
# assigners and samplers.
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS,
    locations=['detnas_mm.samplers'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, locations=['detnas_mm.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, locations=['detnas_mm.engine'])
# The official DetNAS initialisation (detnas_mm.DetNASInit).
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['detnas_mm.models'])
