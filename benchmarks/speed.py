"""Speed and memory of ftkit against plain fastai and a hand-written PyTorch loop, side by side in one run, on the same
data (the bundled Fashion-MNIST sample, 800 training and 200 validation images), model (the offline ImageNet MobileNetV2),
image size and batch size.

1. head-only: 5 epochs training only a new head over the frozen body: ftkit's cached features (the cache's computation
   included) vs plain fastai `freeze()` + `fit_one_cycle(5)` (and ftkit without the cache, for reference);
2. full epoch: one fine-tuning epoch (train + validate) of the whole network: ftkit vs plain fastai vs a minimal
   hand-written PyTorch loop (torchvision `ImageFolder`, `DataLoader`, `AdamW`);
3. time-to-accuracy: plain fastai `vision_learner(...).fine_tune(3)` (1 frozen + 3 epochs) sets the target, its final
   accuracy; ftkit's default recipe (`ftkit train`'s default strategy, same 4-epoch budget) is timed to the end of the first
   epoch at which its validation accuracy reaches that target;
4. peak memory: every measurement runs in a fresh process; its peak resident set size is reported.

--suite command times what a user runs, whole process (interpreter start, imports, checks, training, report, export, exit),
each run a fresh process, on the bundled sample (800 + 200 images) and on 2,000 + 1,000 images of the full Fashion-MNIST
(Debian's dataset-fashion-mnist, see fashion.py):
5. `ftkit train DATA --strategy feature_extract --epochs 5` against plain fastai's `freeze()` + `fit_one_cycle(5)`
   (fastai_plain.py --recipe head), same accuracy or better;
6. ftkit's default recipe (`ftkit train DATA`: lp_ft, 4 epochs) against plain fastai's `fine_tune(3)` (fastai_plain.py
   --recipe fine_tune): whole-process time, and whether ftkit's accuracy reaches fastai's;
7. everything after training (evaluation, forgetting, export, report), from the stage times `ftkit train` writes in
   metrics.json, against one pass of the model over the validation images (decoding included, in a fresh process);
and prints where each command's time goes.

Run: .venv/bin/python benchmarks/speed.py [--suite api|command|all] [--size 64] [--bs 64] [--repeats 3] [--seeds 0 1 2]
Prints the tables and the ratios, and writes them as CSV and JSON next to this script (speed.csv and speed.json for the
API suite, speed_command.csv and speed_command.json for the command suite).
Timings are best-of-`repeats` (the settings interleaved, so that drift on a shared machine hits them alike).
"""
import argparse, json, resource, subprocess, sys, tempfile, time
from pathlib import Path
HERE,BIN = Path(__file__).parent,Path(sys.executable).parent

def _rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024

def _setup(a):
    "Imports (outside the timed region), data and the helpers every measurement needs"
    global torch, F, np, seed_everything, image_dls, sample_data, ft_learner, offline_weights, load_state, fastai_all, strategies
    import torch, numpy as np, torch.nn.functional as F
    from ftkit.core import seed_everything
    from ftkit.vision.data import image_dls, sample_data
    from ftkit.vision.learner import ft_learner
    from ftkit.vision.models import offline_weights, load_state
    import ftkit.strategies as strategies
    import fastai.vision.all as fastai_all
    offline_weights('mobilenetv2_100')

def _dls(a, seed):
    seed_everything(seed)
    return image_dls(a.data or sample_data(), size=a.size, bs=a.bs, arch='mobilenetv2_100', verbose=False)

def _fastai_learner(dls):
    "Plain fastai: `vision_learner` on the timm architecture, body loaded with the same offline ImageNet weights"
    learn = fastai_all.vision_learner(dls, 'mobilenetv2_100', pretrained=False, metrics=fastai_all.accuracy)
    sd = load_state(offline_weights('mobilenetv2_100'))
    learn.model[0].model.load_state_dict({k:v for k,v in sd.items() if not k.startswith('classifier.')})
    learn.freeze()
    return learn

def _acc(learn):
    with learn.no_bar(), learn.no_logging(): return float(learn.validate()[1])

def m_head_ftkit(a, seed, cache=True):
    learn = ft_learner(_dls(a, seed))
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_phase(strategies.Phase(5, 1, 1e-2, freeze_bn=True), cache=cache)
    return dict(seconds=time.perf_counter()-start, accuracy=_acc(learn))

