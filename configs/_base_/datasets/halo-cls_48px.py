# The classification twin of the built-in "halo" detection task
# (detnas_mm.datasets.halo): one centred grey square inside a ring, the
# class is the ring's hue (4 classes), 48 px, 1000 train / 100 val images
# per class, ImageNet folder layout; 32 images per batch, main process.
# Only flips: the ring must stay in the image. Generate it once into
# data/halo (the pipeline uses its own cache):
#   python tools/dataset/make_halo_data.py data/halo
_base_ = './imagenette-sub_64px.py'

data_root = 'data/halo/cls'
data_preprocessor = dict(num_classes=4)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
