"""Score given architectures exactly as a search config scores them.

The search loop of a config holds the calibration set, the search split
and the evaluator; :func:`score_archs` builds that loop (with the
config's checks) around a trained supernet and scores a list of
architectures with it, without searching. The pipeline scores its
reference architectures and the rank-correlation tool its sample this
way, so a supernet score means the same everywhere.
"""
import copy
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.runner import Runner

from detnas_mm.utils.checkpoint import safe_checkpoint_loading


def build_search_loop(config, checkpoint: str, work_dir: str,
                      cfg_options: Optional[dict] = None):
    """The runner and search loop of a search config, supernet loaded.

    Args:
        config: Path of a search config (or a loaded one).
        checkpoint: The trained supernet.
        work_dir: Where the runner writes its log.
        cfg_options: Overrides, as ``--cfg-options``.

    Returns:
        tuple: ``(runner, loop)``.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    cfg.load_from = None
    cfg.resume = False
    with safe_checkpoint_loading():
        runner = Runner.from_cfg(cfg)
        runner.load_checkpoint(checkpoint, map_location='cpu')
    loop = runner.build_train_loop(cfg.train_cfg)
    return runner, loop


def score_archs(config, checkpoint: str, archs: Sequence[str],
                work_dir: str, cfg_options: Optional[dict] = None
                ) -> List[Dict]:
    """Scores of architectures on the search split of a search config.

    Each is scored by the search's own code (its calibration set, split,
    evaluator and BN averaging), so an architecture the search evaluated
    gets the score the search gave it.

    Returns:
        list[dict]: Per architecture ``arch``, ``score`` (the config's
        ``score_key``) and ``metrics``.
    """
    _, loop = build_search_loop(config, checkpoint, work_dir, cfg_options)
    results = []
    for arch in archs:
        score, metrics, _ = loop._evaluate(arch, loop.calibration)
        results.append(dict(arch=arch, score=score, metrics=metrics))
    return results