def m_head_ftkit_nocache(a, seed): return m_head_ftkit(a, seed, cache=False)

def m_head_fastai(a, seed):
    learn = _fastai_learner(_dls(a, seed))
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(5, 1e-2)
    return dict(seconds=time.perf_counter()-start, accuracy=_acc(learn))

def _full_epoch(learn):
    learn.unfreeze()
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-4)  # fit validates at the end of the epoch
    return dict(seconds=time.perf_counter()-start, accuracy=float(learn.recorder.values[-1][2]))

def m_epoch_ftkit(a, seed): return _full_epoch(ft_learner(_dls(a, seed)))
def m_epoch_fastai(a, seed): return _full_epoch(_fastai_learner(_dls(a, seed)))
def m_epoch_ftkit_contiguous(a, seed): return _full_epoch(ft_learner(_dls(a, seed), channels_last=False))

def m_epoch_hand(a, seed, channels_last=False):
    "A minimal PyTorch loop: torchvision ImageFolder + DataLoader, AdamW, one epoch, then validation accuracy"
    import torchvision, torchvision.transforms as T
    from ftkit.vision.data import arch_stats
    from ftkit.vision.models import create_backbone
    seed_everything(seed)
    mean,std = arch_stats('mobilenetv2_100')
    tf = T.Compose([T.Lambda(lambda im: im.convert('RGB')), T.Resize((a.size, a.size)), T.ToTensor(), T.Normalize(mean, std)])
    root = sample_data()
    tr = torch.utils.data.DataLoader(torchvision.datasets.ImageFolder(root/'train', tf), batch_size=a.bs, shuffle=True, drop_last=True)
    va = torch.utils.data.DataLoader(torchvision.datasets.ImageFolder(root/'valid', tf), batch_size=a.bs*2)
    model = create_backbone('mobilenetv2_100', num_classes=10)
    if channels_last: model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    start = time.perf_counter()
    model.train()
    for x,y in tr:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval(); correct = 0
    with torch.no_grad():
        for x,y in va: correct += (model(x).argmax(1)==y).sum().item()
    return dict(seconds=time.perf_counter()-start, accuracy=correct/len(va.dataset))

def m_epoch_hand_channels_last(a, seed): return m_epoch_hand(a, seed, channels_last=True)

def m_valid_pass(a, seed):
    "One pass of the model over the validation images, decoding included: the unit the report's cost is measured in"
    learn = ft_learner(_dls(a, seed))
    start = time.perf_counter()
    with learn.no_bar(): learn.get_preds()
    return dict(seconds=time.perf_counter()-start, accuracy=float('nan'))

class _Clock:
    "Seconds since `start` and validation accuracy at the end of every epoch"
    def __init__(self): self.rows = []
    def cb(self, start):
        clock = self
        class Clock(fastai_all.Callback):
            order = fastai_all.Recorder.order+1
            def after_epoch(self):
                if 'accuracy' in self.recorder.metric_names:
                    clock.rows.append((time.perf_counter()-start, float(self.recorder.log[self.recorder.metric_names.index('accuracy')])))
        return Clock()

def m_tta_fastai(a, seed):
    learn = _fastai_learner(_dls(a, seed))
    clock = _Clock(); start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(3, cbs=clock.cb(start))
    return dict(seconds=time.perf_counter()-start, accuracy=clock.rows[-1][1], curve=clock.rows)

def m_tta_ftkit(a, seed):
    from ftkit.settings import make_strategy
    learn = ft_learner(_dls(a, seed))
    s = make_strategy(epochs=4)
    clock = _Clock(); start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_strategy(s, cbs=clock.cb(start))
    return dict(seconds=time.perf_counter()-start, accuracy=clock.rows[-1][1], curve=clock.rows, strategy=s.name)

MEASURES = {
    'head-only, 5 epochs': ['head_ftkit', 'head_fastai', 'head_ftkit_nocache'],
    'full fine-tuning epoch': ['epoch_ftkit', 'epoch_fastai', 'epoch_hand', 'epoch_hand_channels_last', 'epoch_ftkit_contiguous'],
}
LABELS = dict(head_ftkit='ftkit, cached features', head_fastai='plain fastai, freeze() + fit_one_cycle',
              head_ftkit_nocache='ftkit, cache=False', epoch_ftkit='ftkit (ft_learner)', epoch_fastai='plain fastai (vision_learner)',
              epoch_hand='hand-written PyTorch loop', epoch_hand_channels_last='hand-written loop, channels_last',
              epoch_ftkit_contiguous='ftkit, channels_last=False', tta_fastai='plain fastai fine_tune(3)', tta_ftkit="ftkit's default recipe")

