"Text classification from the command line, run as a user runs it: in a subprocess, offline."
import json, os, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest
from conftest import evaluates_as_trained

BIN = Path(sys.executable).parent

def ftkit(*args, env=None, **kw):
    return subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True, timeout=900, env={**os.environ, **(env or {})}, **kw)

@pytest.fixture(scope='module')
def tweets(tmp_path_factory):
    "A smaller copy of the shipped sample, 60 tweets per class for training and 20 for validation, with renamed columns"
    from ftkit.text.model import sample_text
    df = pd.read_csv(sample_text())
    df = pd.concat([g.head(20) if v else g.head(60) for (v,_),g in df.groupby(['is_valid','label'])])
    fn = tmp_path_factory.mktemp('data')/'tweets.csv'
    df.rename(columns=dict(text='tweet', label='sentiment')).to_csv(fn, index=False)
    return fn

@pytest.fixture(scope='module')
def run(tweets, tmp_path_factory):
    "A feature-extraction run on the tweets, the task inferred from the CSV (no fname column)"
    out = tmp_path_factory.mktemp('runs')/'fe'
    r = ftkit('train', tweets, '--text-col', 'tweet', '--label-col', 'sentiment', '--strategy', 'feature_extract', '--epochs', 3, '--bs', 16, '--quiet', '--out', out)
    assert r.returncode == 0, r.stderr
    return out,r

