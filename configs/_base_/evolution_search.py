# The published evolutionary search (DetNAS distributed_arch_search/
# arch_search_config.py): 20 generations of 50 candidates, the top 10 kept
# over all generations, 20 mutants (each gene redrawn with probability
# 0.1), 20 crossovers, the rest drawn at random; backbone FLOPs (the body
# without the last conv) at 224x224 at most 300M.
#
# A search config lists this file beside its supernet config and builds its
# loop from `search_loop` (a key of its own: the supernet config's
# train_cfg would clash with a train_cfg here), changing only what its size
# and task need:
#   train_cfg = dict(_base_.search_loop, _delete_=True,
#                    score_key='coco/bbox_mAP', ...)
search_loop = dict(
    type='detnas_mm.EvolutionSearchLoop',
    num_generations=20,
    population_size=50,
    top_k=10,
    num_mutation=20,
    mutation_prob=0.1,
    num_crossover=20,
    flops_limit=300e6,
    flops_input_size=224,
    flops_mode='backbone',
    seed=0)
