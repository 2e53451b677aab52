"""The ELPV study: does SimMIM pretraining on ELPV's training cells beat the same classifier
trained from scratch? For each seed, SimMIM pretraining -> fine-tuning -> test, and the same
fine-tuning from random weights -> test, each a tools/train.py / tools/test.py run under
--work-dir/seed<S>/, and before each fine-tuning a kNN probe of the frozen encoder it starts
from (tools/analysis/knn_probe.py); then a table of the test metrics (4-class top-1,
functional-vs-defective accuracy, each class's recall) and the probe's kNN top-1 per seed and
as mean ± std, each stage's wall time and the machine: --work-dir/study.md and study.json.

    python tools/analysis/elpv_study.py --work-dir work_dirs/elpv_study --seeds 0 1 2

A stage that finished is not rerun: run the same command again to continue a stopped study.
--pretrain-epochs / --finetune-epochs stretch the configs' schedules (warmup and cosine
scaled with them) and --data-root points every run at another prepared split; any other
setting goes through --pretrain-options / --finetune-options (--cfg-options of the runs).
Both default to optim_wrapper.dtype=float32: the configs' AnyDeviceAmpOptimWrapper autocasts
to bf16 on CPUs with AVX-512 BF16 / AMX and not on others, and the study's numbers should not
depend on which CPU ran it (on a GPU, pass optim_wrapper.dtype=float16 for the official AMP).
The logic: simmim_mm/benchmark/pretraining_study.py.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)  # simmim_mm of this checkout, as tools/train.py sees it

from simmim_mm.benchmark.pretraining_study import INITS, StudySettings, run_study  # noqa: E402

ELPV = osp.join(REPO_ROOT, 'configs', 'elpv')
PRETRAIN = osp.join(ELPV, 'simmim_swin-demo_1xb8-coslr-40e_elpv-96px.py')
FINETUNE = osp.join(ELPV, 'swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py')
SCRATCH = osp.join(ELPV, 'swin-demo_1xb32-coslr-30e_elpv-96px.py')
FLOAT32 = {'optim_wrapper.dtype': 'float32'}  # the same precision on every CPU


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='SimMIM pretraining vs scratch on ELPV')
    parser.add_argument('--work-dir', required=True, help='where every run and the table go')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0], help='default: 0')
    parser.add_argument('--data-root', help="the prepared split (default: the configs' data/elpv)")
    parser.add_argument(
        '--pretrain-epochs', type=int, help="SimMIM epochs (default: the pretraining config's)")
    parser.add_argument(
        '--finetune-epochs',
        type=int,
        help="fine-tuning epochs, SimMIM and scratch alike (default: the configs' 30)")
    parser.add_argument(
        '--probe-k',
        type=int,
        nargs='+',
        default=[10, 20],
        help="the kNN probe's k (default: 10 20)")
    parser.add_argument(
        '--inits',
        nargs='+',
        choices=INITS,
        default=list(INITS),
        help='which fine-tunings (default: both); scratch does not depend on the pretraining, '
        'so a study of another --pretrain-epochs may run simmim alone')
    parser.add_argument('--pretrain-config', default=PRETRAIN)
    parser.add_argument('--finetune-config', default=FINETUNE)
    parser.add_argument(
        '--scratch-config', default=SCRATCH, help='the fine-tuning config without init')
    parser.add_argument(
        '--pretrain-options',
        nargs='+',
        action=DictAction,
        default=dict(FLOAT32),
        help='--cfg-options of the pretraining run (default: optim_wrapper.dtype=float32)')
    parser.add_argument(
        '--finetune-options',
        nargs='+',
        action=DictAction,
        default=dict(FLOAT32),
        help='--cfg-options of the fine-tuning and test runs, both inits (default: '
        'optim_wrapper.dtype=float32)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = run_study(
        StudySettings(
            pretrain_config=args.pretrain_config,
            finetune_config=args.finetune_config,
            scratch_config=args.scratch_config,
            work_dir=args.work_dir,
            seeds=args.seeds,
            pretrain_epochs=args.pretrain_epochs,
            finetune_epochs=args.finetune_epochs,
            data_root=args.data_root,
            pretrain_options=args.pretrain_options,
            finetune_options=args.finetune_options,
            probe_ks=args.probe_k,
            inits=args.inits,
            repo_root=REPO_ROOT))
    with open(osp.join(args.work_dir, 'study.md')) as f:
        print(f.read())
    return report


if __name__ == '__main__':
    main()
