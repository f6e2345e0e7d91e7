# ShuffleNetV2-20 (300M space, every block choice 0) retrained with
# RetinaNet FPN on COCO as in the DetNAS code: 16 images per batch, lr
# 0.01, 90k iterations with steps at 60k and 80k, SyncBN (momentum 0.01) in
# the backbone only (no norm in the FPN and the head), P6 from P5, ReLU
# before P7.
#
# The retraining recipe of every RetinaNet COCO config here
# (`tools/export_arch.py --base retinanet_coco`). Initialise the backbone
# from shufflenetv2-20_8xb128-300k_in1k.py's classifier with
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
_base_ = [
    '../_base_/models/retinanet_detnasnet_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_detnas-90k.py'
]

optim_wrapper = dict(optimizer=dict(lr=0.01))
