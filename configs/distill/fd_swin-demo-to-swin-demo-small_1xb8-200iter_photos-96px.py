"""The CPU demo distillation with FD's target instead of TinyMIM's relations. Everything else
(teacher, student, data, schedule) is
tinymim_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py's, so the two compare the
targets alone (docs/en/user_guides/distillation.md, "Relations or features for Swin").

The student's final map (192 x 3 x 3) goes through a 1x1 conv to the teacher's width (384) and
regresses the teacher's final map, whitened by a LayerNorm without affine parameters, with
smooth-L1 (beta 2.0, as FD's code).

    python tools/train.py configs/demo/simmim_swin-demo_1xb8-800iter_photos-96px.py
    python tools/train.py configs/distill/fd_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py
"""
_base_ = 'tinymim_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py'

model = dict(
    target='features', distill_loss=dict(_delete_=True, type='FeatureDistillLoss', beta=2.0))
