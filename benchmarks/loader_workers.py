"""Data-loader processes on a CPU: one full fine-tuning epoch of the offline MobileNetV2 on the bundled sample,
loading in the main process (num_workers=0, ftkit's default) vs in worker processes, side by side in one run.

Run: .venv/bin/python benchmarks/loader_workers.py [--size 64] [--repeats 3] [--workers 0 2]
Prints a table (best of `repeats` epochs per setting) and the ratio to num_workers=0; writes it as CSV and JSON
next to this script (loader_workers.csv/.json).
"""
import argparse, json, time
from pathlib import Path
import pandas as pd, torch
from ftkit.core import seed_everything
from ftkit.vision.data import image_dls, sample_data
from ftkit.vision.learner import ft_learner

def epoch_time(num_workers, size, bs):
    seed_everything(0)
    dls = image_dls(sample_data(), size=size, bs=bs, arch='mobilenetv2_100', num_workers=num_workers)
    learn = ft_learner(dls, 'mobilenetv2_100')
    learn.unfreeze()
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    return time.perf_counter()-start

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    args = p.parse_args()
    rows = []
    for r in range(args.repeats):  # interleaved, so that drift on a shared machine hits every setting alike
        for w in args.workers: rows.append(dict(num_workers=w, repeat=r, epoch_s=epoch_time(w, args.size, args.bs)))
    df = pd.DataFrame(rows).groupby('num_workers').epoch_s.agg(['min','median']).rename(columns={'min':'best_s','median':'median_s'})
    df['ratio_to_0'] = df.best_s/df.best_s.loc[args.workers[0]]
    print(f'One training epoch, MobileNetV2, {args.size} px, bs {args.bs}, {torch.get_num_threads()} torch threads, best of {args.repeats}:')
    print(df.round(3).to_string())
    out = Path(__file__).with_suffix('')
    df.to_csv(f'{out}.csv'); Path(f'{out}.json').write_text(json.dumps(df.reset_index().to_dict(orient='records'), indent=2))
