"On a CUDA GPU (`make test-cuda`; skipped elsewhere): `ftkit train` in each precision the GPU has, the loaders' worker processes and non-blocking copies, texts in mixed precision."
import json, subprocess, sys
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA GPU here (make test-cuda runs these where there is one)')
BIN = Path(sys.executable).parent

def ftkit(*args, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900, **kw)

@pytest.mark.parametrize('precision', [None, '32', 'fp16', 'bf16'])
def test_train_in_each_precision(tmp_path, precision):
    "The default (the GPU's best), and each precision: recorded, said first, learned, and the weights written in float32"
    from ftkit.callbacks import gpu_has_bf16
    if precision=='bf16' and not gpu_has_bf16(): pytest.skip('this GPU does not compute bfloat16 (it came with Ampere)')
    from ftkit.vision.data import sample_data
    from ftkit.callbacks import default_precision
    from ftkit.data import default_workers
    r = ftkit('train', sample_data(), '--size', 64, '--epochs', 2, '--out', tmp_path, *(['--precision', precision] if precision else []))
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path/'metrics.json').read_text())
    want = precision or default_precision('cuda')
    assert (m['device'][:4], m['precision'], m['workers']) == ('cuda', want, default_workers('cuda')), m  # workers: what the loaders used
    assert r.stdout.splitlines()[0].startswith('Training on cuda') and (want in r.stdout.splitlines()[0] or want=='32')
    assert m['accuracy'] > 0.5, m['accuracy']  # ten classes: chance is 0.1
    assert {t.dtype for t in load_file(tmp_path/'model.safetensors').values() if t.is_floating_point()} == {torch.float32}

def test_same_batches_with_workers_on_the_gpu():
    "Worker processes, pinned memory and the non-blocking copy give the batches that the training process reading alone gives"
    from ftkit.all import image_dls, text_dls, sample_data, seed_everything
    from ftkit.text.model import sample_text
    def batches(make, n):
        seed_everything(0)
        dls = make(n)
        assert dls.train.pin_memory and dls.train.fake_l.num_workers == n
        res = [list(b) for _ in range(2) for b in dls.train] + [list(b) for b in dls.valid]
        assert all(t.device.type=='cuda' for t in res[0])
        return [[t.cpu() for t in b] for b in res]
    for make in (lambda n: image_dls(sample_data(), size=64, bs=32, aug='standard', num_workers=n, device='cuda', verbose=False),
                 lambda n: text_dls(sample_text(), num_workers=n, device='cuda', verbose=False)):
        a,b = batches(make, 0),batches(make, 4)
        assert len(a) == len(b) and all(torch.equal(x, y) for p,q in zip(a, b) for x,y in zip(p, q))

def test_text_in_mixed_precision(tmp_path):
    from ftkit.text.model import sample_text
    r = ftkit('train', sample_text(), '--max-len', 32, '--epochs', 2, '--precision', 'fp16', '--out', tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert (m['precision'], m['device'][:4]) == ('fp16', 'cuda') and m['accuracy'] > 0.55, m
