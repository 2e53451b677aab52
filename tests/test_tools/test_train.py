"""tools/train.py end to end: the demo config on generated images, checkpoint, resume."""
import glob
import json
import os.path as osp
import subprocess
import sys

import torch

from simmim_mm.compat.torch import mmengine_checkpoint_classes

from conftest import REPO_ROOT, demo_config


def write_config(tmp_path, image_folder, max_iters):
    path = tmp_path / f'demo_{max_iters}.py'
    path.write_text(
        demo_config(
            image_folder,
            max_iters,
            tiny_model=False,
            batch_size=4,
            checkpoint_interval=6,
            custom_hooks=None))
    return str(path)


def train(config, work_dir, *extra):
    result = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir, *extra
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def logged_losses(work_dir):
    losses = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')):
        for line in open(path):
            record = json.loads(line)
            if 'loss' in record:
                losses[record['iter']] = record['loss']
    return losses


def test_train_checkpoint_and_resume(tmp_path, image_folder):
    work_dir = str(tmp_path / 'work')
    train(write_config(tmp_path, image_folder, 24), work_dir)

    losses = logged_losses(work_dir)
    assert sorted(losses) == list(range(1, 25))
    first, last = [losses[i] for i in range(1, 5)], [losses[i] for i in range(21, 25)]
    assert sum(last) / 4 < 0.8 * sum(first) / 4, losses

    ckpt = osp.join(work_dir, 'iter_24.pth')
    assert osp.isfile(ckpt)
    # readable with torch's safe default, through exactly our allowlist
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(ckpt)
    allowed = {f'{c.__module__}.{c.__qualname__}' for c in mmengine_checkpoint_classes()}
    allowed.add('builtins.getattr')  # bound to history_buffer_method, see compat/torch.py
    assert set(unsafe) <= allowed, set(unsafe) - allowed
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert state['meta']['iter'] == 24
    assert 'backbone.mask_token' in state['state_dict']
    assert 'neck.decoder.0.weight' in state['state_dict']

    # the demo's reconstruction hook wrote its picture: 4 images x 4 panels of 96 px
    from PIL import Image
    picture = Image.open(osp.join(work_dir, 'reconstruction.png'))
    assert picture.size == (4 * 96, 4 * 96)

    # --resume picks up the latest checkpoint and continues from iteration 24
    result = train(write_config(tmp_path, image_folder, 30), work_dir, '--resume')
    assert 'resumed' in (result.stdout + result.stderr).lower()
    losses = logged_losses(work_dir)
    assert set(range(25, 31)) <= set(losses)
    assert osp.isfile(osp.join(work_dir, 'iter_30.pth'))


def test_dist_train_two_processes_on_cpu(tmp_path, image_folder):
    """tools/dist_train.sh (torchrun) with 2 CPU processes: gloo, DDP, one checkpoint; a
    corrupt image on the way is skipped by whichever rank meets it, and nobody deadlocks."""
    import os
    import socket
    with open(osp.join(image_folder, 'class0', 'corrupt.png'), 'wb') as f:
        f.write(b'\x89PNG not really')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PORT=str(port), PYTHON=sys.executable, OMP_NUM_THREADS='1')
    work_dir = str(tmp_path / 'dist')
    result = subprocess.run([
        'bash',
        osp.join(REPO_ROOT, 'tools', 'dist_train.sh'),
        write_config(tmp_path, image_folder, 4), '2', '--work-dir', work_dir
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT,
                            env=env,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert 'Distributed training: True' in output
    assert 'Skipping unreadable image' in output and 'corrupt.png' in output
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    assert sorted(logged_losses(work_dir)) == [1, 2, 3, 4]


def test_compile_option_compiles_the_forward_only(tmp_path, image_folder):
    """`compile` (here with dynamo's eager backend, to skip code generation) traces the model
    forward; MMEngine's own compiles train_step, which fails inside its optimizer wrapper."""
    config = write_config(tmp_path, image_folder, 3)
    plain, compiled = str(tmp_path / 'plain'), str(tmp_path / 'compiled')
    train(config, plain)
    result = train(config, compiled, '--cfg-options', 'compile.backend=eager')
    assert 'The model forward is compiled' in result.stdout + result.stderr
    assert logged_losses(compiled) == logged_losses(plain)
    assert len(logged_losses(plain)) == 3