def _one(a, name, seed, data=None):
    "Run measurement `name` in a fresh process; its result and peak RSS"
    out = subprocess.run([sys.executable, __file__, '--one', name, '--seed', str(seed), '--size', str(a.size), '--bs', str(a.bs),
                          *(['--data', str(data)] if data else [])], capture_output=True, text=True)
    if out.returncode: raise RuntimeError(f'{name} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])

def _timed(cmd):
    "Wall time of `cmd` as a fresh process, and its output"
    start = time.perf_counter()
    r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True)
    wall = time.perf_counter()-start
    if r.returncode: raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    return wall,r.stdout

def c_ftkit(a, data, out, *opts):
    "`ftkit train` as a user runs it"
    wall,_ = _timed([BIN/'ftkit', 'train', data, '--size', a.size, '--bs', a.bs, '--quiet', '--out', out, *opts])
    m = json.loads((Path(out)/'metrics.json').read_text())
    return dict(wall_s=wall, accuracy=m['accuracy'], f1_macro=m['f1_macro'], stages=m['time_s'])

def c_fastai(a, data, recipe, epochs):
    "Plain fastai (fastai_plain.py) as a fresh process"
    wall,out = _timed([sys.executable, HERE/'fastai_plain.py', data, '--recipe', recipe, '--epochs', epochs, '--size', a.size, '--bs', a.bs])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(wall_s=wall, accuracy=r['accuracy'], f1_macro=float('nan'), stages=r['steps'])

COMMANDS = {
    'ftkit_fe': ('ftkit train --strategy feature_extract --epochs 5', lambda a,d,o: c_ftkit(a, d, o, '--strategy', 'feature_extract', '--epochs', 5)),
    'fastai_head': ('plain fastai freeze() + fit_one_cycle(5)', lambda a,d,o: c_fastai(a, d, 'head', 5)),
    'ftkit_default': ("ftkit train (default: lp_ft, 4 epochs)", lambda a,d,o: c_ftkit(a, d, o)),
    'fastai_ft': ('plain fastai fine_tune(3)', lambda a,d,o: c_fastai(a, d, 'fine_tune', 3)),
}
AFTER = ('evaluation','forgetting','export','report')

def decoding(a, data, repeats=3):
    "Seconds to turn the validation images of `data` into the tensors the model's batches are made of, four ways, and whether each gives fastai's tensors"
    import numpy as np, torch, torch.nn.functional as F, torchvision
    from torchvision.io import decode_image, read_file, ImageReadMode
    from fastai.data.core import TfmdDL
    from ftkit.vision.data import image_dls
    dls = image_dls(data, size=a.size, bs=a.bs, arch='mobilenetv2_100', verbose=False)
    dl = dls.valid; n = len(dl.dataset); files = dl.dataset.items
    def tv(f):
        x = decode_image(read_file(str(f)), mode=ImageReadMode.RGB)
        return F.interpolate(x[None].float(), size=(a.size, a.size), mode='bilinear', antialias=True)[0].round().clamp(0, 255).byte()
    ways = {"fastai's item pipeline (Resize, ToTensor)": lambda: [TfmdDL.do_item(dl, i)[0] for i in range(n)],
            'ftkit ImageDL, first read (Pillow, no per-item pipeline)': lambda: [dl.do_item(i)[0] for i in range(n)],
            'ftkit ImageDL, kept in memory (later epochs)': lambda: [dl.do_item(i)[0] for i in range(n)],
            'torchvision decode_image + interpolate (antialiased)': lambda: [tv(f) for f in files]}
    ref,rows = None,[]
    for name,f in ways.items():
        ts = []
        for r in range(repeats):
            if name.startswith('ftkit ImageDL, first'): dl.dataset._decoded.clear(); dl.dataset._decoded.nbytes = 0
            t = time.perf_counter(); xs = f(); ts.append(time.perf_counter()-t)
        if ref is None: ref = xs
        same = all(torch.equal(torch.as_tensor(x), torch.as_tensor(y)) for x,y in zip(xs, ref))
        rows.append(dict(way=name, images=n, best_s=min(ts), ms_per_image=1000*min(ts)/n, same_tensors=same))
    return rows

