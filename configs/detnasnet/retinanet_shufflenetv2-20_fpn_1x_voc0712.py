# ShuffleNetV2-20 (300M space, every block choice 0) retrained with
# RetinaNet FPN on PASCAL VOC 07+12 trainval, tested on VOC2007 test, as in
# the DetNAS paper: 16 images per batch, lr 0.01, 22.5k iterations with
# steps at 15k and 20k, SyncBN (momentum 0.01) in the backbone only.
#
# The retraining recipe of every RetinaNet VOC config here
# (`tools/export_arch.py --base retinanet_voc`). Initialise the backbone
# from shufflenetv2-20_8xb128-300k_in1k.py's classifier with
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
_base_ = [
    '../_base_/models/retinanet_detnasnet_fpn.py',
    'mmdet::_base_/datasets/voc0712.py',
    '../_base_/schedules/schedule_detnas-22.5k.py'
]

model = dict(bbox_head=dict(num_classes=20))

optim_wrapper = dict(optimizer=dict(lr=0.01))
