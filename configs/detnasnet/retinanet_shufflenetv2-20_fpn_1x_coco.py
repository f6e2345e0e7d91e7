# ShuffleNetV2-20 (300M space, every block choice 0) retrained with
# RetinaNet FPN on COCO as in the DetNAS paper: 16 images per batch, lr
# 0.01, 90k iterations with steps at 60k and 80k, SyncBN in the backbone,
# the FPN and the head's towers.
#
# The retraining recipe of every RetinaNet COCO config here
# (`tools/export_arch.py --base retinanet_coco`). Initialise the backbone
# from shufflenetv2-20_16xb64_in1k.py's classifier with
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
_base_ = [
    '../_base_/models/retinanet_detnas_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_detnas-90k.py'
]

model = dict(
    backbone=dict(
        type='detnas_mm.DetNASNet', space='300M',
        arch='0000|0000|00000000|0000'))

optim_wrapper = dict(optimizer=dict(lr=0.01))