def test_train_infers_the_task_and_writes_a_text_model(run):
    out,r = run
    assert 'Validation metrics (60 texts, 3 classes; feature_extract on 180 texts' in r.stdout
    m = json.loads((out/'metrics.json').read_text())
    assert (m['task'], m['arch'], m['text_col'], m['label_col'], m['max_len']) == ('text_classification', 'offline', 'tweet', 'sentiment', 128)
    assert 'size' not in m and 'aug' not in m  # image settings are not recorded for texts
    assert m['class_counts'] == dict(negative=60, neutral=60, positive=60)
    # the encoder was frozen: its embeddings did not move at all
    assert m['forgetting']['body_drift'] == 0 and m['forgetting']['embedding_similarity'] == pytest.approx(1, abs=1e-5) and m['forgetting']['neighbour_agreement'] == 1
    assert m['accuracy'] > 0.5  # three classes: chance is a third
    files = {p.name for p in out.iterdir()}
    assert {'model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'top_losses.png', 'metrics.json'} <= files
    assert not {'checkpoint.pt', 'best.safetensors'} & files
    cfg = json.loads((out/'config.json').read_text())
    assert (cfg['task'], cfg['pool'], cfg['encoder']['num_hidden_layers']) == ('text_classification', 'mean', 6)

def test_predict_texts_and_a_file(run, tmp_path):
    out,_ = run
    r = ftkit('predict', out, '@united thank you, a wonderful crew and a smooth flight', '@united lost my bag again, worst airline ever', '--format', 'json')
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    texts = ['@united thank you, a wonderful crew and a smooth flight', '@united lost my bag again, worst airline ever']
    assert [o['text'] for o in rows] == texts
    from ftkit.export import load_model
    want = load_model(out, device='cpu').predict(texts)  # the command's rows are the Predictor's, text for text
    assert [o['label'] for o in rows] == [o['label'] for o in want]
    assert [o['prob'] for o in rows] == pytest.approx([o['prob'] for o in want], abs=1e-5)
    assert all(abs(sum(p for _,p in o['top_k']) - 1) < 1e-4 for o in rows)  # three classes, all reported
    fn = tmp_path/'texts.txt'; fn.write_text('first text\n\nsecond text\n')
    r = ftkit('predict', out, '--file', fn)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == 'text,label,prob,top_k,error' and [l.split(',')[0] for l in lines[1:]] == ['first text', 'second text']
    # the same model, loaded without fastai, in a fresh process
    code = f"import sys\nfrom ftkit.export import load_model\np = load_model({str(out)!r}, device='cpu')\no = p.predict(texts[1])\nprint(o['label'], o['prob'], 'fastai' in sys.modules)"
    r = subprocess.run([sys.executable, '-c', code.replace('texts[1]', repr(texts[1]))], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    label,prob,fastai = r.stdout.split()
    assert (label, fastai) == (want[1]['label'], 'False') and float(prob) == pytest.approx(want[1]['prob'], abs=1e-5)

def test_evaluate_scores_the_validation_texts_as_training_did(run, tweets, tmp_path):
    "`ftkit evaluate` on the run's own validation tweets, its columns named, gives exactly the figures of its metrics.json"
    out,_ = run
    df = pd.read_csv(tweets)
    df[df.is_valid].drop(columns='is_valid').to_csv(tmp_path/'valid.csv', index=False)
    ev = evaluates_as_trained(ftkit, out, tmp_path/'valid.csv', tmp_path/'ev', '--text-col', 'tweet', '--label-col', 'sentiment')
    assert {c:o['support'] for c,o in ev['per_class'].items()} == dict(negative=20, neutral=20, positive=20)

def test_int8_text_model(run, tweets, tmp_path):
    "A transformer quantised dynamically (no calibration needed), its figures recorded beside fp32's, and given again by `ftkit evaluate --backend int8`"
    out,_ = run
    df = pd.read_csv(tweets)
    df[df.is_valid].drop(columns='is_valid').to_csv(tmp_path/'valid.csv', index=False)
    cols = ('--text-col', 'tweet', '--label-col', 'sentiment')
    r = ftkit('export', out, '--int8', '--data', tmp_path/'valid.csv', *cols, '--repeats', 3, '--max-drop', 5)  # 60 tweets: one answer changed is 1.67 points
    assert r.returncode == 0, r.stderr
    q = json.loads((out/'quantization.json').read_text())
    assert q['kept'] and q['method'].startswith('dynamic') and q['n'] == 60 and q['drop_points'] <= 5
    assert q['int8']['valid_loss'] != q['fp32']['valid_loss']  # the int8 file was scored, not the weights again
    assert q['size_mb']['model.int8.onnx'] < q['size_mb']['model.onnx']/2, q['size_mb']
    r = ftkit('evaluate', out, tmp_path/'valid.csv', *cols, '--backend', 'int8', '--out', tmp_path/'ev')
    assert r.returncode == 0, r.stderr
    ev = json.loads((tmp_path/'ev'/'metrics.json').read_text())
    assert {k:ev[k] for k in q['int8']} == q['int8']  # the recorded int8 figures are the int8 model's
    r = ftkit('export', out, '--int8', '--data', tmp_path/'valid.csv', *cols, '--qat', 1)  # nothing to fine-tune towards: refused in one line
    assert r.returncode == 2 and 'quantised dynamically' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = ftkit('predict', out, '@united lost my bag again, worst airline ever', '--format', 'json', '--backend', 'int8')
    assert r.returncode == 0 and set(json.loads(r.stdout)[0]) == {'text', 'label', 'prob', 'top_k'}, r.stderr

def test_image_settings_and_offline_hub_names_are_refused(tweets, tmp_path):
    r = ftkit('train', tweets, '--text-col', 'tweet', '--label-col', 'sentiment', '--size', 64, '--out', tmp_path)
    assert r.returncode == 2 and 'ftkit train: error: --size does not apply to text_classification' in r.stderr and 'Traceback' not in r.stderr
    r = ftkit('train', tweets, '--task', 'text', '--text-col', 'tweet', '--label-col', 'sentiment', '--arch', 'bert-base-uncased', '--out', tmp_path, env=dict(HF_HUB_OFFLINE='1'))
    assert r.returncode == 2 and 'the Hugging Face Hub cannot be reached' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    r = ftkit('train', tweets, '--out', tmp_path)  # columns named otherwise: said, with the options that fix it
    assert r.returncode == 2 and "Column(s) ['text', 'label'] not found" in r.stderr and '--text-col' in r.stderr

def test_a_folder_of_txt_files(tmp_path):
    "Class folders of .txt files (one not UTF-8) are a text task too"
    from ftkit.text.model import sample_text
    df = pd.read_csv(sample_text())
    for i,(t,y,v) in enumerate(zip(df.text, df.label, df.is_valid)):
        if i % 5: continue  # 120 of them
        d = tmp_path/'data'/('valid' if v else 'train')/y; d.mkdir(parents=True, exist_ok=True)
        (d/f'{i}.txt').write_text(t)
    (tmp_path/'data'/'train'/'positive'/'cafe.txt').write_bytes('caf\xe9, tr\xe8s bon'.encode('cp1252'))
    r = ftkit('train', tmp_path/'data', '--strategy', 'feature_extract', '--epochs', 1, '--quiet', '--out', tmp_path/'run')
    assert r.returncode == 0, r.stderr
    assert '1 file not UTF-8, read as Windows-1252: positive/cafe.txt' in r.stdout
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    assert m['task'] == 'text_classification' and m['n_train'] == 97 and m['n_valid'] == 24

def test_interrupted_text_run_resumes_to_the_same_numbers(tweets, tmp_path):
    "Batches by length, drawn by the loader's own generator, and the head's dropout: a resumed run repeats an uninterrupted one exactly"
    import signal, time
    args = ['train', tweets, '--text-col', 'tweet', '--label-col', 'sentiment', '--strategy', 'gradual', '--epochs', 3, '--seed', 1, '--quiet']
    a = tmp_path/'a'
    r = ftkit(*args, '--out', a)
    assert r.returncode == 0, r.stderr
    b = tmp_path/'b'
    p = subprocess.Popen([str(BIN/'ftkit'), *map(str, args), '--out', str(b)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time()+600
    while not ((b/'history.csv').exists() and len((b/'history.csv').read_text().strip().splitlines()) >= 2):
        assert p.poll() is None and time.time() < deadline, p.communicate()
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    _,err = p.communicate(timeout=300)
    assert p.returncode == 128+signal.SIGINT and 'ftkit train --resume' in err, err
    r = ftkit('train', '--resume', b, '--quiet')
    assert r.returncode == 0, r.stderr
    ma,mb = (json.loads((d/'metrics.json').read_text()) for d in (a, b))
    assert mb['resumed_after_epoch'] >= 1
    for k in ('accuracy', 'f1_macro', 'valid_loss', 'per_class', 'best_epoch'): assert ma[k] == mb[k], k
    ha,hb = (pd.read_csv(d/'history.csv').drop(columns='time') for d in (a, b))
    pd.testing.assert_frame_equal(ha, hb)

def test_compare_on_texts(tweets, tmp_path):
    "`ftkit compare` runs text strategies side by side, its task given, its columns named"
    r = ftkit('compare', tweets, '--task', 'text', '--text-col', 'tweet', '--label-col', 'sentiment', '--strategies', 'feature_extract,scratch',
              '--epochs', 1, '--quiet', '--out', tmp_path)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path/'comparison.csv')
    assert df.strategy.tolist() == ['feature_extract', 'scratch'] and set(df.n_train) == {180} and set(df.n_valid) == {60}
    fe = df.set_index('strategy').loc['feature_extract']
    assert fe.drift == 0 and fe.forgetting == 0 and fe.trainable_params == 384*3+3  # the head alone trains: 384 features, 3 classes
    assert df.set_index('strategy').loc['scratch'].trainable_params == 22_565_376+384*3+3  # everything trains: the whole encoder (its unused pooler dropped) and the head
