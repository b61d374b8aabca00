"""Detection: `ftkit train --task detection` against a hand-written torchvision fine-tuning script, and the pretrained
backbone against the same detector from scratch.

    python benchmarks/detection.py                          # both sets, seeds 0 1 2, 10 epochs
    python benchmarks/detection.py --sets sample --seeds 0 --epochs 3

Table 1, each row a whole process timed from outside, side by side in one run, per set and seed:
- `ftkit train DATA --task detection --size 96 --seed S`: ftkit's default (fine_tune, 10 epochs), at the images' own
  size (the command's default size, 224, is ImageNet's, for images of every size);
- `python benchmarks/torchvision_detection.py DATA --size 96 --seed S`: the same FCOS and backbone weights, trained by
  torchvision's recipe (SGD with momentum, warm-up, step decay; see that file) for the same epochs, at the same size,
  scoring COCO mAP after every epoch as the tutorial's loop does (`evaluate(model, data_loader_test)` each epoch);
- the same with `--eval-at-end` ("recipe, scored at the end"): scored once, after the last epoch, the cheapest way to run
  the recipe, shown beside it (`wall_vs_end_only`); its batches are flipped differently (the per-epoch evaluation's
  loader draws from torch's global generator), so its mAP differs by the seed's noise, not by the scoring;
- `ftkit train DATA --task detection --size 96 --weights none`: the same detector from scratch (random backbone).
COCO mAP, mAP50 and recall on the validation images, wall time; `training_s`, ftkit's training stage (with its
per-epoch validation) and the script's epochs (with their evaluation, and the end-only run's final one).

`s_to_recipe_map`: seconds into ftkit's default command (its own clock, `epoch_end_s`) at the end of the first epoch
whose validation mAP reached the recipe's final mAP for the same seed: a point inside ftkit's run, not a whole command.

Table 2, in one process: epochs of the whole detector (backbone unfrozen) and a validation pass with mAP, ftkit's
learner (`fit_one_cycle`, its metrics included) against the hand-written loop (same model, batch size and images),
each epoch's seconds and the process's resident memory after it; the ratio is ftkit's median epoch over the loop's
(the target is 1.1 or less), and memory should stay flat from the second epoch on. The loop scores mAP with
pycocotools, as torchvision's reference does; ftkit with faster-coco-eval (the same figures), so the loop is also run
with that backend, and both ratios are printed.

Sets: the bundled sample (320 + 100 composited images) and `det-other`, 400 + 160 images composited the same way from
other Fashion-MNIST items (Debian's dataset-fashion-mnist) with another seed (benchmarks/defaults.py). Writes
benchmarks/detection.csv.
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from speed import _timed, BIN

def sets(names, cache):
    from ftkit.vision.image import detection_sample
    from defaults import composited
    res = {'sample': lambda: detection_sample(), 'det-other': lambda: composited('detection', Path(cache)/'det_other', dict(train=400, valid=160), 4)}
    return {n: res[n]() for n in names}

def ftkit_train(data, out, seed, epochs, size, *opts):
    wall,_ = _timed([BIN/'ftkit', 'train', data, '--task', 'detection', '--size', size, '--seed', seed, '--epochs', epochs, '--out', out, '--quiet', *opts])
    m = json.loads((Path(out)/'metrics.json').read_text())
    h = pd.read_csv(Path(out)/'history.csv')
    return dict(map=m['map'], map_50=m['map_50'], mar_100=m['mar_100'], wall_s=round(wall, 2), training_s=m['time_s']['training'],
                curve=json.dumps([[t, round(v, 4)] for t,v in zip(m['epoch_end_s'], h['map'])]))  # (seconds into the command, validation mAP) at each epoch's end

def hand_train(data, seed, epochs, size, *opts):
    wall,out = _timed([sys.executable, HERE/'torchvision_detection.py', data, '--size', size, '--seed', seed, '--epochs', epochs, *opts])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(map=r['map'], map_50=r['map_50'], mar_100=r['mar_100'], wall_s=round(wall, 2), training_s=round(sum(r['epoch_s']), 2))

def _reach(r, runs):
    "Seconds into ftkit's default command at the end of its first epoch whose validation mAP reached the torchvision recipe's final mAP (same set and seed); NaN if it never did"
    if r.run!='ftkit default': return float('nan')
    target = runs[(runs.set==r.set) & (runs.seed==r.seed) & (runs.run=='torchvision recipe')]['map'].iloc[0]
    return next((t for t,v in json.loads(r.curve) if v >= target), float('nan'))

def epochs_ftkit(data, n, bs, seed):
    "Each epoch's seconds and the resident memory after it: ftkit's detection learner, everything unfrozen"
    from fastai.callback.core import Callback
    from ftkit.all import seed_everything, detection_dls, detection_learner
    from torchvision_detection import rss_mb
    class Clock(Callback):
        def before_epoch(self): self.t = time.perf_counter()
        def after_epoch(self): rows.append(dict(run='ftkit', epoch=self.epoch+1, epoch_s=time.perf_counter()-self.t, rss_mb=rss_mb()))
    rows = []
    seed_everything(seed)
    learn = detection_learner(detection_dls(data, bs=bs, seed=seed, verbose=False), weights='offline')
    learn.unfreeze()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(n, 1e-3, cbs=Clock())
    return rows

def epochs_hand(data, n, bs, seed, backend='pycocotools'):
    "The same for the hand-written loop: a training epoch, then the validation pass with mAP (computed with `backend`)"
    import torch
    from torchvision_detection import loaders, build, train_epoch, evaluate, rss_mb
    torch.manual_seed(seed)
    tr,va = loaders(Path(data), bs, seed)
    model = build(len(tr.dataset.coco.cats), 96, 'offline')
    opt = torch.optim.SGD([q for q in model.parameters() if q.requires_grad], lr=0.02, momentum=0.9, weight_decay=1e-4)
    rows = []
    for e in range(n):
        t = time.perf_counter()
        train_epoch(model, opt, tr); evaluate(model, va, backend)
        rows.append(dict(run='torchvision loop' + ('' if backend=='pycocotools' else f', {backend}'), epoch=e+1, epoch_s=time.perf_counter()-t, rss_mb=rss_mb()))
    return rows

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sets', nargs='+', default=['sample', 'det-other'])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--epoch-runs', type=int, default=4, help='epochs of table 2, per run')
    p.add_argument('--bs', type=int, default=16)
    p.add_argument('--size', type=int, default=96, help="the images' side in both runs (the sets' own)")
    p.add_argument('--cache', default=str(Path.home()/'.cache'/'ftkit-benchmarks'))
    a = p.parse_args()
    data = sets(a.sets, a.cache)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name,src in data.items():
            for seed in a.seeds:
                for run,fn in (('ftkit default', lambda: ftkit_train(src, Path(d)/f'{name}_ft_{seed}', seed, a.epochs, a.size)),
                               ('torchvision recipe', lambda: hand_train(src, seed, a.epochs, a.size)),
                               ('recipe, scored at the end', lambda: hand_train(src, seed, a.epochs, a.size, '--eval-at-end')),
                               ('ftkit scratch', lambda: ftkit_train(src, Path(d)/f'{name}_sc_{seed}', seed, a.epochs, a.size, '--weights', 'none'))):
                    rows.append(dict(set=name, run=run, seed=seed, **fn())); print(rows[-1], flush=True)
    runs = pd.DataFrame(rows)
    runs['s_to_recipe_map'] = [_reach(r, runs) for r in runs.itertuples()]
    print(f"\nDetection, {a.epochs} epochs, {a.size} px, batch 16, {os.cpu_count()} cores; whole processes, seeds {a.seeds}\n")
    t1 = runs.groupby(['set', 'run'], sort=False).agg(map=('map', 'mean'), map_sd=('map', 'std'), map_50=('map_50', 'mean'), mar_100=('mar_100', 'mean'),
                                                    wall_s=('wall_s', 'mean'), s_to_recipe_map=('s_to_recipe_map', 'mean')).reset_index()
    for name in data:
        here = t1['set']==name
        ref = t1[here].set_index('run').loc['torchvision recipe']
        t1.loc[here, 'map_vs_torchvision'] = t1.loc[here, 'map']/ref['map']
        t1.loc[here, 'wall_vs_torchvision'] = t1.loc[here, 'wall_s']/ref['wall_s']
        t1.loc[here, 'wall_vs_end_only'] = t1.loc[here, 'wall_s']/t1[here].set_index('run').loc['recipe, scored at the end', 'wall_s']
    print(t1.round(3).to_string(index=False))
    src = next(iter(data.values()))
    ep = pd.DataFrame(epochs_ftkit(src, a.epoch_runs, a.bs, a.seeds[0]) + epochs_hand(src, a.epoch_runs, a.bs, a.seeds[0])
                       + epochs_hand(src, a.epoch_runs, a.bs, a.seeds[0], 'faster_coco_eval'))
    print(f"\nEpochs of the whole detector and a validation pass with mAP, in one process, on {next(iter(data))}:\n")
    print(ep.round(2).to_string(index=False))
    med = ep[ep.epoch>1].groupby('run').epoch_s.median()
    grow = ep[ep.epoch>1].groupby('run').rss_mb.agg(lambda v: v.iloc[-1]-v.iloc[0])
    for k in ('torchvision loop', 'torchvision loop, faster_coco_eval'):
        print(f"ftkit / {k}, median epoch after the first: {med['ftkit']/med[k]:.2f} (target 1.1 or less)")
    print(f"resident memory from the second epoch to the last: ftkit {grow['ftkit']:+.0f} MB, loop {grow['torchvision loop']:+.0f} MB")
    out = HERE/'detection.csv'
    pd.concat([runs.assign(table='runs'), ep.assign(table='epochs')]).to_csv(out, index=False)
    print(f"\nWrote {out}")

if __name__ == '__main__': main()
