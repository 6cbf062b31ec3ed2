"""Sketch Your Own GAN (Wang, Bau, Zhu, ICCV 2021) on a plain-PyTorch StyleGAN2.

Modules: ``stylegan`` (networks, rosinality key layout), ``sketch`` (XDoG photo->sketch F),
``augment`` (DiffAugment), ``model`` (save/load/sample), ``pretrain`` (base models, DDP),
``finetune`` (sketch fine-tuning), ``imports`` (rosinality checkpoints), ``evaluate`` (Chamfer,
patch SWD), ``explore`` (grids, interpolation, exports).
"""
