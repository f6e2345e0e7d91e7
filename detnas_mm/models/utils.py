"""Finding the supernet inside a model."""
from mmengine.model import is_model_wrapper

from detnas_mm.models.backbones.detnas_supernet import DetNASSupernet


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
