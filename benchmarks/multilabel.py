"""Multi-label classification on the composited sample: a pretrained backbone against the same network from scratch
at an equal budget, with all the labelled training images and with fewer of them.

    python benchmarks/multilabel.py                         # 64 px, 6 epochs, seeds 0 1 2, 25/50/100% of the training images
    python benchmarks/multilabel.py --size 96 --epochs 10 --fractions 0.5 1

Every row is a whole `ftkit train` command timed from outside, side by side in one run, with the same epochs, batch
size and image size: fine_tune and feature_extract from the offline ImageNet weights, scratch (`--weights none`).
Figures on the (always whole) validation set: mAP (threshold-free), micro and macro F1 at the threshold each run
chose on the validation set, wall time of the command.

Table 1: every training image, each strategy, mean and spread over seeds, and the ratio of each strategy's mAP and
wall time to scratch's. Table 2: fine_tune and scratch on a share of the training images (the first rows of the CSV's
training rows in a seeded shuffle, the same share for both), which shows how many labels the pretrained network
saves. Writes benchmarks/multilabel.csv."""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd

BIN = Path(sys.executable).parent

def subset_csv(src:Path, frac:float, seed:int, dest:Path)->Path:
    "A copy of the labels CSV that keeps a share `frac` of the training rows (every validation row), the images read from `src`'s folder"
    df = pd.read_csv(src, keep_default_na=False)
    valid = df.is_valid  # (multilabel_dls takes only True or False there)
    tr = df[~valid].sample(frac=1, random_state=seed).iloc[:max(1, round(frac*(~valid).sum()))]
    out = pd.concat([tr, df[valid]]).assign(fname=lambda d: [str(src.parent/f) for f in d.fname])
    out.to_csv(dest, index=False)
    return dest

def run_train(a, csv, strategy, seed, out, frac):
    cmd = [str(BIN/'ftkit'), 'train', str(csv), '--size', str(a.size), '--bs', str(a.bs), '--strategy', strategy, '--epochs', str(a.epochs),
           '--seed', str(seed), '--out', str(out), '-q', '--no-forgetting']
    if strategy=='scratch': cmd += ['--weights', 'none']
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    m = json.loads((out/'metrics.json').read_text())
    return dict(strategy=strategy, fraction=frac, n_train=m['n_train'], seed=seed, mAP=m['mAP'], f1_micro=m['f1_micro'], f1_macro=m['f1_macro'],
                threshold=m['threshold'], wall_s=round(time.perf_counter()-t, 2), training_s=m['time_s']['training'])

def table(runs:pd.DataFrame, by):
    return runs.groupby(by).agg(runs=('seed', 'size'), n_train=('n_train', 'first'), mAP=('mAP', 'mean'), mAP_std=('mAP', 'std'),
                                f1_micro=('f1_micro', 'mean'), f1_macro=('f1_macro', 'mean'), wall_s=('wall_s', 'mean')).reset_index()

def main():
    from ftkit.vision.data import multilabel_sample
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=str(multilabel_sample()), help='A labels CSV (fname,labels,is_valid)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--bs', type=int, default=32)
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--fractions', type=float, nargs='+', default=[0.25, 0.5, 1.0], help='Shares of the training images for table 2')
    a = p.parse_args()
    src,rows = Path(a.data),[]
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for seed in a.seeds:
            for frac in sorted(a.fractions):
                csv = src if frac>=1 else subset_csv(src, frac, seed, d/f'labels_{frac}_{seed}.csv')
                for s in (('fine_tune', 'feature_extract', 'scratch') if frac>=1 else ('fine_tune', 'scratch')):
                    rows.append(run_train(a, csv, s, seed, d/f'{s}_{frac}_{seed}', frac)); print(rows[-1], flush=True)
    runs = pd.DataFrame(rows)
    full = table(runs[runs.fraction>=1], 'strategy')
    ref = full.set_index('strategy').loc['scratch']
    full['mAP_vs_scratch'] = (full.mAP/ref.mAP).round(2)
    full['wall_vs_scratch'] = (full.wall_s/ref.wall_s).round(2)
    print(f"\nMulti-label sample, {a.size} px, batch {a.bs}, {a.epochs} epochs, {os.cpu_count()} cores; whole commands, seeds {a.seeds}\n")
    print(full.round(3).to_string(index=False))
    fr = table(runs[runs.strategy.isin(['fine_tune', 'scratch'])], ['fraction', 'strategy'])
    wide = fr.pivot(index='fraction', columns='strategy', values='mAP')
    print(f"\nmAP with a share of the training images (validation set whole):\n")
    print(fr.round(3).to_string(index=False))
    best_scratch = wide['scratch'].max()
    enough = wide.index[wide['fine_tune'] >= best_scratch]
    print(f"\nfine_tune / scratch mAP at each share: " + ', '.join(f"{f:g}: {r:.2f}" for f,r in (wide['fine_tune']/wide['scratch']).items()))
    if len(enough): print(f"fine_tune reaches scratch's best mAP ({best_scratch:.3f}) with {enough.min():g} of the training images")
    else: print(f"fine_tune does not reach scratch's best mAP ({best_scratch:.3f}) with fewer images")
    out = Path(__file__).parent/'multilabel.csv'
    runs.to_csv(out, index=False)
    print(f"\nWrote {out}")

if __name__ == '__main__': main()
