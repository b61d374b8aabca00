"""Start-up: what deferring TorchDynamo (`ftkit.core.defer_dynamo`) and the libraries fastai imports for functions a run
never calls (`ftkit.core.defer_unused`: scikit-learn, SciPy's statistics and image filters, requests) save, whole processes,
side by side in one run.

Each row is a fresh process timed from outside, the ways interleaved, on the bundled image sample:
- the imports `ftkit train` makes for image classification (torch, fastai, timm, the strategies, evaluation, export);
- `ftkit train DATA --strategy feature_extract --epochs 5 --size 64 --bs 64` (head-only, the command nearest its floor);
each as the command runs now (both deferred), with fastai's unused libraries imported first (as every command did before
`defer_unused`: then nothing is deferred there), and with `import torch._dynamo` first (as before `defer_dynamo`).

Run: .venv/bin/python benchmarks/startup.py [--repeats 5]
Prints a table (best and median seconds, and each way's median against now's) and writes benchmarks/startup.csv."""
import argparse, subprocess, sys, tempfile, time
from pathlib import Path
import pandas as pd

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
IMPORTS = ("import importlib, torch; from ftkit.core import get_task; "
           "[importlib.import_module(m) for m in ('ftkit.strategies', 'ftkit.evaluate', 'ftkit.export', *get_task('image_classification').modules)]; "
           "import os; os._exit(0)")  # (no teardown of the imported modules at exit, as the command skips it)
CLI = "from ftkit.cli import command; command()"

def timed(cmd)->float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    return time.perf_counter()-t

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', default=str(HERE/'startup.csv'))
    a = p.parse_args()
    from ftkit.vision.data import sample_data
    data,tmp = str(sample_data()),Path(tempfile.mkdtemp())
    train = ['train', data, '--strategy', 'feature_extract', '--epochs', '5', '--size', '64', '--bs', '64', '--quiet']
    ways = {'now (both deferred)': '',
            "fastai's unused libraries imported first (before)": 'import sklearn.metrics, sklearn.model_selection, scipy.stats, scipy.ndimage, requests; ',
            'TorchDynamo imported first (before)': 'import torch._dynamo; '}
    runs = {}
    for i,(how,first) in enumerate(ways.items()):
        runs[('imports of `ftkit train`', how)] = lambda r, first=first: [sys.executable, '-c', first + IMPORTS]
        runs[('`ftkit train --strategy feature_extract --epochs 5`', how)] = lambda r, first=first, i=i: [sys.executable, '-c', first + CLI, *train, '--out', tmp/f'way{i}_{r}']
    rows = []
    for r in range(a.repeats):
        for (what,how),cmd in runs.items(): rows.append(dict(what=what, how=how, repeat=r, wall_s=timed(list(map(str, cmd(r))))))
        print('.', end='', flush=True)
    print()
    df = pd.DataFrame(rows)
    df.to_csv(a.out, index=False)
    t = df.groupby(['what','how'], sort=False).wall_s.agg(best_s='min', median_s='median').reset_index()
    for what,g in t.groupby('what', sort=False):
        now = g.set_index('how').loc['now (both deferred)'].median_s
        t.loc[g.index, 'saved_s'] = g.median_s-now
        t.loc[g.index, 'ratio_now_to_it'] = now/g.median_s
    print(f'Whole processes, {a.repeats} interleaved repeats each, on the bundled image sample:')
    print(t.to_string(index=False, float_format=lambda v: f'{v:.2f}'))

if __name__=='__main__': main()
