"""Evidence that distillation learns, at the scale a CPU allows, and which target (TinyMIM's
relations or FD's features) serves a Swin student better: distilled students against the same
student pretrained by SimMIM alone and a random-init one, on images none was trained on.

Runs of tools/train.py, each in a subprocess with its work dir under --out-dir:
  1. teacher: the demo pretraining (configs/demo, SimMIM on the 15 bundled photos, as
     `make demo` runs it, without its picture hooks);
  2. relations: the demo distillation from that teacher with TinyMIM's relations;
  3. features: the same with FD's whitened features (the only difference);
  4. simmim: the students' architecture pretrained by SimMIM alone, with the demo's recipe;
  2-4 for --iters iterations each (default: the distillation configs' 200), their warm-up and
  cosine scaled to fit. Then the students (and a random-init one, the floor) are compared on
  held-out images at the configs' image size:
  (a) relation KL to the teacher: TinyMIM's target (loss_qk + loss_vv of the relations
      distiller's own loss);
  (b) feature CKA to the teacher: linear CKA (simmim_mm.evaluation.cka) between the student's
      and the teacher's final-stage tokens, a neutral measure of FD's kind of match (no
      projector to fit, invariant to rotation and scale);
  (c) kNN top-1 (simmim_mm.evaluation.knn, frozen pooled features) on two labelled sets
      available offline, neither in the training photos:
      - faces: scikit-image's lfw_subset, 100 LFW faces and 100 non-faces (25 px grey,
        upscaled); bank and queries alternate by index, two folds (each half is bank once);
      - crops: which of 6 held-out images a crop comes from (skimage cell, clock_motion,
        microaneurysms, page, text and matplotlib's grace_hopper), crops of the left half
        against crops of the right half, two folds.

    python tools/analysis/distill_evidence.py --out-dir work_dirs/distill_evidence --iters 800

Prints a Markdown table and writes --out-dir/evidence.json. A finished run (its last
checkpoint present, same command) is reused unless --retrain.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEACHER_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo',
                          'simmim_swin-demo_1xb8-800iter_photos-96px.py')
DISTILL_CONFIGS = {
    target:
    osp.join(REPO_ROOT, 'configs', 'distill',
             f'{prefix}_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py')
    for target, prefix in (('relations', 'tinymim'), ('features', 'fd'))
}
# held-out images for the crop probe: installed with scikit-image / matplotlib, not in
# BundledPhotos (simmim_mm/datasets/bundled_photos.py)
SKIMAGE_HELD_OUT = ('cell.png', 'clock_motion.png', 'microaneurysms.png', 'page.png', 'text.png')
MATPLOTLIB_HELD_OUT = ('grace_hopper.jpg', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out-dir',
        default='work_dirs/distill_evidence',
        help='work dirs of the runs, and evidence.json')
    parser.add_argument(
        '--retrain', action='store_true', help='train again even where a run has finished')
    parser.add_argument(
        '--iters',
        type=int,
        help='iterations of each student run, the configs\' schedules scaled '
        'to them (default: the distillation configs\' 200)')
    parser.add_argument(
        '--teacher-iters', type=int, help='iterations of the teacher (default: the demo config\'s)')
    parser.add_argument(
        '--simmim-iters',
        type=int,
        help='also pretrain the student by SimMIM alone for this many '
        'iterations (e.g. as many as fit in the distillation\'s wall time)')
    parser.add_argument('--k', type=int, default=10, help='kNN neighbours (default 10)')
    parser.add_argument(
        '--crops', type=int, default=32, help='crops per half of each held-out image (default 32)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the crops and of the random-init student')
    parser.add_argument(
        '--student-seed',
        type=int,
        help='training seed of the students (default: the configs\' 0); '
        'their work dirs get a _seedN suffix, the teacher is shared')
    return parser.parse_args(argv)


# ---- training runs -------------------------------------------------------------------------


def last_checkpoint(work_dir: str) -> Optional[str]:
    paths = glob.glob(osp.join(work_dir, 'iter_*.pth'))
    return max(paths, key=lambda p: int(re.findall(r'iter_(\d+)', p)[-1])) if paths else None


def train(config: str, work_dir: str, cfg_options: List[str], retrain: bool) -> dict:
    """tools/train.py in a subprocess; its wall time (startup included) and last checkpoint.
    The same run (same command) finished before is reused, with the wall time it recorded
    then."""
    record = osp.join(work_dir, 'evidence_run.json')
    command = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir
    ] + (['--cfg-options'] + cfg_options if cfg_options else [])
    if not retrain and last_checkpoint(work_dir) and osp.exists(record):
        with open(record) as file:
            run = json.load(file)
        if run['command'] == ' '.join(['python'] + command[1:]):  # the same run, finished
            return dict(run, reused=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    wall_s = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f'{" ".join(command)} failed:\n{result.stderr[-4000:]}')
    run = dict(
        command=' '.join(['python'] + command[1:]),
        wall_s=wall_s,
        checkpoint=last_checkpoint(work_dir))
    with open(record, 'w') as file:
        json.dump(run, file, indent=1)
    return dict(run, reused=False)


def schedule_options(cfg, iters: int) -> List[str]:
    """--cfg-options that run ``cfg`` for ``iters`` iterations, its lr schedule (warm-up and
    cosine: every begin, end and T_max) scaled by the same factor."""
    scale = iters / cfg.train_cfg.max_iters
    options = [f'train_cfg.max_iters={iters}']
    for index, scheduler in enumerate(cfg.param_scheduler):
        for key in ('begin', 'end', 'T_max'):
            if key in scheduler:
                options.append(f'param_scheduler.{index}.{key}={round(scheduler[key] * scale)}')
    return options


def student_arch_options(cfg) -> List[str]:
    """--cfg-options that give the SimMIM demo the distillation config's student encoder."""
    arch = cfg.model.backbone.arch
    return [
        f'model.backbone.arch.embed_dims={arch.embed_dims}',
        f'model.backbone.arch.depths={list(arch.depths)}'.replace(' ', ''),
        f'model.backbone.arch.num_heads={list(arch.num_heads)}'.replace(' ', '')
    ]


