"Interruption and resume, the NaN guard and reproducibility, through the `ftkit` command as a user runs it."
import json, shutil, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from ftkit.vision.data import sample_data

BIN = Path(sys.executable).parent
METRICS = ('accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'valid_loss', 'best_epoch', 'restored_epoch', 'stopped_epoch', 'per_class')

def ftkit(*args):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900)

def history(d): return pd.read_csv(d/'history.csv').drop(columns='time')

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
    p = subprocess.Popen([str(BIN/'ftkit'), *ARGS, '--out', str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Two epochs done (the frozen one and the first with everything training): stop it in the third, mid-phase, two more to go
    deadline = time.time()+600
    while not ((out/'history.csv').exists() and len((out/'history.csv').read_text().strip().splitlines()) >= 3):
        assert p.poll() is None and time.time() < deadline, p.communicate()
        time.sleep(0.05)
    p.send_signal(sig)
    _,err = p.communicate(timeout=300)
    assert p.returncode == 128+sig, err
    assert 'ftkit train --resume' in err and 'Traceback' not in err, err
    assert 'last complete epoch (2 of 5)' in err, err
    assert (out/'checkpoint.pt').exists() and not (out/'model.safetensors').exists()
    r = ftkit('train', '--resume', out, '--quiet')
    assert r.returncode == 0, r.stderr
    a,b = (json.loads((d/'metrics.json').read_text()) for d in (uninterrupted, out))
    assert {k:a[k] for k in METRICS} == {k:b[k] for k in METRICS}
    assert b['resumed_after_epoch'] == 2 and a['resumed_after_epoch'] is None
    pd.testing.assert_frame_equal(history(uninterrupted), history(out))
    assert not (out/'checkpoint.pt').exists() and not (out/'best.safetensors').exists()  # a finished run keeps its model, not its checkpoints

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
    p = subprocess.Popen([str(BIN/'ftkit'), *args, '--out', str(b)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time()+600
    while not ((b/'history.csv').exists() and len((b/'history.csv').read_text().strip().splitlines()) >= 3):
        assert p.poll() is None and time.time() < deadline, p.communicate()
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    _,err = p.communicate(timeout=300)
    assert p.returncode == 128+signal.SIGINT, err
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
