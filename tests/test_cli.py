"The `ftkit` console script, run as a user runs it: in a subprocess."
import json, os, subprocess, sys
from pathlib import Path
import pytest
import pandas as pd
from safetensors.torch import load_file
from conftest import evaluates_as_trained

BIN = Path(sys.executable).parent

def ftkit(*args, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=600, **kw)

def test_help_is_helpful():
    r = ftkit('--help')
    assert r.returncode == 0
    for word in ('train', 'demo', 'examples:'): assert word in r.stdout
    r = ftkit('train', '--help')
    assert r.returncode == 0
    for opt in ('--arch', '--weights', '--epochs', '--size', '--bs', '--lr', '--seed', '--out', 'offline', 'none'): assert opt in r.stdout

def test_help_imports_no_training_library():
    "`ftkit --help` and `ftkit train --help` build the parser from the settings alone: torch, fastai and timm stay unloaded"
    code = "import sys\nfrom ftkit.cli import main\nfor a in (['--help'], ['train', '--help']):\n    try: main(a)\n    except SystemExit: pass\nprint(sorted(m for m in ('torch','fastai','timm') if m in sys.modules))"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == '[]'

def test_bad_input_is_a_clear_error(tmp_path):
    r = ftkit('train', tmp_path/'missing')
    assert r.returncode == 2
    assert 'does not exist' in r.stderr and 'Traceback' not in r.stderr
    r = ftkit('train', tmp_path)
    assert r.returncode == 2 and 'No image, text or audio files found' in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_unknown_offline_arch(tmp_path):
    from ftkit.vision.data import sample_data
    r = ftkit('train', sample_data(), '--arch', 'resnet18', '--out', tmp_path)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert "No offline weights for 'resnet18'" in r.stderr
    r = ftkit('train', sample_data(), '--arch', 'mobilenetv9', '--out', tmp_path)
    assert r.returncode == 2 and "timm has no pretrained configuration for 'mobilenetv9'" in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_train_writes_a_complete_run_folder(tmp_path):
    from ftkit.vision.data import sample_data
    out = tmp_path/'run'
    r = ftkit('train', sample_data(), '--size', 48, '--epochs', 2, '--out', out)
    assert r.returncode == 0, r.stderr
    assert 'Model saved to' in r.stdout and 'accuracy' in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ['class_f1.png', 'config.json', 'confusion.png', 'history.csv', 'history.png', 'metrics.json',
                                                      'model.safetensors', 'report.csv', 'top_losses.png']
    m = json.loads((out/'metrics.json').read_text())
    for k in ('accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'valid_loss', 'wall_time_s', 'n_train', 'n_valid', 'arch'): assert k in m
    assert (m['n_train'], m['n_valid'], m['arch'], m['weights']) == (800, 200, 'mobilenetv2_100', 'offline')
    assert m['accuracy'] > 0.4  # ten classes: chance is 0.1
    assert round(m['accuracy']*200) == sum(v['recall']*v['support'] for v in m['per_class'].values())
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['num_classes'] == 10 and len(cfg['classes']) == 10 and cfg['input_size'] == [3, 48, 48]
    sd = load_file(out/'model.safetensors')
    assert sd['classifier.weight'].shape == (10, 1280)
    for f in ('history.png', 'confusion.png', 'class_f1.png', 'top_losses.png'): assert (out/f).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'Best valid_loss' in r.stdout and m['restored_epoch'] == m['best_epoch'] and m['stopped_epoch'] is None
    assert len((out/'history.csv').read_text().strip().splitlines()) == 3  # header + one row per epoch
    assert r.stdout.splitlines()[0] == 'Training on cpu in float32; the training process reads the data.' and (m['precision'], m['workers']) == ('32', 0)

def test_precision_and_workers(tmp_path):
    "--precision bf16 and --workers 2 on a CPU: said first and recorded, the weights written in float32; fp16 refused there in one line; compare takes both"
    import torch
    from ftkit.vision.data import sample_data
    r = ftkit('train', sample_data(), '--precision', 'bf16', '--workers', 2, '--epochs', 1, '--size', 32, '--out', tmp_path/'bf')
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == 'Training on cpu in mixed precision (bf16); 2 worker processes read the data.', r.stdout
    m = json.loads((tmp_path/'bf'/'metrics.json').read_text())
    assert (m['precision'], m['workers']) == ('bf16', 2) and m['accuracy'] > 0.3, m['accuracy']  # ten classes: chance is 0.1
    assert {t.dtype for t in load_file(tmp_path/'bf'/'model.safetensors').values() if t.is_floating_point()} == {torch.float32}
    evaluates_as_trained(ftkit, tmp_path/'bf', sample_data()/'valid', tmp_path/'ev')  # the final figures are the float32 model's, as exported
    r = ftkit('train', sample_data(), '--precision', 'fp16', '--out', tmp_path/'x')
    assert r.returncode == 2 and 'fp16 (with loss scaling) needs a CUDA GPU' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = ftkit('compare', sample_data(), '--strategies', 'feature_extract', '--epochs', 1, '--size', 32, '--fractions', '0.1', '--precision', 'bf16', '--workers', 2, '--out', tmp_path/'c')
    assert r.returncode == 0, r.stderr
    assert list(pd.read_csv(tmp_path/'c'/'comparison.csv').precision) == ['bf16']
    r = ftkit('compare', sample_data(), '--precision', 'fp16', '--out', tmp_path/'c2')
    assert r.returncode == 2 and 'needs a CUDA GPU' in r.stderr and 'Traceback' not in r.stderr, r.stderr

@pytest.fixture(scope='module')
def fe_run(tmp_path_factory):
    "A head-only run on the bundled sample at 32 px, shared by the tests of what follows a run (evaluate, predict, export)"
    from ftkit.vision.data import sample_data
    out = tmp_path_factory.mktemp('runs')/'fe'
    r = ftkit('train', sample_data(), '--strategy', 'feature_extract', '--epochs', 2, '--size', 32, '--quiet', '--out', out)
    assert r.returncode == 0, r.stderr
    return out

def test_feature_extraction_report_comes_from_its_cache(fe_run, tmp_path):
    """After a head-only run the body is the pretrained one: the report is computed on the cached features, forgetting is exactly none
    without a pass, and the figures are those of the exported model on the images, as `ftkit evaluate` gives them"""
    from ftkit.vision.data import sample_data
    from ftkit.export import load_model
    out = fe_run
    m = json.loads((out/'metrics.json').read_text())
    assert m['cached_features'] and m['evaluated_on_cached_features']
    fg = m['forgetting']
    assert fg['body_unchanged'] and (fg['imagenet_agreement'], fg['imagenet_kl'], fg['body_drift']) == (1.0, 0.0, 0.0)
    assert set(m['time_s']) == {'start','imports','checks','data','model','cache','training','evaluation','forgetting','export','report','total'}
    assert 0 < m['time_s']['start'] < 60  # run as the `ftkit` command: its start-up is measured from the process's start
    if sys.platform=='linux' and len(os.sched_getaffinity(0)) >= 2 and m['workers'] == 0: assert m['decoded_ahead'] >= 1000  # every image of the sample (800 + 200) decoded while the command imported (`DecodeAhead`; fastai's first look at the first one takes it a second time)
    else: assert m['decoded_ahead'] <= 1  # no fork to decode in, or the loader's workers read the images (the training process only fastai's first look at one)
    files = sorted((sample_data()/'valid').glob('*/*.png'))
    pred = load_model(out).probs(files).argmax(1)
    classes = json.loads((out/'config.json').read_text())['classes']
    acc = sum(classes[int(i)]==f.parent.name for i,f in zip(pred, files))/len(files)
    assert acc == m['accuracy'], (acc, m['accuracy'])  # the cached evaluation is the model's, on the images
    rep = pd.read_csv(out/'report.csv', index_col='class')
    assert rep.loc['accuracy', 'f1'] == pytest.approx(m['accuracy'])
    evaluates_as_trained(ftkit, out, sample_data()/'valid', tmp_path/'ev')  # `ftkit evaluate` on the validation images: the same figures and report
    _refusals(tmp_path, out)

def test_forgetting_measured_or_turned_off(tmp_path):
    "A body that moved: forgetting measured; with --no-forgetting, not at all"
    from ftkit.vision.data import sample_data
    runs = {}
    for name,opts in (('on', ()), ('off', ('--no-forgetting',))):
        r = ftkit('train', sample_data(), '--strategy', 'fine_tune', '--epochs', 1, '--freeze-epochs', 0, '--size', 32, '--quiet', '--out', tmp_path/name, *opts)
        assert r.returncode == 0, r.stderr
        runs[name] = json.loads((tmp_path/name/'metrics.json').read_text())
    on,off = runs['on'],runs['off']
    assert not on['evaluated_on_cached_features'] and not on['forgetting']['body_unchanged']
    assert on['forgetting']['body_drift'] > 0 and on['forgetting']['imagenet_kl'] > 0
    assert off['forgetting'] is None
    assert off['accuracy'] == on['accuracy']  # the same run otherwise

def test_output_into_a_pipe_is_one_line_per_epoch(tmp_path):
    "Through a pipe, as in a log or CI, no progress bar is drawn: a line per epoch with its metrics, and the summary"
    from ftkit.vision.data import sample_data
    r = ftkit('train', sample_data(), '--size', 32, '--epochs', 3, '--out', tmp_path/'run')  # stdout and stderr are pipes here
    assert r.returncode == 0, r.stderr
    assert '\r' not in r.stdout + r.stderr and '%' not in r.stdout
    epochs = [l for l in r.stdout.splitlines() if l.startswith('epoch ')]
    assert [l.split()[1] for l in epochs] == ['1/3', '2/3', '3/3'], r.stdout
    history = pd.read_csv(tmp_path/'run'/'history.csv')
    for line,(_,row) in zip(epochs, history.iterrows()): assert f"valid_loss {row.valid_loss:.4f}" in line and f"accuracy {row.accuracy:.4f}" in line
    assert len(r.stdout.splitlines()) <= 25 and len(r.stderr.splitlines()) <= 5, (r.stdout, r.stderr)
    assert 'Validation metrics' in r.stdout and r.stdout.rstrip().endswith(str(tmp_path/'run'))

def test_quiet_and_verbose_through_a_pipe(tmp_path):
    "`--quiet` leaves only the summary; `--verbose` adds the settings in full and the strategy's phases before the epoch lines"
    from ftkit.vision.data import sample_data
    args = ('train', sample_data(), '--strategy', 'fine_tune', '--epochs', 2, '--freeze-epochs', 1, '--size', 32, '--no-forgetting')
    q = ftkit('train', sample_data(), '--epochs', 1, '--size', 32, '--no-forgetting', '--out', tmp_path/'q', '--quiet')  # lp_ft cut to its probe
    v = ftkit(*args, '--out', tmp_path/'v', '-v')
    for r in (q, v): assert r.returncode == 0, r.stderr
    assert not [l for l in q.stdout.splitlines() if l.startswith(('epoch ', 'Settings', 'Strategy')) or 'layer groups' in l], q.stdout
    assert 'lp_ft with 1 epoch runs 1 of the 2 phases of its recipe.' in q.stdout  # a warning about the settings stays
    assert 'Validation metrics' in q.stdout and len(q.stdout.splitlines()) <= 15, q.stdout
    vl = v.stdout.splitlines()
    settings = [l for l in vl if l.startswith('Settings: ')]
    assert len(settings) == 1 and 'strategy=fine_tune' in settings[0] and 'size=32' in settings[0], v.stdout
    assert 'Strategy fine_tune: 2 phase(s) over 9 layer groups' in v.stdout, v.stdout
    phases = [l.strip() for l in vl if l.strip().startswith('phase ')]
    assert len(phases) == 2 and '1 of 9 groups training' in phases[0] and '9 of 9 groups training' in phases[1], phases
    assert vl.index(settings[0]) < min(i for i,l in enumerate(vl) if l.startswith('epoch '))  # before training
    assert [l.split()[1] for l in vl if l.startswith('epoch ')] == ['1/2', '2/2'], v.stdout
    assert len(vl) <= 30 and '\r' not in v.stdout
    c = ftkit('compare', sample_data(), '--strategies', 'feature_extract', '--epochs', 1, '--size', 32, '--fractions', 0.1, '--out', tmp_path/'c', '-v')
    assert c.returncode == 0, c.stderr
    assert [l for l in c.stdout.splitlines() if l.startswith('Settings: ')][0].count('strategies=feature_extract') == 1, c.stdout
    r = ftkit('train', sample_data(), '--quiet', '--verbose')
    assert r.returncode == 2 and 'not allowed with argument' in r.stderr  # one or the other

def test_compare_writes_tables_and_plots(tmp_path):
    from ftkit.vision.data import sample_data
    import pandas as pd
    out = tmp_path/'cmp'
    r = ftkit('compare', sample_data(), '--strategies', 'feature_extract,fine_tune', '--epochs', 2, '--size', 32, '--fractions', '0.1', '--out', out)
    assert r.returncode == 0, r.stderr
    assert 'feature_extract' in r.stdout and '±' in r.stdout
    assert '\r' not in r.stdout and [l.split(',')[0] for l in r.stdout.splitlines() if l.startswith('run ')] == ['run 1/2', 'run 2/2'], r.stdout  # a pipe: a line per run, no bar
    assert sorted(p.name for p in out.iterdir()) == ['comparison.csv', 'comparison.png', 'summary.csv']
    df = pd.read_csv(out/'comparison.csv')
    assert list(df.strategy) == ['feature_extract', 'fine_tune'] and set(df.n_train) == {80}
    for c in ('accuracy', 'precision_macro', 'recall_macro', 'f1_macro', 'valid_loss', 'wall_time_s', 'trainable_params', 'seed'): assert c in df.columns
    assert df.trainable_params[0] < df.trainable_params[1]

def test_train_with_a_strategy(tmp_path):
    from ftkit.vision.data import sample_data
    r = ftkit('train', sample_data(), '--strategy', 'gradual', '--epochs', 2, '--size', 32, '--out', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert m['strategy']['strategy'] == 'gradual' and m['epochs'] == 2
    r = ftkit('train', sample_data(), '--strategy', 'finetune', '--out', tmp_path)
    assert r.returncode == 2 and 'Unknown strategy' in r.stderr

def test_auto_reports_its_choice(tmp_path, chosen_by):
    "--strategy auto: a line per try in the output, what it tried and chose in metrics.json, its plot; the exported model is the chosen one"
    from ftkit.vision.data import sample_data
    from ftkit.export import load_model
    r = ftkit('train', sample_data(), '--strategy', 'auto', '--epochs', 2, '--size', 32, '--out', tmp_path)
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    a = m['auto']
    chosen_by(a, 'accuracy')  # the try the report's rows imply, by the task's main figure
    assert m['strategy']['strategy'] == 'auto' and m['monitor'] == 'accuracy' and m['summary'].startswith(f"auto chose {a['chosen']}")
    assert [t['stage'] for t in a['tries']][:4] == ['cache', 'probe', 'probe', 'probe'] and a['n_train'] + a['n_selection'] == m['n_train']
    assert sum(t['chosen'] for t in a['tries'] if t['stage'] != 'refit') == 1
    assert (m['forgetting']['body_unchanged'] is True) == (a['chosen'] == 'feature_extract')  # the probe leaves the body as it was
    lines = [l for l in r.stdout.splitlines() if l.startswith('auto')]
    assert sum(l.startswith('auto: linear probe') for l in lines) == 3 and sum(l.startswith(('auto: lp_ft', 'auto: fine_tune')) for l in lines) >= 2 and lines[-1].startswith('auto chose'), r.stdout
    from PIL import Image
    assert Image.open(tmp_path/'auto.png').format == 'PNG'
    assert m['strategy']['seed'] == m['seed'] == 42 and m['strategy']['patience'] == m['patience'] == 3  # --seed and --patience reach auto
    assert len(pd.read_csv(tmp_path/'history.csv')) == m['epochs_run'] > 0
    pred = load_model(tmp_path)
    assert abs(pred.cfg['metrics']['accuracy'] - m['accuracy']) < 1e-9
    r = ftkit('train', sample_data(), '--budget', '1m', '--out', tmp_path/'x')
    assert r.returncode == 2 and '--strategy auto' in r.stderr
    r = ftkit('train', sample_data(), '--strategy', 'auto', '--budget', 'soon', '--out', tmp_path/'x')
    assert r.returncode == 2 and '90s' in r.stderr

def test_regularisation_balance_and_early_stopping_options(tmp_path):
    from ftkit.vision.data import sample_data
    # a learning rate of zero and a frozen body (BatchNorm included): the model never changes, so f1_macro never improves
    # on the first epoch, and patience 1 stops the run after the second, every time
    r = ftkit('train', sample_data(), '--strategy', 'feature_extract', '--epochs', 4, '--size', 32, '--lr', 0, '--aug', 'light', '--mix', 'mixup',
              '--balance', 'oversample', '--ps', 0.2, '--wd', 0.05, '--label-smoothing', 0.1, '--patience', 1, '--monitor', 'f1_macro', '--out', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert (m['aug'], m['mix'], m['balance'], m['ps'], m['wd'], m['label_smoothing'], m['patience'], m['monitor']) == ('light', 'mixup', 'oversample', 0.2, 0.05, 0.1, 1, 'f1_macro')
    assert m['cached_features'] is False  # augmented and mixed images: no cache
    h = pd.read_csv(tmp_path/'history.csv')
    assert len(h) == 2 and h.f1_macro[0] == h.f1_macro[1]
    assert (m['best_epoch'], m['restored_epoch'], m['stopped_epoch'], m['epochs_run']) == (1, 1, 2, 2)
    assert 'Stopped early after epoch 2' in m['summary']
    assert abs(m['f1_macro']-h.f1_macro[0]) < 1e-6
    assert m['forgetting']['body_drift'] == 0 and m['forgetting']['imagenet_agreement'] == 1
    assert len(m['forgetting']['group_drift']) == 9 and m['forgetting']['group_drift'][-1] is None
    json.loads((tmp_path/'metrics.json').read_text(), parse_constant=lambda c: pytest.fail(f'{c} in metrics.json'))
    r = ftkit('train', sample_data(), '--strategy', 'fine_tune', '--epochs', 2, '--size', 32, '--lr', 1e-2, '--l2sp', 10, '--patience', 0, '--no-restore-best', '--out', tmp_path/'l2sp', '--quiet')
    assert r.returncode == 0, r.stderr
    l2 = json.loads((tmp_path/'l2sp'/'metrics.json').read_text())
    assert l2['wd'] == 0  # L2-SP replaces weight decay: the optimizer ran with none
    r = ftkit('train', sample_data(), '--strategy', 'fine_tune', '--epochs', 2, '--size', 32, '--lr', 1e-2, '--patience', 0, '--no-restore-best', '--out', tmp_path/'plain', '--quiet')
    plain = json.loads((tmp_path/'plain'/'metrics.json').read_text())
    assert l2['l2sp'] == 10 and plain['l2sp'] is None and plain['wd'] == 0.01
    # --no-restore-best: the model saved is the last epoch's, whatever the best was
    h = pd.read_csv(tmp_path/'plain'/'history.csv')
    assert plain['restored_epoch'] is None and plain['best_epoch'] == int(h.valid_loss.idxmin())+1
    assert abs(plain['valid_loss']-h.valid_loss.iloc[-1]) < 1e-4 and abs(plain['accuracy']-h.accuracy.iloc[-1]) < 1e-6
    assert l2['forgetting']['body_drift'] < 0.8*plain['forgetting']['body_drift'], (l2['forgetting'], plain['forgetting'])
    r = ftkit('train', sample_data(), '--weights', 'none', '--l2sp', 1, '--out', tmp_path/'x')
    assert r.returncode == 2 and 'needs pretrained weights' in r.stderr
    r = ftkit('train', sample_data(), '--balance', 'sideways', '--out', tmp_path)
    assert r.returncode == 2 and 'invalid choice' in r.stderr
    r = ftkit('train', sample_data(), '--monitor', 'f2', '--epochs', 2, '--size', 32, '--out', tmp_path/'x', '--quiet')
    assert r.returncode == 2 and "cannot watch 'f2'" in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert r.stderr.startswith('ftkit train: error: BestModel cannot watch') and len(r.stderr.strip().splitlines()) == 1, r.stderr  # not fastai's rewording

def test_predict_on_a_folder_with_unreadable_files(fe_run, tmp_path):
    import shutil
    from ftkit.vision.data import sample_data
    run = fe_run
    imgs = tmp_path/'new photos é'
    (imgs/'sub').mkdir(parents=True)
    for f in sorted((sample_data()/'valid'/'trouser').glob('*.png'))[:3]: shutil.copy(f, imgs/'sub'/f.name)
    (imgs/'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0'*20)
    (imgs/'readme.jpg').write_text('not an image')
    r = ftkit('predict', run, imgs, '--format', 'json', '--top-k', 2)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 5
    errors = {Path(x['file']).name for x in rows if 'error' in x}
    assert errors == {'broken.png', 'readme.jpg'}
    assert '2 of 5 input(s) could not be predicted' in r.stderr
    good = [x for x in rows if 'label' in x]
    assert all(len(x['top_k']) == 2 for x in good)
    r = ftkit('predict', run, imgs/'sub')
    assert r.returncode == 0 and r.stdout.splitlines()[0] == 'file,label,prob,top_k,error' and len(r.stdout.splitlines()) == 4
    r = ftkit('predict', tmp_path/'nomodel', imgs)
    assert r.returncode == 2 and 'does not exist' in r.stderr
    r = ftkit('predict', run, imgs, '--backend', 'onnx')
    assert r.returncode == 2 and 'has no model.onnx' in r.stderr
    r = ftkit('export', run, '--onnx')
    assert r.returncode == 0, r.stderr
    assert 'max abs difference in probabilities' in r.stdout and (run/'model.onnx').is_file()
    r = ftkit('predict', run, imgs, '--format', 'json', '--backend', 'onnx')
    assert r.returncode == 0, r.stderr
    assert [x.get('label') for x in json.loads(r.stdout)] == [x.get('label') for x in rows]
    assert (run/'README.md').is_file()  # the model card, written by every export
    r = ftkit('export', run, '--int8')
    assert r.returncode == 2 and '--data' in r.stderr, r.stderr
    r = ftkit('export', run, '--max-drop', 5)
    assert r.returncode == 2 and '--max-drop only goes with --int8' in r.stderr, r.stderr
    r = ftkit('export', run, '--int8', '--data', sample_data()/'valid', '--repeats', 3, '--max-drop', 5)  # calibrated on the train/ folder beside valid/ (200 images: one answer is half a point)
    assert r.returncode == 0, r.stderr
    q = json.loads((run/'quantization.json').read_text())
    assert q['kept'] and q['method'].startswith('static') and f"{q['main_metric']}: {0.0-q['drop_points']:+.2f} points as int8" in r.stdout
    assert q['int8']['valid_loss'] != q['fp32']['valid_loss']  # the int8 file was scored, not the weights again
    assert '## int8 model' in (run/'README.md').read_text()
    r = ftkit('predict', run, imgs, '--format', 'json', '--backend', 'int8')  # rows of the same shape, the unreadable files' errors included
    assert r.returncode == 0, r.stderr
    rows8 = json.loads(r.stdout)
    assert [sorted(x) for x in rows8] == [sorted(x) for x in rows] and [x.get('error') for x in rows8] == [x.get('error') for x in rows]
    r = ftkit('evaluate', run, sample_data()/'valid', '--backend', 'int8')
    assert r.returncode == 0 and f"accuracy        {q['int8']['accuracy']:.4f}" in r.stdout, r.stdout  # the figures quantization.json recorded
    r = ftkit('export', run, '--int8', '--data', sample_data()/'valid', '--repeats', 1, '--max-drop', -100)  # no model can gain 100 points: refused
    assert r.returncode == 2 and 'was not written' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (run/'model.int8.onnx').exists() and not json.loads((run/'quantization.json').read_text())['kept']  # the earlier int8 model is gone with its figures
    assert '## int8 model' not in (run/'README.md').read_text()  # and the card says so
    assert '--qat 2' in r.stderr, r.stderr  # what may close the gap, for a network that can be fine-tuned quantisation-aware
    r = ftkit('export', run, '--qat', 1)
    assert r.returncode == 2 and '--qat only goes with --int8' in r.stderr, r.stderr
    r = ftkit('export', run, '--int8', '--data', sample_data()/'valid', '--qat-lr', 1e-3)
    assert r.returncode == 2 and '--qat-lr only goes with --qat' in r.stderr, r.stderr
    r = ftkit('export', run, '--int8', '--data', sample_data()/'valid', '--qat', 1, '--repeats', 1, '--max-drop', 100)
    assert r.returncode == 0, r.stderr
    q = json.loads((run/'quantization.json').read_text())
    assert q['kept'] and {k:v for k,v in q['qat'].items() if k!='fp32'} == dict(epochs=1, lr=1e-4, items=800, seed=0) and 'quantisation-aware fine-tuning on 800 training items' in q['method'], q
    assert f"accuracy of the fine-tuned fp32 copy the int8 model was made from: {q['qat']['fp32']['accuracy']:.4f}" in r.stdout, r.stdout
    assert 'epoch 1/1  train_loss' in r.stdout and '\r' not in r.stdout, r.stdout  # through a pipe: a line per epoch, no progress bars
    assert 'quantisation-aware fine-tuning' in (run/'README.md').read_text()  # the card says how the int8 model was made

def test_demo_runs_the_quick_start(tmp_path):
    "The README's first command, as a user types it"
    r = ftkit('demo', '--epochs', 1, '--out', tmp_path/'demo', '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'demo'/'metrics.json').read_text())
    assert (m['n_train'], m['n_valid'], m['n_classes'], m['size'], m['strategy']['strategy']) == (800, 200, 10, 64, 'lp_ft')  # the image task's demo size
    assert m['accuracy'] > 0.4  # ten classes: chance is 0.1
    assert f"accuracy        {m['accuracy']:.4f}" in r.stdout and 'Model saved to' in r.stdout

def test_demo_of_the_text_task(tmp_path):
    "`ftkit demo --task text` trains on the text task's bundled sample, with no image setting"
    r = ftkit('demo', '--task', 'text', '--epochs', 1, '--max-len', 32, '--out', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert (m['task'], m['max_len'], m['n_classes'], m.get('size')) == ('text_classification', 32, 3, None)

def test_ft_groups_fine_tunes_the_top_groups_alone(tmp_path):
    "`--ft-groups 2`: lp_ft's fine-tuning moves the last transformer block and the head, and no group below; the run records it"
    r = ftkit('demo', '--task', 'text', '--epochs', 2, '--max-len', 32, '--ft-groups', 2, '--no-restore-best', '--out', tmp_path, '--quiet')  # (the fine-tuned weights kept, whichever epoch scored best)
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert m['strategy']['ft_groups'] == 2 and m['epochs_run'] == 2
    drift = m['forgetting']['group_drift']  # embeddings, six blocks, head (which has no pretrained counterpart: null)
    assert drift[:6] == [0.]*6 and drift[6] > 0 and drift[7] is None, drift
    r = ftkit('train', tmp_path/'x.csv', '--task', 'text', '--strategy', 'fine_tune', '--ft-groups', 2, '--out', tmp_path/'no')
    assert r.returncode == 2 and 'fine_tune does not take it' in r.stderr and 'Traceback' not in r.stderr, r.stderr

@pytest.mark.parametrize('task', ['multilabel', pytest.param('segmentation', marks=pytest.mark.slow)])  # (the same options and code: the U-Net's run is twice as long)
def test_bf16_and_workers_for_tags_and_masks(tmp_path, task):
    "Multi-label and segmentation in bf16 with two loader processes: trained, recorded, and written in float32"
    import torch
    r = ftkit('demo', '--task', task, '--epochs', 1, '--size', 32, '--precision', 'bf16', '--workers', 2, '--out', tmp_path/'run', '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    assert (m['precision'], m['workers'], m['epochs_run']) == ('bf16', 2, 1), m
    assert {t.dtype for t in load_file(tmp_path/'run'/'model.safetensors').values() if t.is_floating_point()} == {torch.float32}

def test_one_epoch_with_the_default_strategy(tmp_path):
    from ftkit.vision.data import sample_data
    r = ftkit('train', sample_data(), '--epochs', 1, '--size', 32, '--out', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'lp_ft with 1 epoch runs 1 of the 2 phases of its recipe' in r.stdout
    m = json.loads((tmp_path/'metrics.json').read_text())
    assert m['epochs_run'] == 1 and m['forgetting']['body_drift'] == 0  # the probe alone: the body did not move

def test_compare_from_scratch_with_weights_none(tmp_path):
    from ftkit.vision.data import sample_data
    r = ftkit('compare', sample_data(), '--strategies', 'scratch', '--weights', 'none', '--epochs', 1, '--size', 32, '--fractions', '0.1', '--out', tmp_path, '--quiet')
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(tmp_path/'comparison.csv').strategy.tolist() == ['scratch']
    r = ftkit('compare', sample_data(), '--strategies', 'fine_tune', '--weights', 'none', '--epochs', 2, '--size', 32, '--fractions', '0.1', '--out', tmp_path, '--quiet')
    assert r.returncode == 2 and "built with weights=None" in r.stderr and 'Traceback' not in r.stderr, r.stderr

def _refusals(tmp_path, run):
    "A class the model does not know, data of another task, unlabelled images or a column the task has no use for: each refused in one line"
    import shutil
    from ftkit.vision.data import sample_data
    test = tmp_path/'test'
    for c in ('bag', 'sandal'): shutil.copytree(sample_data()/'valid'/c, test/c)
    shutil.copytree(sample_data()/'valid'/'bag', test/'kitten')
    r = ftkit('evaluate', run, test)
    assert r.returncode == 2 and 'kitten' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    from ftkit.text.model import sample_text
    r = ftkit('evaluate', run, sample_text())
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = ftkit('evaluate', run, test, '--text-col', 'review')
    assert r.returncode == 2 and '--text-col does not apply to image_classification data' in r.stderr, r.stderr
    r = ftkit('evaluate', run, test/'bag')  # images without class folders: no labels
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
