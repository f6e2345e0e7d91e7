# ImageNet-1k with the DetNAS training augmentation (Supernet-ImageNet/
# train.py): RandomResizedCrop 224 (area 0.08-1), ColorJitter 0.4
# (brightness, contrast, saturation), horizontal flip; 128 images per GPU.
# Validation: short side 256, centre crop 224 (mmpretrain's pipeline).
# Data as mmpretrain's ImageNet expects: data/imagenet/{train,val}/ with
# meta/{train,val}.txt (see mmpretrain's ImageNet docs).
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs32.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, num_workers=8)
test_dataloader = val_dataloader
