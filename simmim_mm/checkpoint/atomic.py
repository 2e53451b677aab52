"""Never leave a half-written file under its final name: write beside it, then rename."""
import os
import os.path as osp
from contextlib import contextmanager

import torch


@contextmanager
def atomic_path(path: str):
    """Yield a temporary name in ``path``'s folder; rename it to ``path`` only if the block
    succeeds, delete it otherwise."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def atomic_save(obj, path: str) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
