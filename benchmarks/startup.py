"""Start-up: what deferring TorchDynamo (`ftkit.core.defer_dynamo`) saves, whole processes, side by side in one run.

Each row is a fresh process timed from outside, the two ways interleaved, on the bundled image sample:
- the imports `ftkit train` makes for image classification (torch, fastai, timm, the strategies, evaluation, export);
- `ftkit train DATA --strategy feature_extract --epochs 5 --size 64 --bs 64` (head-only, the command nearest its floor);
each as the command runs now (torchvision and timm imported without TorchDynamo) and with `import torch._dynamo` first,
which is what every command did before: TorchDynamo already imported, `defer_dynamo` changes nothing.

Run: .venv/bin/python benchmarks/startup.py [--repeats 5]
Prints a table (best and median seconds, and the ratio deferred / eager) and writes benchmarks/startup.csv."""
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
    runs = {('imports of `ftkit train`', 'TorchDynamo deferred (now)'): lambda r: [sys.executable, '-c', IMPORTS],
            ('imports of `ftkit train`', 'TorchDynamo imported first (before)'): lambda r: [sys.executable, '-c', 'import torch._dynamo; ' + IMPORTS],
            ('`ftkit train --strategy feature_extract --epochs 5`', 'TorchDynamo deferred (now)'): lambda r: [BIN/'ftkit', *train, '--out', tmp/f'now{r}'],
            ('`ftkit train --strategy feature_extract --epochs 5`', 'TorchDynamo imported first (before)'): lambda r: [sys.executable, '-c', 'import torch._dynamo; ' + CLI, *train, '--out', tmp/f'before{r}']}
    rows = []
    for r in range(a.repeats):
        for (what,how),cmd in runs.items(): rows.append(dict(what=what, how=how, repeat=r, wall_s=timed(list(map(str, cmd(r))))))
        print('.', end='', flush=True)
    print()
    df = pd.DataFrame(rows)
    df.to_csv(a.out, index=False)
    t = df.groupby(['what','how'], sort=False).wall_s.agg(best_s='min', median_s='median').reset_index()
    for what,g in t.groupby('what', sort=False):
        now,before = g.set_index('how').loc['TorchDynamo deferred (now)'],g.set_index('how').loc['TorchDynamo imported first (before)']
        t.loc[g.index, 'saved_s'] = before.median_s-now.median_s
        t.loc[g.index, 'ratio_now_before'] = now.median_s/before.median_s
    print(f'Whole processes, {a.repeats} interleaved repeats each, on the bundled image sample:')
    print(t.to_string(index=False, float_format=lambda v: f'{v:.2f}'))

if __name__=='__main__': main()