def main_command(a):
    "The command suite: whole processes, side by side"
    import pandas as pd
    sys.path.insert(0, str(HERE)); from fashion import fashion_folder
    from ftkit.vision.data import sample_data
    tmp = Path(tempfile.mkdtemp())
    sets = {'sample, 800 + 200': sample_data(), 'Fashion-MNIST, 2,000 + 1,000': fashion_folder(tmp/'fm3k', 2000, 1000)}
    rows = []
    for r in range(a.repeats):
        for ds,data in sets.items():
            for k,(label,f) in COMMANDS.items():
                rows.append(dict(dataset=ds, key=k, run=label, repeat=r, **f(a, data, tmp/f'{k}_{r}')))
                print('.', end='', flush=True)
            p = _one(a, 'valid_pass', 0, data)
            rows.append(dict(dataset=ds, key='valid_pass', run='one pass over the validation images', repeat=r, wall_s=p['seconds'],
                             accuracy=float('nan'), f1_macro=float('nan'), stages={}))
    print()
    df = pd.DataFrame(rows)
    res,ratios,stages = [],{},[]
    for (ds,k),g in df.groupby(['dataset','key'], sort=False):
        res.append(dict(dataset=ds, run=g.run.iloc[0], best_s=g.wall_s.min(), median_s=g.wall_s.median(), accuracy=g.accuracy.mean(), f1_macro=g.f1_macro.mean()))
        if k!='valid_pass':
            st = pd.DataFrame(list(g.stages)).median().round(2).to_dict()
            stages.append(dict(dataset=ds, run=g.run.iloc[0], **st))
    res = pd.DataFrame(res)
    for ds in sets:
        b = res[res.dataset==ds].set_index('run')
        best = lambda k: b.loc[COMMANDS[k][0], 'best_s'] if k in COMMANDS else b.loc['one pass over the validation images', 'best_s']
        acc = lambda k: b.loc[COMMANDS[k][0], 'accuracy']
        g = df[(df.dataset==ds)]
        after = lambda k: min(sum(s.get(x, 0) for x in AFTER) for s in g[g.key==k].stages)
        ratios[ds] = {
            'head-only, whole process: plain fastai / ftkit (target >= 8)': best('fastai_head')/best('ftkit_fe'),
            'head-only accuracy: ftkit - plain fastai (target >= 0)': acc('ftkit_fe')-acc('fastai_head'),
            'after training, feature_extract: (evaluation+forgetting+export+report) / one validation pass (target <= 1.3)': after('ftkit_fe')/best('valid_pass'),
            'after training, default recipe: (evaluation+forgetting+export+report) / one validation pass (target <= 1.3)': after('ftkit_default')/best('valid_pass'),
            'default recipe, whole process: ftkit / plain fastai fine_tune(3) (target <= 0.25)': best('ftkit_default')/best('fastai_ft'),
            'default recipe accuracy: ftkit - plain fastai fine_tune(3) (target >= 0)': acc('ftkit_default')-acc('fastai_ft'),
        }
    stages = pd.DataFrame(stages)
    dec = pd.DataFrame(decoding(a, sets['Fashion-MNIST, 2,000 + 1,000']))
    import torch
    print(f'Whole processes, MobileNetV2 (offline ImageNet weights), {a.size} px, bs {a.bs}, {torch.get_num_threads()} torch threads, best of {a.repeats}:')
    print(res.round(3).to_string(index=False))
    print('\nWhere the time goes (seconds, median over repeats; ftkit from metrics.json, fastai from its script):')
    print(stages.astype(object).where(stages.notna(), '').to_string(index=False))
    print(f'\nDecoding the {dec.images.iloc[0]} validation images at {a.size} px (best of 3, in one process):')
    print(dec.round(3).to_string(index=False))
    print('\nRatios:')
    for ds,rs in ratios.items():
        print(f'  {ds}:')
        for k,v in rs.items(): print(f'    {k}: {v:.2f}')
    out = HERE/'speed_command'
    res.to_csv(f'{out}.csv', index=False)
    Path(f'{out}.json').write_text(json.dumps(dict(size=a.size, bs=a.bs, repeats=a.repeats, threads=torch.get_num_threads(),
        results=res.to_dict(orient='records'), stages=stages.to_dict(orient='records'), decoding=dec.to_dict(orient='records'),
        ratios={ds:{k:round(v, 3) for k,v in rs.items()} for ds,rs in ratios.items()}), indent=2))

