"""tools/train.py on CUDA, stopped and resumed: bit-for-bit the losses, learning rates and
final weights (and the fp16 loss scaler) of an uninterrupted run, with deterministic
settings. The CPU counterpart is tests/test_tools/test_kill_resume.py, whose shrunk demo
config this reuses."""
import os.path as osp

import torch
from cuda_helpers import requires_cuda
from cuda_helpers import cpu_only  # noqa: F401  overrides tests/conftest.py's: GPUs stay visible
from test_tools.test_kill_resume import logged, train, write_config


def checkpoint(work_dir, name='iter_8.pth'):
    return torch.load(osp.join(work_dir, name), map_location='cpu', weights_only=True)


@requires_cuda
def test_resume_on_cuda_reproduces_uninterrupted_run(tmp_path, image_folder, monkeypatch):
    # randomness.deterministic turns on torch.use_deterministic_algorithms, for which cuBLAS
    # needs a fixed workspace (else the first matmul raises)
    monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    straight, split = str(tmp_path / 'straight'), str(tmp_path / 'split')
    train(write_config(tmp_path, image_folder, 8, num_workers=2), straight)
    train(write_config(tmp_path, image_folder, 4, num_workers=2), split)
    output = train(write_config(tmp_path, image_folder, 8, num_workers=2), split, '--resume')
    assert 'resumed epoch: 0, iter: 4' in output

    expected, resumed = logged(straight, 'loss'), logged(split, 'loss')
    assert sorted(expected) == list(range(1, 9))
    assert len(set(expected.values())) == 8  # the comparison below is not a trivial one
    assert resumed == expected
    assert logged(split, 'lr') == logged(straight, 'lr')

    a, b = checkpoint(straight), checkpoint(split)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    # trained on the GPU with the configs' fp16 AMP: the loss scaler was saved and restored
    scaler = a['optimizer'].get('loss_scaler')
    assert scaler and scaler['scale'] > 0, 'no fp16 loss scaler state: did this run on CUDA?'
    assert b['optimizer']['loss_scaler'] == scaler
