# The built-in detection task at CPU size ("halo", detnas_mm.datasets.halo):
# 96 px images of grey squares, each inside a coloured ring whose hue is the
# class (red, green, blue, yellow); the box is the square only, so a
# detector must read colour 5-14 px outside the box, and what reaches the
# square at stride 4 depends on the backbone's kernel sizes and depth.
# 2000 train2017 images (the search split is carved out of them), 400
# val2017 images (the test split); 8 images per batch, main process.
# Generate it once into data/halo (the pipeline uses its own cache):
#   python tools/dataset/make_halo_data.py data/halo
_base_ = './coco-tiny_detection_128px.py'

data_root = 'data/halo/coco/'
img_scale = (96, 96)
metainfo = dict(classes=('red', 'green', 'blue', 'yellow'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    # Endless: the iteration loop would pause at the end of each epoch.
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
