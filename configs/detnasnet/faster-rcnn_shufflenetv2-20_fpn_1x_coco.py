# ShuffleNetV2-20, the DetNAS paper's hand-crafted baseline of the 300M space
# (every block is choice 0: a ShuffleNetV2 block with a 3x3 depthwise conv),
# retrained with Faster R-CNN FPN on COCO as in the DetNAS code: 16 images
# per batch (8 GPUs x 2), lr 0.02, 90k iterations with steps at 60k and
# 80k, SyncBN (momentum 0.01) in the backbone, the FPN and the 4conv1fc box
# head. The detector is the supernet fine-tuning one but for the backbone
# (tests/test_configs/test_searched_equals_retrained.py).
#
# This is the retraining recipe of every Faster R-CNN COCO config here:
# the DetNASNet configs inherit it and change the architecture, and
# `tools/export_arch.py --base faster-rcnn_coco` exports onto it. The
# backbone starts from the classifier pretrained with
# shufflenetv2-20_8xb128-300k_in1k.py (no weights are published with this
# repository): add to the backbone
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
# A standalone net uses every parameter at every step, so DDP keeps
# mmengine's default find_unused_parameters=False (no graph traversal per
# step, and a loud error if a parameter ever goes unused).
_base_ = [
    '../_base_/models/faster-rcnn_detnasnet_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_detnas-90k.py'
]