# ---- held-out labelled images --------------------------------------------------------------


def to_bgr_tensor(rgb: np.ndarray, size: int) -> Tensor:
    """An RGB / grey uint8 image resized (bicubic, as the pipeline) to size x size, as the
    (3, H, W) uint8 BGR tensor LoadImageFromFile would give the data preprocessor."""
    image = Image.fromarray(rgb).convert('RGB').resize((size, size), Image.BICUBIC)
    return torch.from_numpy(np.ascontiguousarray(np.asarray(image)[..., ::-1])).permute(2, 0, 1)


def faces(size: int) -> Tuple[Tensor, Tensor, Tensor]:
    """skimage's lfw_subset: images, labels (1 face, 0 non-face) and folds (by index parity)."""
    from skimage.data import lfw_subset
    grey = (lfw_subset() * 255).round().astype(np.uint8)
    images = torch.stack([to_bgr_tensor(image, size) for image in grey])
    labels = torch.tensor([1] * 100 + [0] * 100)
    return images, labels, torch.arange(len(grey)) % 2


def held_out_photos() -> List[np.ndarray]:
    import matplotlib
    from skimage import io
    from skimage.data import data_dir
    sample_data = osp.join(osp.dirname(matplotlib.__file__), 'mpl-data', 'sample_data')
    paths = [osp.join(data_dir, name) for name in SKIMAGE_HELD_OUT
             ] + [osp.join(sample_data, name) for name in MATPLOTLIB_HELD_OUT]
    return [io.imread(path) for path in paths]


