"Interruption and resume, the NaN guard and reproducibility, through the `ftkit` command as a user runs it."
import json, shutil, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest, torch
from ftkit.vision.data import sample_data

BIN = Path(sys.executable).parent
METRICS = ('accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'valid_loss', 'best_epoch', 'restored_epoch', 'stopped_epoch', 'per_class')

def ftkit(*args):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900)

def history(d): return pd.read_csv(d/'history.csv').drop(columns='time')

def checkpointed(out:Path, epochs:int)->bool:
    "The run in `out` has written the checkpoint of its epoch `epochs` in full: history.csv has that epoch, and the checkpoint's checksum (written last) came after it"
    h,s = out/'history.csv',out/'checkpoint.pt.sha256'
    try: return len(h.read_text().strip().splitlines()) > epochs and s.stat().st_mtime_ns >= h.stat().st_mtime_ns
    except FileNotFoundError: return False

def interrupt_after(args, out:Path, epochs:int, sig=signal.SIGINT, grace=None):
    "Run `ftkit *args --out out` and send it `sig` once the checkpoint of `epochs` epochs is written, early in the next epoch: its exit status and stderr"
    p = subprocess.Popen([str(BIN/'ftkit'), *args, '--out', str(out), *(['--grace', grace] if grace else [])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time()+600
    while not checkpointed(out, epochs):
        assert p.poll() is None and time.time() < deadline, p.communicate()
        time.sleep(0.02)
    time.sleep(0.1)  # past the end of the epoch (a signal there stops with the epoch's own checkpoint), into the next one's first batches
    p.send_signal(sig)
    _,err = p.communicate(timeout=300)
    return p.returncode,err

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A third of the sample: 30 training and 10 validation images per class (epochs of about a second at 32 px)"
    root = tmp_path_factory.mktemp('data')
    for split,n in (('train', 30), ('valid', 10)):
        for c in sorted((sample_data()/split).iterdir()):
            (root/split/c.name).mkdir(parents=True)
            for f in sorted(c.iterdir())[:n]: shutil.copy(f, root/split/c.name/f.name)
    return root

@pytest.fixture(scope='module')
def ARGS(data): return ['train', str(data), '--size', '32', '--strategy', 'fine_tune', '--epochs', '5', '--seed', '1', '--quiet']

@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory, ARGS):
    out = tmp_path_factory.mktemp('a')
    r = ftkit(*ARGS, '--out', out)
    assert r.returncode == 0, r.stderr
    return out

@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_interrupt_then_resume_equals_uninterrupted(ARGS, uninterrupted, tmp_path, sig):
    out = tmp_path/'b'
    # Two epochs done (the frozen one and the first with everything training): stop it early in the third, mid-phase, two more to go
    rc,err = interrupt_after(ARGS, out, 2, sig)
    assert rc == 128+sig, err
    assert 'ftkit train --resume' in err and 'Traceback' not in err, err
    assert 'Epoch 3 of 5, up to batch ' in err, err  # saved after the running batch, mid-epoch
    ck = torch.load(out/'checkpoint.pt', weights_only=True)
    assert (len(ck['history']), ck['epoch']) == (2, 1) and 1 <= ck['batch'] < ck['n_batches'], (ck['epoch'], ck['batch'])
    assert not (out/'model.safetensors').exists()
    r = ftkit('train', '--resume', out, '--quiet')
    assert r.returncode == 0, r.stderr
    a,b = (json.loads((d/'metrics.json').read_text()) for d in (uninterrupted, out))
    assert {k:a[k] for k in METRICS} == {k:b[k] for k in METRICS}
    assert (b['resumed_after_epoch'], b['resumed_after_batch']) == (2, ck['batch']) and a['resumed_after_epoch'] is None
    pd.testing.assert_frame_equal(history(uninterrupted), history(out))  # the third epoch, half of it trained before the stop, as if never stopped
    assert not (out/'checkpoint.pt').exists() and not (out/'best.safetensors').exists()  # a finished run keeps its model, not its checkpoints

def test_a_stop_past_its_grace_period_exits_with_the_last_checkpoint(ARGS, uninterrupted, tmp_path):
    "SIGTERM with a grace period shorter than a batch: the process exits at once with 143, the epoch's checkpoint kept; the resume continues after it"
    out = tmp_path/'g'
    rc,err = interrupt_after(ARGS, out, 2, signal.SIGTERM, grace='0.001s')
    assert rc == 143 and 'took longer than the grace period (0.001 s)' in err and 'Traceback' not in err, err
    ck = torch.load(out/'checkpoint.pt', weights_only=True)
    assert (len(ck['history']), ck['batch']) == (2, 0)
    r = ftkit('train', '--resume', out, '--quiet')
    assert r.returncode == 0, r.stderr
    same_as_uninterrupted(uninterrupted, out, 2)

def same_as_uninterrupted(uninterrupted, out, after:int):
    "The resumed run in `out` ended with the uninterrupted run's figures and history, and kept no checkpoint"
    a,b = (json.loads((d/'metrics.json').read_text()) for d in (uninterrupted, out))
    assert {k:a[k] for k in METRICS} == {k:b[k] for k in METRICS}
    assert b['resumed_after_epoch'] == after
    pd.testing.assert_frame_equal(history(uninterrupted), history(out))
    assert not list(out.glob('checkpoint*')) and not list(out.glob('.*.tmp'))

def test_a_truncated_checkpoint_resumes_from_the_one_before(ARGS, uninterrupted, tmp_path):
    "The latest checkpoint cut in half (a disk error, a copy cut short): the resume says so, continues after the epoch before, and ends as the uninterrupted run"
    out = tmp_path/'t'
    rc,err = interrupt_after(ARGS, out, 2)
    assert rc == 128+signal.SIGINT, err
    ck = out/'checkpoint.pt'
    assert {f.name for f in out.glob('checkpoint*')} == {'checkpoint.pt', 'checkpoint.pt.sha256', 'checkpoint.prev.pt', 'checkpoint.prev.pt.sha256'}
    ck.write_bytes(ck.read_bytes()[:ck.stat().st_size//2])
    r = ftkit('train', '--resume', out, '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'checkpoint.pt does not match its checksum' in r.stderr and 'Resuming from the checkpoint before it (checkpoint.prev.pt), after epoch 2' in r.stderr, r.stderr
    same_as_uninterrupted(uninterrupted, out, 2)  # the one before the stop's own (mid-epoch 3): the end of epoch 2

def _limit_files(n:int):
    "In the child process: no file over `n` bytes, a write beyond failing as on a full disk"
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (n, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

def test_a_full_disk_stops_with_the_last_checkpoint_intact(ARGS, uninterrupted, tmp_path):
    "No room for the next checkpoint: one line, exit status 2, the last checkpoint as it was; once there is room, the resume ends as the uninterrupted run"
    out = tmp_path/'f'
    rc,err = interrupt_after(ARGS, out, 2)  # after an epoch with everything training: Adam's two moments per weight make the checkpoint three times the weights
    assert rc == 128+signal.SIGINT, err
    ck = out/'checkpoint.pt'
    before = ck.read_bytes()
    r = subprocess.run([str(BIN/'ftkit'), 'train', '--resume', str(out), '--quiet'], capture_output=True, text=True, timeout=900,
                       preexec_fn=lambda: _limit_files(len(before)//2))  # room for the best weights, not for the next checkpoint
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert f'Could not write {ck}' in r.stderr and 'The previous checkpoint.pt is intact' in r.stderr and f'ftkit train --resume {out}' in r.stderr, r.stderr
    assert ck.read_bytes() == before and not list(out.glob('.*.tmp'))
    r = ftkit('train', '--resume', out, '--quiet')
    assert r.returncode == 0, r.stderr
    same_as_uninterrupted(uninterrupted, out, 2)

def test_a_full_disk_when_the_model_is_written(ARGS, uninterrupted, tmp_path):
    "Training done, no room for the model: one line that says training is kept; once there is room, the resume writes the model without training"
    code = ("import sys, ftkit.export\nftkit.export.export_model = lambda *a, **k: sys.exit(3)  # dies after training\n"
            f"from ftkit.cli import main\nsys.exit(main({[*ARGS, '--out', str(tmp_path)]!r}))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=900)
    assert r.returncode == 3, r.stderr
    ck = (tmp_path/'checkpoint.pt').read_bytes()
    r = subprocess.run([str(BIN/'ftkit'), 'train', '--resume', str(tmp_path), '--quiet'], capture_output=True, text=True, timeout=900,
                       preexec_fn=lambda: _limit_files(len(ck)//6))  # the weights alone are about a third of the checkpoint (Adam keeps two moments per weight)
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert f"Could not write {tmp_path/'model.safetensors'}" in r.stderr and f'Training is complete and kept in {tmp_path/"checkpoint.pt"}' in r.stderr, r.stderr
    assert (tmp_path/'checkpoint.pt').read_bytes() == ck and not (tmp_path/'model.safetensors').exists() and not list(tmp_path.glob('.*.tmp'))
    r = ftkit('train', '--resume', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    same_as_uninterrupted(uninterrupted, tmp_path, json.loads((uninterrupted/'metrics.json').read_text())['epochs_run'])

def test_resume_needs_a_checkpoint(tmp_path):
    r = ftkit('train', '--resume', tmp_path)
    assert r.returncode == 2 and 'nothing to resume' in r.stderr and 'Traceback' not in r.stderr
    r = ftkit('train')
    assert r.returncode == 2 and '--resume' in r.stderr

def test_same_seed_same_numbers(ARGS, uninterrupted, tmp_path):
    r = ftkit(*ARGS, '--out', tmp_path)
    assert r.returncode == 0, r.stderr
    a,b = (json.loads((d/'metrics.json').read_text()) for d in (uninterrupted, tmp_path))
    assert {k:a[k] for k in METRICS} == {k:b[k] for k in METRICS}
    pd.testing.assert_frame_equal(history(uninterrupted), history(tmp_path))
    cfg = json.loads((tmp_path/'config.json').read_text())
    assert cfg['seed'] == 1 and {'torch', 'fastai', 'timm', 'ftkit'} <= set(cfg['versions'])
    assert b['seed'] == 1 and b['versions'] == cfg['versions']

def test_diverging_loss_stops_with_a_clear_message(data, tmp_path):
    r = ftkit('train', data, '--size', '32', '--weights', 'none', '--lr', '1e4', '--epochs', '3', '--quiet', '--out', tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert 'The training loss became' in r.stderr and 'learning rate' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path/'model.safetensors').exists()

def test_resume_with_l2sp_pulls_towards_the_pretrained_weights(ARGS, tmp_path):
    "L2-SP's w0 comes from the weights file, not from the model a resumed run starts with: interrupted and resumed equals uninterrupted"
    args = [*ARGS, '--l2sp', '10', '--lr', '1e-2']
    a,b = tmp_path/'a',tmp_path/'b'
    r = ftkit(*args, '--out', a)
    assert r.returncode == 0, r.stderr
    rc,err = interrupt_after(args, b, 2)
    assert rc == 128+signal.SIGINT, err
    r = ftkit('train', '--resume', b, '--quiet')
    assert r.returncode == 0, r.stderr
    ma,mb = (json.loads((d/'metrics.json').read_text()) for d in (a, b))
    assert mb['resumed_after_epoch'] == 2 and mb['l2sp'] == 10
    pd.testing.assert_frame_equal(history(a), history(b))
    assert {k:ma[k] for k in METRICS} == {k:mb[k] for k in METRICS}
    assert ma['forgetting'] == mb['forgetting']

def test_resume_after_training_completed(ARGS, uninterrupted, tmp_path):
    "A run that finished training but died before writing its model resumes to the same model and metrics, and trains nothing"
    code = ("import sys, ftkit.export\nftkit.export.export_model = lambda *a, **k: sys.exit(3)  # dies after training\n"
            f"from ftkit.cli import main\nsys.exit(main({[*ARGS, '--out', str(tmp_path)]!r}))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=900)
    assert r.returncode == 3, r.stderr
    assert (tmp_path/'checkpoint.pt').exists() and not (tmp_path/'model.safetensors').exists()
    r = ftkit('train', '--resume', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    a,b = (json.loads((d/'metrics.json').read_text()) for d in (uninterrupted, tmp_path))
    assert {k:a[k] for k in METRICS} == {k:b[k] for k in METRICS}
    assert b['resumed_after_epoch'] == a['epochs_run'] == b['epochs_run']
    assert b['summary'] == a['summary']
    pd.testing.assert_frame_equal(history(uninterrupted), history(tmp_path))

def new_task_data(task):
    from ftkit.vision.data import multilabel_sample
    from ftkit.vision.segment import segmentation_sample
    return (segmentation_sample(), 'mean_iou') if task=='segmentation' else (multilabel_sample(), 'mAP')

@pytest.mark.parametrize('task', [pytest.param('segmentation', marks=pytest.mark.slow), 'multilabel'])  # (the same code for both tasks: segmentation's runs take twice as long)
def test_new_tasks_resume_and_stop_early(task, tmp_path):
    "Gradual unfreezing of a U-Net, and of a multi-label network, watched by the task's main figure: stopped early in its third epoch and resumed mid-epoch, it ends where the uninterrupted run ends"
    data,monitor = new_task_data(task)
    args = ['train', str(data), '--size', '32', '--strategy', 'gradual', '--epochs', '4', '--seed', '1', '--monitor', monitor, '--quiet']
    a = tmp_path/'a'
    r = ftkit(*args, '--out', a)
    assert r.returncode == 0, r.stderr
    out = tmp_path/'b'
    rc,err = interrupt_after(args, out, 2)
    assert rc == 130 and 'Epoch 3 of 4, up to batch ' in err, err  # mid-epoch
    r = ftkit('train', '--resume', out, '--quiet')
    assert r.returncode == 0, r.stderr
    ma,mb = (json.loads((d/'metrics.json').read_text()) for d in (a, out))
    keys = [k for k in ma if k in ('valid_loss', monitor, 'pixel_accuracy', 'dice', 'f1_micro', 'f1_macro', 'threshold', 'per_class', 'best_epoch', 'restored_epoch', 'stopped_epoch')]
    assert len(keys) >= 7 and {k:ma[k] for k in keys} == {k:mb[k] for k in keys}
    assert mb['resumed_after_epoch'] == 2 and mb['resumed_after_batch'] >= 1 and ma['monitor'] == monitor
    h = history(a)
    pd.testing.assert_frame_equal(h, history(out))
    assert h.trainable_groups.is_monotonic_increasing and h.trainable_groups.iloc[0] < h.trainable_groups.iloc[-1]  # unfrozen a stage group at a time
    assert ma['best_epoch'] == int(h[monitor].idxmax())+1  # the best by the task's figure (higher is better), not by the loss

@pytest.mark.parametrize('task', ['segmentation', 'multilabel'])
def test_new_tasks_stop_early_on_their_figure(task, tmp_path):
    """A learning rate of zero and a frozen encoder or body: the task's main figure hardly moves (a U-Net's decoder still
    updates its BatchNorm statistics), so patience 1 stops at the first epoch that does not beat the best so far"""
    data,monitor = new_task_data(task)
    r = ftkit('train', data, '--size', '32', '--strategy', 'feature_extract', '--epochs', '4', '--lr', '0', '--patience', '1', '--monitor', monitor, '--out', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    v = pd.read_csv(tmp_path/'history.csv')[monitor].tolist()
    stop = next(e+1 for e in range(1, len(v)) if v[e] <= max(v[:e]))  # higher is better; patience 1
    if task == 'multilabel': assert v == [v[0], v[0]] and stop == 2  # a frozen body and a head at lr 0: the figure never moves, so the stop comes at epoch 2, provably
    best = max(range(len(v)), key=lambda e: (v[e], -e))+1
    assert m['monitor'] == monitor and (m['stopped_epoch'], m['epochs_run'], len(v)) == (stop, stop, stop) and stop < 4
    assert m['best_epoch'] == m['restored_epoch'] == best and abs(m[monitor]-v[best-1]) < 1e-6  # the best epoch's weights restored and evaluated

def test_interrupting_an_auto_run(data, tmp_path):
    "auto decides as it goes and keeps no checkpoint: interrupted, it says so in one line, with how to get a run that resumes"
    p = subprocess.Popen([str(BIN/'ftkit'), 'train', str(data), '--strategy', 'auto', '--size', '32', '--seed', '1', '--no-forgetting', '--out', str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in p.stdout:  # auto's own lines: once its first probe has scored, it is training
        seen.append(line)
        if line.startswith('auto: linear probe'): break
    assert seen and seen[-1].startswith('auto: linear probe'), (seen, p.communicate())
    p.send_signal(signal.SIGINT)
    _,err = p.communicate(timeout=300)
    assert p.returncode == 130 and 'Traceback' not in err, err
    assert 'auto decides as it goes, so its runs are not resumable' in err and '--strategy lp_ft' in err, err
    assert not (tmp_path/'checkpoint.pt').exists() and not (tmp_path/'model.safetensors').exists()
