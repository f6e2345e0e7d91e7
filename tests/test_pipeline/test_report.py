"""The summary's verdict and warnings, on hand-made stage outputs."""
from detnas_mm.pipeline.report import NEAR_CHANCE, pretraining_warning, verdict


def pretrain(top1, num_classes=4):
    return dict(val=dict(random_mean={'accuracy/top1': top1}),
                num_classes=num_classes)


def test_pretraining_at_chance_is_flagged():
    # The main job's seeds: 26.4 % on 4 classes did not learn.
    warning = pretraining_warning(pretrain(26.4))
    assert 'near chance' in warning and '26.4%' in warning
    assert 'chance 25.0%' in warning and '--seed' in warning
    assert pretraining_warning(pretrain(45.4)) == ''
    assert pretraining_warning(pretrain(57.4)) == ''
    # The limit is relative to chance: 10 classes, chance 10 %.
    assert pretraining_warning(pretrain(14.9, 10))
    assert not pretraining_warning(pretrain(NEAR_CHANCE * 10, 10))


def test_no_warning_without_a_measurement():
    assert pretraining_warning({}) == ''
    assert pretraining_warning(dict(val=None, num_classes=4)) == ''
    # Outputs of a run made before the class count was recorded.
    assert pretraining_warning(dict(val=pretrain(20.0)['val'])) == ''


def test_verdict_against_the_random_median():
    results = [dict(role='searched', test_mAP=0.772)] + [
        dict(role='random', test_mAP=m)
        for m in (0.823, 0.760, 0.780, 0.757, 0.798)]
    text = verdict(results, True, None)
    assert text.startswith('The search did not beat the random median')
    results[0]['test_mAP'] = 0.799
    assert verdict(results, True, None).startswith(
        'The search beat the random median')
    assert 'could not rank' in verdict(results, False, 'no signal')
