"Audio classification through the command line, as a user runs it: bad clips, training, evaluation, prediction, ONNX and two processes."
import json, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd
import pytest
import soundfile as sf
from conftest import evaluates_as_trained

BIN = Path(sys.executable).parent

def ftkit(*args, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900, **kw)

def sample():
    from ftkit.audio.clip import sample_audio
    return sample_audio()

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "The default recipe on the bundled sample, seed 0 (benchmarks/audio.py: 0.667)"
    out = tmp_path_factory.mktemp('audio')/'run'
    r = ftkit('train', sample(), '--seed', '0', '--out', out)
    assert r.returncode == 0, r.stderr
    return out,r

def test_train_infers_audio_and_writes_a_model(run):
    out,r = run
    m = json.loads((out/'metrics.json').read_text())
    assert m['task'] == 'audio_classification' and m['n_valid'] == 60 and m['skipped'] == []
    assert m['accuracy'] > 0.5, m['accuracy']  # ten words, spoken by voices the model never heard: chance is 0.1
    # the audio recipe (the task's `strategy_defaults` and `default_monitor`): a 3-epoch probe, fine-tuning at 1e-3 with BatchNorm's statistics following the clips,
    # the epoch of best accuracy restored; fine-tuning's first epochs fall below the probe's best, and the run goes on (patience counts within a phase)
    assert (m['strategy']['probe_epochs'], m['strategy']['lr'], m['strategy']['bn_stats'], m['monitor']) == (3, 1e-3, True, 'accuracy')
    h = pd.read_csv(out/'history.csv')
    assert h.accuracy[3:6].max() < h.accuracy[:3].max() and m['epochs_run'] == 10 and m['stopped_epoch'] is None
    assert m['restored_epoch'] == int(h.accuracy.idxmax())+1 and abs(m['accuracy'] - h.accuracy.max()) < 1e-6
    cfg = json.loads((out/'config.json').read_text())
    assert (cfg['sample_rate'], cfg['clip_samples'], cfg['frontend']['n_mels']) == (16000, 16000, 64)
    assert {'confusion.png', 'top_losses.png', 'history.png'} <= {f.name for f in out.iterdir()}
    assert 'Validation metrics (60 clips, 10 classes' in r.stdout

def test_evaluate_gives_the_training_figures(run, tmp_path):
    evaluates_as_trained(ftkit, run[0], sample()/'valid', tmp_path/'eval')

def test_predict_a_folder_a_long_recording_and_onnx(run, tmp_path):
    out,_ = run
    files = sorted((sample()/'valid'/'stop').glob('*.ogg'))[:3]
    x = np.concatenate([sf.read(f, dtype='float32')[0] for f in files])
    sf.write(tmp_path/'long.wav', x, 16000)  # three seconds: five windows
    sf.write(tmp_path/'stereo48.flac', np.stack([np.repeat(x[:16000], 3)]*2, 1), 48000)
    r = ftkit('predict', out, sample()/'valid'/'stop', tmp_path, '--format', 'json')
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 8 and all(not row.get('error') for row in rows), rows
    assert {Path(row['file']).name for row in rows} >= {'long.wav', 'stereo48.flac'}
    from ftkit.export import load_model
    pred = load_model(out, device='cpu')
    assert pred.preprocess(tmp_path/'long.wav').shape == (5, 16000)
    e = ftkit('export', out, '--onnx')
    assert e.returncode == 0 and 'max abs difference' in e.stdout, e.stderr
    o = ftkit('predict', out, sample()/'valid'/'stop', tmp_path, '--format', 'json', '--backend', 'onnx')
    assert o.returncode == 0, o.stderr
    for a,b in zip(rows, json.loads(o.stdout)): assert a['label'] == b['label'] and abs(a['prob']-b['prob']) < 1e-4, (a, b)

def test_bad_clips_are_skipped_and_said(tmp_path):
    "Every kind of bad file: the run trains on the rest, says what it left out once, and metrics.json lists each with its reason"
    data = tmp_path/'data'
    for split in ('train', 'valid'):
        for c in ('yes', 'no'): shutil.copytree(sample()/split/c, data/split/c)
    (data/'train'/'yes'/'empty.wav').write_bytes(b'')
    (data/'train'/'yes'/'corrupt.ogg').write_bytes(b'OggS' + bytes(300))
    (data/'train'/'no'/'photo.wav').write_bytes((sample().parent/'fashion_mnist_sample'/'LICENSE').read_bytes())  # not audio, under an audio name
    (data/'train'/'no'/'notes.txt').write_text('recorded on Tuesday')
    sf.write(data/'train'/'no'/'silent.wav', np.zeros(12000), 16000)
    sf.write(data/'train'/'yes'/'long.wav', np.random.default_rng(0).standard_normal(16000*20)*0.05, 16000)
    r = ftkit('train', data, '--epochs', '2', '--out', tmp_path/'run')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    reasons = {Path(s['file']).name:s['reason'].split(' (')[0] for s in m['skipped']}
    assert reasons == {'empty.wav':'empty file', 'corrupt.ogg':'not readable as audio', 'photo.wav':'not readable as audio', 'notes.txt':'not an audio file'}, reasons
    assert r.stdout.count('far longer than the others') == 1 and r.stdout.count('1 clip is silent') == 1, r.stdout
    assert m['n_train'] == 38  # 36 clips of the sample, the silent one and the long one

def test_a_csv_of_clips_is_audio(tmp_path):
    rows = ['fname,label'] + [f'{f.relative_to(sample())},{f.parent.name}' for f in sorted(sample().glob('train/*/*.ogg'))]
    (tmp_path/'clips.csv').write_text('\n'.join(rows))
    shutil.copytree(sample()/'train', tmp_path/'train')
    r = ftkit('train', tmp_path/'clips.csv', '--epochs', '1', '--out', tmp_path/'run', '-q')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    assert m['task'] == 'audio_classification' and m['n_train'] + m['n_valid'] == 180

def test_cutmix_and_image_options_are_refused(tmp_path):
    r = ftkit('train', sample(), '--mix', 'cutmix', '--out', tmp_path)
    assert r.returncode == 2 and 'does not apply to audio' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = ftkit('train', sample(), '--size', '128', '--out', tmp_path)
    assert r.returncode == 2 and '--size does not apply' in r.stderr, r.stderr

def test_audio_on_two_processes(run, tmp_path):
    "Two CPU processes, the default recipe: the sharded feature cache of the probe, DDP in the fine-tuning, the figures gathered over both"
    import pandas as pd
    env = {**__import__('os').environ, 'OMP_NUM_THREADS':'1'}
    r = ftkit('train', sample(), '--seed', '0', '--out', tmp_path, '--distributed', '2', '-q', env=env)
    assert r.returncode == 0, r.stderr
    m,one = (json.loads((d/'metrics.json').read_text()) for d in (tmp_path, run[0]))
    assert m['processes'] == 2 and m['task'] == 'audio_classification' and m['cached_features'] and m['bs'] == 32
    assert m['accuracy'] > 0.5 and abs(m['accuracy'] - one['accuracy']) <= 0.15, (m['accuracy'], one['accuracy'])  # each process's BatchNorm sees 16 clips: not bit-identical
    h = pd.read_csv(tmp_path/'history.csv')
    assert abs(h.iloc[m['restored_epoch']-1]['accuracy'] - m['accuracy']) < 1e-5
