"""The pipeline's summary: table, rank agreement and verdict."""
import os.path as osp
import statistics
from typing import List

from detnas_mm.analysis import rank_agreement
from detnas_mm.utils import atomic_write_json, atomic_write_text


def _row(result: dict) -> dict:
    return {k: result[k] for k in ('name', 'arch', 'flops', 'params',
                                   'search_score', 'test_mAP')}


def summary_rows(results: List[dict]) -> List[dict]:
    """The searched and published rows, then the random median."""
    rows = [_row(r) for r in results if r['role'] != 'random']
    randoms = [r for r in results if r['role'] == 'random']
    if randoms:
        rows.append(dict(
            name=f'random, median of {len(randoms)}', arch='-',
            flops=statistics.median(r['flops'] for r in randoms),
            params=statistics.median(r['params'] for r in randoms),
            search_score=statistics.median(r['search_score']
                                           for r in randoms),
            test_mAP=statistics.median(r['test_mAP'] for r in randoms)))
    return rows


def format_table(rows: List[dict], score_key: str) -> str:
    lines = [
        f'| architecture | genes | FLOPs (224 px) | params | '
        f'search-split {score_key} (supernet) | test {score_key} '
        f'(retrained) |', '|---|---|---|---|---|---|'
    ]
    for r in rows:
        genes = r['arch'].replace('|', '\\|')
        lines.append(
            f'| {r["name"]} | `{genes}` | {r["flops"] / 1e6:.1f}M | '
            f'{r["params"] / 1e6:.2f}M | {r["search_score"]:.3f} | '
            f'{r["test_mAP"]:.3f} |')
    return '\n'.join(lines)


def verdict(results: List[dict], can_rank: bool, warning: str) -> str:
    """One sentence: did the search beat the random median?"""
    if not can_rank:
        return (f'The search could not rank architectures, so no '
                f'architecture here is a searched one: {warning}')
    searched = [r for r in results if r['role'] == 'searched'][0]
    randoms = [r['test_mAP'] for r in results if r['role'] == 'random']
    if not randoms:
        return 'No random architecture was retrained to compare with.'
    median = statistics.median(randoms)
    where = 'above' if searched['test_mAP'] > median else 'not above'
    return (f'The search beat the random median: the searched architecture '
            f'tested {where} the median of {len(randoms)} random '
            f'architectures of equal FLOPs ({searched["test_mAP"]:.3f} vs '
            f'{median:.3f}).' if where == 'above' else
            f'The search did not beat the random median: the searched '
            f'architecture tested {searched["test_mAP"]:.3f}, the median of '
            f'{len(randoms)} random architectures of equal FLOPs '
            f'{median:.3f}.')


# Mean top-1 over random paths below this many times chance: stage 1 did
# not learn. The main job's 3 seeds ended at 2.3x, 1.8x and 1.06x chance,
# and only the last one's search lost to the random median
# (docs/pipeline.md).
NEAR_CHANCE = 1.5


def pretraining_warning(pretrain: dict) -> str:
    """A sentence when the supernet's pretraining ended near chance, else
    an empty string."""
    top1 = ((pretrain.get('val') or {}).get('random_mean') or {}).get(
        'accuracy/top1')
    num_classes = pretrain.get('num_classes')
    if top1 is None or not num_classes:
        return ''
    chance = 100.0 / num_classes
    if top1 >= NEAR_CHANCE * chance:
        return ''
    return (f'the supernet pretraining ended near chance (mean top-1 of '
            f'random paths {top1:.1f}%, chance {chance:.1f}%): stage 1 did '
            f'not learn, and a supernet fine-tuned from it may rank '
            f'architectures unlike training them on their own (one of the '
            f'main job\'s three seeds did; docs/pipeline.md). Rerun with '
            f'another --seed or a longer pretraining '
            f'(--pretrain-cfg-options train_cfg.max_iters=N).')


def sizes_section(sizes, outputs: dict) -> str:
    """The sizes of the run, why they were chosen, and the time taken."""
    taken = sum(out.get('seconds') or 0.0 for out in outputs.values())
    lines = [
        '## Sizes', '',
        f'Input scale {sizes.det_scale} px; pretraining '
        f'{sizes.pretrain_iters} iterations; fine-tuning '
        f'{sizes.finetune_iters}; search {sizes.population} x '
        f'{sizes.generations} candidates on {sizes.num_search} images '
        f'({sizes.calib_images} calibration images); retraining '
        f'{sizes.retrain_iters} iterations each, {sizes.num_random} random '
        f'architecture(s). The stages took {taken / 60:.1f} min' +
        (f' (modelled {sizes.estimated_minutes:.1f} min).'
         if sizes.estimated_minutes is not None else '.'), ''
    ]
    lines += [f'- {reason}' for reason in sizes.reasons]
    return '\n'.join(lines)


def write_report(stage_dir: str, outputs: dict, sizes, data, cls_root: str,
                 seed: int, score_key: str, recipe=None) -> dict:
    """Write ``summary.json`` and ``summary.md``; return them, with the
    text to print."""
    results = outputs['retrain']['results']
    best = outputs['search']['best']
    can_rank = best.get('can_rank', True) is not False
    rows = summary_rows(results)
    table = format_table(rows, score_key)
    agreement = None
    if len(results) >= 3:
        agreement = rank_agreement([r['search_score'] for r in results],
                                   [r['test_mAP'] for r in results])
    lines = [table, '']
    if agreement is not None:
        lines.append(f'Rank agreement of the supernet scores with the '
                     f'retrained test scores: {agreement.sentence()}.')
    verdict_text = verdict(results, can_rank, best.get('ranking_warning'))
    lines.append(verdict_text)
    pretrain_val = (outputs['pretrain'].get('val') or {}).get(
        'random_mean') or {}
    if pretrain_val:
        lines.append('Supernet pretraining, mean over random paths: ' +
                     ', '.join(f'{k} {v:.2f}'
                               for k, v in pretrain_val.items()) + '.')
    pretrain_warning = pretraining_warning(outputs['pretrain'])
    if pretrain_warning:
        lines.append('WARNING: ' + pretrain_warning)
    if recipe is not None:
        retraining = ('standalone (own classification pretraining, then '
                      'detection)' if recipe.standalone else
                      'from the weights inherited from the supernet')
        lines.append(f'Recipe: {recipe.name} (fine-tuning config '
                     f'{recipe.finetune}); retraining {retraining}.')
    lines += ['', sizes_section(sizes, outputs)]
    text = '\n'.join(lines)
    summary = dict(
        searched=results[0], results=results, table=rows,
        can_rank=can_rank, ranking_warning=best.get('ranking_warning'),
        rank_agreement=None if agreement is None else agreement.to_dict(),
        verdict=verdict_text,
        stage_seconds={name: out.get('seconds')
                       for name, out in outputs.items()},
        sizes=sizes.to_dict(), det_data=data.describe(),
        cls_data_root=cls_root, seed=seed, score_key=score_key,
        recipe=None if recipe is None else recipe.name,
        pretraining_warning=pretrain_warning)
    atomic_write_json(osp.join(stage_dir, 'summary.json'), summary, indent=1)
    atomic_write_text(osp.join(stage_dir, 'summary.md'), text + '\n')
    summary['text'] = text
    return summary
