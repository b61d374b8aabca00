"Multi-label image classification through the command line, as a user runs it, on the composited sample."
import json, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd
from conftest import evaluates_as_trained

BIN = Path(sys.executable).parent

def ftkit(*args, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900, **kw)

def test_train_predict_and_export_a_multilabel_model(tmp_path):
    from ftkit.vision.data import multilabel_sample
    from ftkit.vision.task import choose_threshold
    from ftkit.export import load_model
    csv = multilabel_sample()
    out = tmp_path/'run'
    r = ftkit('train', csv, '--size', '64', '--epochs', '4', '--out', out, '-q')  # the task inferred from the fname,labels columns
    assert r.returncode == 0, r.stderr
    assert json.loads((out/'metrics.json').read_text())['strategy']['strategy'] == 'fine_tune'  # multi-label's default (`ImageMultiLabel.default_strategy`, by benchmarks/defaults.py)
    assert 'f1_micro' in r.stdout and 'mAP' in r.stdout and 'threshold' in r.stdout
    m,cfg = json.loads((out/'metrics.json').read_text()),json.loads((out/'config.json').read_text())
    assert m['task'] == cfg['task'] == 'image_multilabel' and cfg['multi_label']
    df = pd.read_csv(csv, keep_default_na=False)
    valid = df[df.is_valid].reset_index(drop=True)
    vocab = cfg['classes']
    y = np.array([[c in row.split() for c in vocab] for row in valid.labels], dtype=int)
    assert m['mAP'] > y.mean() + 0.1, (m['mAP'], y.mean())  # chance: a label's prevalence
    # the exported threshold is the one chosen on the validation set: recomputed here from the exported model's own probabilities
    pred = load_model(out)
    p = pred.probs([str(csv.parent/f) for f in valid.fname]).numpy()
    assert cfg['threshold'] == m['threshold'] == choose_threshold(y, p)
    # ... and the F1 recorded is that threshold's on those probabilities
    from sklearn.metrics import f1_score
    assert abs(f1_score(y, p >= cfg['threshold'], average='micro', zero_division=0) - m['f1_micro']) < 1e-6
    assert (out/'report.csv').exists() and (out/'class_f1.png').exists() and not (out/'top_losses.png').exists()
    # `ftkit evaluate` on the validation rows, scored with the exported threshold: the run's figures
    vcsv = tmp_path/'valid.csv'
    valid.assign(fname=[str(csv.parent/f) for f in valid.fname]).drop(columns='is_valid').to_csv(vcsv, index=False)
    evaluates_as_trained(ftkit, out, vcsv, tmp_path/'ev')
    # predict: every label over the threshold, most likely first
    files = [csv.parent/f for f in valid.fname[:6]]
    r = ftkit('predict', out, *files, '--format', 'json')
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    for row,pr in zip(rows, p[:6]):
        want = [vocab[i] for i in np.argsort(-pr) if pr[i] >= cfg['threshold']]
        assert [c for c,_ in row['labels']] == want and row['label'] == ' '.join(want)
    r = ftkit('export', out, '--onnx')  # parity of ONNX Runtime's sigmoids with PyTorch's, checked by the command
    assert r.returncode == 0 and (out/'model.onnx').exists(), r.stderr
    rows_onnx = [json.loads(l) for l in [ftkit('predict', out, *files, '--format', 'json', '--backend', 'onnx').stdout]][0]
    assert [o['label'] for o in rows_onnx] == [o['label'] for o in rows]

def test_multilabel_refuses_what_does_not_apply(tmp_path):
    from ftkit.vision.data import multilabel_sample
    r = ftkit('train', multilabel_sample(), '--balance', 'oversample', '--out', tmp_path)
    assert r.returncode == 2 and 'does not apply' in r.stderr, r.stderr
    r = ftkit('train', multilabel_sample(), '--label-smoothing', '0.1', '--out', tmp_path)
    assert r.returncode == 2 and '--label-smoothing does not apply' in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_compare_multilabel_strategies_and_auto(tmp_path, chosen_by):
    import pandas as pd
    from ftkit.all import multilabel_sample, multilabel_dls, selection_split, compare_strategies, get_strategy
    from ftkit.core import get_task
    # on the sample, auto's selection split holds every label that two items or more carry
    task = get_task('multilabel')
    ds = multilabel_dls(multilabel_sample(), size=32, device='cpu').train_ds
    y = np.stack([ds.tls[1][j].numpy() for j in range(len(ds))]).astype(bool)
    keep,sel = selection_split(task.item_labels(ds), 0.15, 0)
    assert all(y[sel, c].any() for c in range(y.shape[1]) if y[:, c].sum() >= 2)
    df = compare_strategies(multilabel_sample(), strategies=['feature_extract', 'auto'], epochs=1, size=32, progress=False, task='multilabel').set_index('strategy')
    assert {'f1_micro','f1_macro','f1_samples','mAP','threshold'} <= set(df.columns) and 'accuracy' not in df.columns
    assert df.trainable_params['feature_extract'] == 1280*y.shape[1] + y.shape[1]  # the head alone
    assert df.drift['auto'] == 0 and df.forgetting['auto'] == 0  # with one epoch, auto's budget holds the probe alone: the body as pretrained
    learn = task.learner(multilabel_dls(multilabel_sample(), size=32, device='cpu'))
    learn.fit_strategy(get_strategy('auto', 1, monitor='f1_macro'))
    assert learn.auto.monitor == 'f1_macro' and learn.auto.chosen == 'feature_extract'
    assert learn.auto.rows[-1]['stage'] == 'refit'  # the probe trained again on training and selection items together (one-hot targets)
    learn = task.learner(multilabel_dls(multilabel_sample(), size=32, device='cpu'))
    with learn.no_bar(): learn.fit_strategy(get_strategy('auto', 2))  # the probe, then fine-tuning tries, chosen by mAP
    rep = learn.auto.to_dict()
    assert rep['monitor'] == 'mAP' and [t['stage'] for t in rep['tries']].count('candidate') == 2
    chosen_by(rep, 'mAP')
    r = ftkit('compare', multilabel_sample(), '--strategies', 'feature_extract', '--epochs', '1', '--size', '32', '--fractions', '0.25,1', '--out', tmp_path, '-q')
    assert r.returncode == 0 and 'mAP' in r.stdout, r.stderr
    runs = pd.read_csv(tmp_path/'comparison.csv')
    assert 'mAP' in runs.columns and runs.set_index('fraction').n_train.to_dict() == {0.25: 81, 1.0: 320}  # a quarter of the training images, label by label
    assert (tmp_path/'learning_curve.png').exists()
