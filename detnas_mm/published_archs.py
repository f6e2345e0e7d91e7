"""The published DetNAS architectures, as data.

Each entry maps a name to ``(search space, gene string)``; the retraining
configs under ``configs/detnasnet/`` use the same gene strings. The 1.3G and
3.8G DetNASNets share one architecture (the 3.8G space widens the 1.3G one).
Source: the DetNAS paper (Chen et al., NeurIPS 2019) and its official code.
"""

PUBLISHED_ARCHS = {
    'coco_fpn_300M': ('300M', '2120|2112|33130031|3132'),
    'coco_retinanet_300M': ('300M', '2311|3213|31113320|3333'),
    'voc_fpn_300M': ('300M', '2103|1303|20113333|3331'),
    'voc_retinanet_300M': ('300M', '1300|2333|23333220|2311'),
    'detnasnet_1.3G': ('1.3G', '00312102|03123320|2113202221310333|13333333'),
    'detnasnet_3.8G': ('3.8G', '00312102|03123320|2113202221310333|13333333'),
}
