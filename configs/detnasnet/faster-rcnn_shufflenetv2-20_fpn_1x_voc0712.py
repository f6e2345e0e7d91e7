# ShuffleNetV2-20 (300M space, every block choice 0) retrained with
# Faster R-CNN FPN on PASCAL VOC 07+12 trainval, tested on VOC2007 test, as
# in the DetNAS paper: 16 images per batch, lr 0.02, 22.5k iterations with
# steps at 15k and 20k, SyncBN (momentum 0.01) in the backbone, the FPN and
# the box head.
#
# The retraining recipe of every Faster R-CNN VOC config here
# (`tools/export_arch.py --base faster-rcnn_voc`). Initialise the backbone
# from shufflenetv2-20_8xb128-300k_in1k.py's classifier with
#   init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=CKPT)
_base_ = [
    '../_base_/models/faster-rcnn_detnasnet_fpn.py',
    'mmdet::_base_/datasets/voc0712.py',
    '../_base_/schedules/schedule_detnas-22.5k.py'
]

model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))