def photo_crops(size: int, per_half: int, seed: int = 0) -> Tuple[Tensor, Tensor, Tensor]:
    """Square crops (side half the image's short side) at random places in the left and right
    halves of each held-out image: images, labels (which image) and folds (0 left, 1 right),
    so that bank and queries never share pixels."""
    rng = np.random.default_rng(seed)
    images, labels, folds = [], [], []
    for label, photo in enumerate(held_out_photos()):
        height, width = photo.shape[:2]
        side = min(height, width // 2) // 2
        for fold, (x0, x1) in enumerate(((0, width // 2 - side), (width // 2, width - side))):
            for _ in range(per_half):
                x, y = rng.integers(x0, x1 + 1), rng.integers(0, height - side + 1)
                crop = photo[y:y + side, x:x + side]
                crop = crop[..., :3] if crop.ndim == 3 else crop
                images.append(to_bgr_tensor(crop, size))
                labels.append(label)
                folds.append(fold)
    return torch.stack(images), torch.tensor(labels), torch.tensor(folds)


# ---- evaluation ----------------------------------------------------------------------------


class EncoderView(nn.Module):
    """An encoder with a data preprocessor, as simmim_mm.evaluation.knn.embed_dataset reads a
    model: the teacher's features through the same path as the students'."""

    def __init__(self, encoder: nn.Module, data_preprocessor: nn.Module):
        super().__init__()
        self.backbone, self.data_preprocessor = encoder, data_preprocessor

    def extract_feat(self, inputs: Tensor):
        return self.backbone(inputs, None)


def batches(images: Tensor, labels: Optional[Tensor] = None, size: int = 16):
    """default_collate batches, as a DataLoader hands the data preprocessor (a list of
    inputs would be taken for views)."""
    from mmpretrain.structures import DataSample
    for start in range(0, len(images), size):
        chunk = images[start:start + size]
        samples = [
            DataSample() if labels is None else DataSample().set_gt_label(int(label))
            for label in (labels[start:start + size] if labels is not None else range(len(chunk)))
        ]
        yield dict(inputs=chunk, data_samples=samples)


@torch.no_grad()
def held_out_relation_loss(distiller: nn.Module, images: Tensor) -> float:
    """The distillation target on held-out ``images``: the relations distiller's own loss
    (loss_qk + loss_vv, TinyMIM's relation KL to the teacher), averaged over images."""
    total = 0.0
    for batch in batches(images):
        data = distiller.data_preprocessor(batch, training=False)
        losses = distiller.loss(data['inputs'], data['data_samples'])
        total += (losses['loss_qk'] + losses['loss_vv']).item() * len(batch['inputs'])
    return total / len(images)


@torch.no_grad()
def final_tokens(model: nn.Module, images: Tensor) -> Tensor:
    """The encoder's final-stage map of every image as rows of tokens (n * h * w, c)."""
    tokens = []
    for batch in batches(images):
        data = model.data_preprocessor(batch, training=False)
        final = model.extract_feat(data['inputs'])[-1].float()
        tokens.append(final.flatten(2).transpose(1, 2).flatten(0, 1))
    return torch.cat(tokens)


def knn_score(model: nn.Module, images: Tensor, labels: Tensor, folds: Tensor, k: int) -> float:
    from simmim_mm.evaluation import embed_dataset, two_fold_knn_accuracy
    features, _ = embed_dataset(model, batches(images, labels))
    return two_fold_knn_accuracy(features, labels, folds, k)


def build_distiller(teacher_checkpoint: str, seed: int) -> nn.Module:
    """The demo distiller with the teacher loaded and a SimMIM-initialised (random) student."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(DISTILL_CONFIGS['relations'])
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('simmim_mm'):
        from simmim_mm.registry import MODELS
        model = MODELS.build(
            dict(
                cfg.model,
                teacher_checkpoint=teacher_checkpoint,
                data_preprocessor=cfg.data_preprocessor))
    model.init_weights()
    model.eval()
    return model


def load_student(distiller: nn.Module, checkpoint: str) -> None:
    """A checkpoint's ``backbone.*`` (distilled or SimMIM: the same encoder) into the student."""
    from simmim_mm.checkpoint import load_checkpoint_file
    state = load_checkpoint_file(checkpoint)['state_dict']
    backbone = {
        key[len('backbone.'):]: value
        for key, value in state.items() if key.startswith('backbone.')
    }
    distiller.backbone.load_state_dict(backbone, strict=True)


def evaluate(model: nn.Module,
             sets: Dict[str, tuple],
             k: int,
             teacher_tokens: Optional[Dict[str, Tensor]] = None) -> dict:
    """kNN on every set; with the teacher's tokens, also the relation KL (``model`` is the
    relations distiller, its student loaded) and the feature CKA to the teacher."""
    from simmim_mm.evaluation import linear_cka
    row = {}
    for name, (images, labels, folds) in sets.items():
        if teacher_tokens is not None:
            row[f'relation_kl_{name}'] = held_out_relation_loss(model, images)
            row[f'feature_cka_{name}'] = linear_cka(
                final_tokens(model, images), teacher_tokens[name])
        row[f'knn_{name}'] = knn_score(model, images, labels, folds, k)
    return row


# ---- report --------------------------------------------------------------------------------

COLUMNS = (('relation_kl_faces', 'relation KL, faces',
            '.3f'), ('relation_kl_crops', 'relation KL, crops',
                     '.3f'), ('feature_cka_faces', 'feature CKA, faces',
                              '.3f'), ('feature_cka_crops', 'feature CKA, crops', '.3f'),
           ('knn_faces', 'kNN faces %', '.1f'), ('knn_crops', 'kNN crops %', '.1f'))


def markdown(rows: Dict[str, dict], runs: Dict[str, dict]) -> str:
    lines = [
        '| model | train iters | train wall s | ' + ' | '.join(title
                                                               for _, title, _ in COLUMNS) + ' |',
        '|---' * (3 + len(COLUMNS)) + '|'
    ]
    for name, row in rows.items():
        run = runs.get(name, {})
        wall = format(run['wall_s'], '.0f') if 'wall_s' in run else '-'
        cells = [format(row[key], fmt) if key in row else '-' for key, _, fmt in COLUMNS]
        lines.append(f"| {name} | {run.get('iters', '-')} | {wall} | {' | '.join(cells)} |")
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config

    import simmim_mm  # noqa: F401  registers simmim_mm
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    teacher_cfg = Config.fromfile(TEACHER_CONFIG)
    distill_cfg = Config.fromfile(DISTILL_CONFIGS['relations'])
    iters = args.iters or distill_cfg.train_cfg.max_iters
    teacher_iters = args.teacher_iters or teacher_cfg.train_cfg.max_iters
    no_pictures = ['custom_hooks=[]']  # the wall times are training's

    runs = {
        'teacher':
        train(TEACHER_CONFIG, osp.join(out_dir, 'teacher'),
              no_pictures + schedule_options(teacher_cfg, teacher_iters), args.retrain)
    }
    runs['teacher']['iters'] = teacher_iters
    teacher_checkpoint = f"model.teacher_checkpoint={runs['teacher']['checkpoint']}"
    seeded, suffix = [], ''
    if args.student_seed is not None:
        seeded, suffix = [f'randomness.seed={args.student_seed}'], f'_seed{args.student_seed}'
    for target, config in DISTILL_CONFIGS.items():
        runs[target] = train(
            config, osp.join(out_dir, target + suffix),
            schedule_options(Config.fromfile(config), iters) + [teacher_checkpoint] + seeded,
            args.retrain)
        runs[target]['iters'] = iters
    simmim_iters = {'simmim': iters}
    if args.simmim_iters:
        simmim_iters[f'simmim, {args.simmim_iters} iters'] = args.simmim_iters
    for name, count in simmim_iters.items():
        runs[name] = train(
            TEACHER_CONFIG, osp.join(out_dir, f'simmim_{count}{suffix}'), no_pictures +
            schedule_options(teacher_cfg, count) + student_arch_options(distill_cfg) + seeded,
            args.retrain)
        runs[name]['iters'] = count

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel('WARNING')  # not every weight's init, please
    size = distill_cfg.model.backbone.img_size
    sets = dict(faces=faces(size), crops=photo_crops(size, args.crops, args.seed))
    distiller = build_distiller(runs['teacher']['checkpoint'], args.seed)
    teacher_view = EncoderView(distiller.teacher, distiller.data_preprocessor)
    teacher_tokens = {
        name: final_tokens(teacher_view, images)
        for name, (images, _, _) in sets.items()
    }
    rows = {'random init': evaluate(distiller, sets, args.k, teacher_tokens)}
    for name in [*simmim_iters, *DISTILL_CONFIGS]:
        load_student(distiller, runs[name]['checkpoint'])
        rows[name] = evaluate(distiller, sets, args.k, teacher_tokens)
    rows['teacher'] = evaluate(teacher_view, sets, args.k)

    print(markdown(rows, runs))
    report = dict(
        runs=runs,
        results=rows,
        k=args.k,
        crops_per_half=args.crops,
        seed=args.seed,
        student_seed=args.student_seed,
        image_size=size,
        command=' '.join(['python'] + sys.argv),
        sets=dict(
            faces=f'skimage lfw_subset, {len(sets["faces"][1])} images',
            crops=f'{len(sets["crops"][1])} crops of '
            f'{", ".join(SKIMAGE_HELD_OUT + MATPLOTLIB_HELD_OUT)}'))
    with open(osp.join(out_dir, f'evidence{suffix}.json'), 'w') as file:
        json.dump(report, file, indent=1)
    return report


if __name__ == '__main__':
    main()