def main(a):
    import pandas as pd, torch
    rows = []
    for r in range(a.repeats):
        for sec,names in MEASURES.items():
            for n in names: rows.append(dict(section=sec, name=n, repeat=r, **_one(a, n, 0)))
            print('.', end='', flush=True)
    for seed in a.seeds:
        for n in ('tta_fastai', 'tta_ftkit'): rows.append(dict(section='time-to-accuracy', name=n, repeat=seed, **_one(a, n, seed)))
        print('.', end='', flush=True)
    print()
    df = pd.DataFrame(rows)
    res = []
    for (sec,n),g in df[df.section!='time-to-accuracy'].groupby(['section','name'], sort=False):
        res.append(dict(section=sec, run=LABELS[n], best_s=g.seconds.min(), median_s=g.seconds.median(),
                        accuracy=g.accuracy.iloc[0], peak_rss_mb=g.rss_mb.max()))
    tta = df[df.section=='time-to-accuracy']
    reach = []
    for seed in a.seeds:
        base = tta[(tta.name=='tta_fastai') & (tta.repeat==seed)].iloc[0]
        ours = tta[(tta.name=='tta_ftkit') & (tta.repeat==seed)].iloc[0]
        t = next((s for s,acc in ours.curve if acc >= base.accuracy), float('nan'))
        reach.append(dict(seed=seed, target=base.accuracy, fastai_s=base.seconds, ftkit_s=t, ftkit_final=ours.accuracy,
                          ratio=t/base.seconds, strategy=ours.strategy))
    reach = pd.DataFrame(reach)
    for n,lbl,sec_col in (('tta_fastai', LABELS['tta_fastai'], 'fastai_s'), ('tta_ftkit', LABELS['tta_ftkit']+f" ({reach.strategy.iloc[0]}), to the target", 'ftkit_s')):
        g = tta[tta.name==n]
        res.append(dict(section='time-to-accuracy', run=lbl, best_s=reach[sec_col].min(), median_s=reach[sec_col].median(),
                        accuracy=g.accuracy.mean(), peak_rss_mb=g.rss_mb.max()))
    res = pd.DataFrame(res)
    b = res.set_index('run').best_s
    ratios = {
        'head-only: plain fastai / ftkit cached (target >= 5)': b[LABELS['head_fastai']]/b[LABELS['head_ftkit']],
        'full epoch: ftkit / hand-written loop (target <= 1.10)': b[LABELS['epoch_ftkit']]/b[LABELS['epoch_hand']],
        'full epoch: ftkit / plain fastai': b[LABELS['epoch_ftkit']]/b[LABELS['epoch_fastai']],
        'full epoch: ftkit / hand-written loop with channels_last': b[LABELS['epoch_ftkit']]/b[LABELS['epoch_hand_channels_last']],
        'time-to-accuracy: ftkit / plain fastai, median over seeds (target <= 0.6)': reach.ratio.median(),
    }
    print(f'MobileNetV2 (offline ImageNet weights), {a.size} px, bs {a.bs}, {torch.get_num_threads()} torch threads, best of {a.repeats}:')
    print(res.round(3).to_string(index=False))
    print('\nTime-to-accuracy per seed:')
    print(reach.round(3).to_string(index=False))
    print('\nRatios:')
    for k,v in ratios.items(): print(f'  {k}: {v:.2f}')
    out = Path(__file__).with_suffix('')
    res.to_csv(f'{out}.csv', index=False)
    Path(f'{out}.json').write_text(json.dumps(dict(size=a.size, bs=a.bs, repeats=a.repeats, threads=torch.get_num_threads(),
        results=res.to_dict(orient='records'), time_to_accuracy=reach.to_dict(orient='records'),
        ratios={k:round(v, 3) for k,v in ratios.items()}), indent=2))

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--suite', choices=['api','command','all'], default='all')
    p.add_argument('--data', default=None, help=argparse.SUPPRESS)
    p.add_argument('--one', help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        import warnings; warnings.simplefilter('ignore')
        _setup(a)
        res = globals()[f'm_{a.one}'](a, a.seed)
        print(json.dumps(dict(res, rss_mb=_rss_mb())))
    else:
        if a.suite in ('api','all'): main(a)
        if a.suite in ('command','all'): main_command(a)
