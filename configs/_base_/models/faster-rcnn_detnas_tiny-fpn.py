# CPU size of faster-rcnn_detnas_fpn.py: the same Faster R-CNN on the real
# 300M supernet, with what makes CPU runs slow narrowed. The FPN, the RPN
# head and the 4conv1fc box head take 64 channels and a 256-d fc (the box
# head runs four 3x3 convs on every RoI: at 256 channels it dominates on
# CPU), and fewer proposals and RoIs go through them.
#
# The searched detector (the CPU fine-tuning and search configs) and the
# retrained one (configs/detnasnet/*_cpu_coco-tiny.py, which switches the
# backbone to a DetNASNet) both inherit this file, so they differ only by
# the backbone (tests/test_configs/test_searched_equals_retrained.py). Its
# proposal and RoI numbers are those the CPU search was run and measured
# with: the search ranks candidates with these test settings, so the
# retrained net is scored with the same ones; and every candidate is
# evaluated, which makes the cheaper test setting (200 boxes before NMS)
# worth keeping.
_base_ = './faster-rcnn_detnas_fpn.py'

width = 64
model = dict(
    neck=dict(out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(
            in_channels=width, conv_out_channels=width, fc_out_channels=256)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=50)))
