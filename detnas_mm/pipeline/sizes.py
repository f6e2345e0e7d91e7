"""Schedule sizes and the input scale of a pipeline run.

A preset gives the schedule lengths for the built-in data; on other data
:func:`choose_sizes` adapts the input scale to the objects and the
schedules to the time budget (see docs/pipeline.md, "Your own data").
"""
from dataclasses import asdict, dataclass, replace
from typing import Optional

from detnas_mm.datasets.data_checks import DataStats


@dataclass(frozen=True)
class Sizes:
    """Everything the pipeline scales.

    Attributes:
        det_scale: Detection input scale (longer side, pixels).
        pretrain_iters: Supernet classification pretraining iterations.
        finetune_iters: Supernet detection fine-tuning iterations.
        num_search: Training images held out as the search split.
        population: Candidates per search generation.
        generations: Search generations.
        top_k: Search parents.
        calib_images: BN calibration images per scored path.
        retrain_iters: Iterations of each standalone retraining.
        num_random: Random architectures retrained beside the searched one.
    """
    det_scale: int = 128
    pretrain_iters: int = 200
    finetune_iters: int = 600
    num_search: int = 50
    population: int = 10
    generations: int = 3
    top_k: int = 3
    calib_images: int = 32
    retrain_iters: int = 200
    num_random: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


# 'default' is the README's main job on the built-in data; 'quick' a
# smoke run for tests.
PRESETS = {
    'default': Sizes(),
    'quick': Sizes(pretrain_iters=4, finetune_iters=4, num_search=8,
                   population=4, generations=2, top_k=2, calib_images=4,
                   retrain_iters=4, num_random=1),
}


def choose_sizes(preset: str, stats: Optional[DataStats] = None,
                 budget_minutes: Optional[float] = None,
                 img_scale: Optional[int] = None) -> Sizes:
    """The sizes of a run: the preset's, adapted to the data.

    Args:
        preset: A key of :data:`PRESETS`.
        stats: Statistics of the training split (None: the preset as is).
        budget_minutes: Time budget of the whole run.
        img_scale: Input scale given by the user (takes precedence).

    Returns:
        Sizes: The sizes.
    """
    if preset not in PRESETS:
        raise ValueError(f'preset must be one of {sorted(PRESETS)}, got '
                         f'{preset!r}')
    sizes = PRESETS[preset]
    if img_scale is not None:
        sizes = replace(sizes, det_scale=int(img_scale))
    return sizes
