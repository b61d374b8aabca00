"""GPU readiness: plain fastai as its documentation teaches a GPU user (`vision_learner`, `to_fp16()`, `fine_tune`, loader
workers) against `ftkit train` in each precision the device has, at 224 px, whole processes, side by side in one run; and
texts at batch 32, `ftkit train` in each precision beside Hugging Face's `Trainer` (fp16 on a GPU).

The images: class folders of JPEGs at 256 px (so that decoding and resizing cost what they cost with real photos), written
once into the cache: the first N of each class of Debian's full Fashion-MNIST (`dataset-fashion-mnist`) when it is installed,
else the bundled sample's 800 training images, each written as several variants (flipped, shifted, contrast changed); its
200 validation images once each. The texts: the bundled tweet sample (480 training, 120 validation texts).

Per run: final validation accuracy; training items per second (items x epochs over the seconds of fitting: validation passes
and ftkit's feature cache included); the median whole-network epoch; the whole-process seconds until the first epoch at which
validation accuracy reached plain fastai's final figure (from the process's start, imports included), and in all; the peak
GPU memory (PyTorch's allocator).

Run: .venv/bin/python benchmarks/gpu.py [--epochs 4] [--train 4000] [--valid 1000] [--size 224] [--bs 64] [--device cuda]
     .venv/bin/python benchmarks/gpu.py --smoke     (a few images at 32 px and texts, on whatever device: checks the script runs)
The CPU figures in the docs: .venv/bin/python benchmarks/gpu.py --device cpu --train 800 --valid 200 --epochs 2 --out benchmarks/gpu_cpu.csv
Prints one table and the ratios to plain fastai, and writes them to --out (default gpu.csv, gpu_smoke.csv with --smoke, next to this script).
One run at a time: never beside another benchmark or a test run.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent

def _variant(img, k:int):
    "Variant `k` of a PIL image: 0 the image itself, then flipped, shifted, contrast changed (deterministic)"
    from PIL import ImageOps, ImageEnhance, ImageChops
    if k == 0: return img
    if k % 2: img = ImageOps.mirror(img)
    if k % 3 == 1: img = ImageChops.offset(img, 2*k % 7 - 3, k % 5 - 2)
    if k >= 2: img = ImageEnhance.Contrast(img).enhance(0.7 + 0.15*(k % 4))
    return img

def _by_turns(folder:Path)->list:
    "The PNG files of `folder`'s class folders, the classes taking turns (so that the first N hold every class alike)"
    per = [sorted(d.glob('*.png')) for d in sorted(folder.iterdir()) if d.is_dir()]
    return [f for i in range(max(map(len, per))) for fs in per if i < len(fs) for f in [fs[i]]]

def image_set(dest:Path, n_train:int, n_valid:int, px:int=256)->Path:
    "Class folders of `px`-pixel JPEGs under `dest`/train and `dest`/valid; written once and reused (see the module's description)"
    from PIL import Image
    done = dest/'.complete'
    key = f'{n_train} {n_valid} {px}'
    if done.exists() and done.read_text()==key: return dest
    full = Path('/usr/share/datasets/fashion-mnist')
    if full.exists():
        sys.path.insert(0, str(HERE))
        from fashion import fashion_folder
        src = fashion_folder(Path(tempfile.gettempdir())/f'fashion_{n_train}_{n_valid}', n_train, n_valid)
        plan = {split:[(f, 0) for f in sorted((src/split).glob('*/*.png'))] for split in ('train', 'valid')}
    else:
        from ftkit.vision.data import sample_data
        src = sample_data()
        tr,vl = _by_turns(src/'train'),_by_turns(src/'valid')
        plan = dict(train=[(f, k) for k in range(-(-n_train//len(tr))) for f in tr][:n_train], valid=[(f, 0) for f in vl][:n_valid])
    for split,items in plan.items():
        for f,k in items:
            out = dest/split/f.parent.name/f'{f.stem}_{k}.jpg'
            out.parent.mkdir(parents=True, exist_ok=True)
            _variant(Image.open(f).convert('RGB'), k).resize((px, px), Image.BICUBIC).save(out, quality=90)
    done.write_text(key)
    return dest

def text_set(dest:Path, per_class:int|None=None)->tuple:
    "The tweet sample (or its first `per_class` training and `per_class//2` validation texts of each class) as all.csv (for ftkit), and as train.csv and valid.csv (for the Trainer)"
    import pandas as pd
    from ftkit.text.model import sample_text
    df = pd.read_csv(sample_text())
    if per_class: df = pd.concat([df[~df.is_valid].groupby('label').head(per_class), df[df.is_valid].groupby('label').head(per_class//2)])
    dest.mkdir(parents=True, exist_ok=True)
    df.to_csv(dest/'all.csv', index=False)
    df[~df.is_valid][['text','label']].to_csv(dest/'train.csv', index=False)
    df[df.is_valid][['text','label']].to_csv(dest/'valid.csv', index=False)
    return dest/'all.csv',dest/'train.csv',dest/'valid.csv'

# The plain fastai run, in a process of its own (`--fastai`): what a GPU user writes from fastai's documentation.
def fastai_child(a):
    t0 = time.perf_counter()
    from ftkit.run import _since_start  # (the process's age, from /proc: interpreter start-up counted, as for `ftkit train`)
    age0 = _since_start() or 0.
    from fastai.vision.all import ImageDataLoaders, Resize, Normalize, imagenet_stats, vision_learner, accuracy, Callback
    import torch
    from ftkit.vision.models import offline_weights, load_state  # the offline weights ftkit ships (fastai alone would download them)
    kw = {} if a.workers is None else dict(num_workers=a.workers)
    dls = ImageDataLoaders.from_folder(a.data, train='train', valid='valid', item_tfms=Resize(a.size, method='squish'),
                                       batch_tfms=Normalize.from_stats(*imagenet_stats), bs=a.bs, device=a.device, **kw)
    learn = vision_learner(dls, 'mobilenetv2_100', pretrained=False, metrics=accuracy)
    sd = load_state(offline_weights('mobilenetv2_100'))
    learn.model[0].model.load_state_dict({k:v for k,v in sd.items() if not k.startswith('classifier.')})
    if a.precision=='fp16': learn.to_fp16()
    elif a.precision=='bf16': learn.to_bf16()
    class Ends(Callback):
        order = 100
        def before_fit(self): self.t = time.perf_counter()
        def after_epoch(self):
            ends.append(round(age0 + time.perf_counter()-t0, 2)); accs.append(float(self.recorder.log[-2]))
            (full if self.opt.frozen_idx==0 else frozen).append(time.perf_counter()-self.t); self.t = time.perf_counter()
    ends,accs,full,frozen = [],[],[],[]
    dev = torch.device(dls.device)
    if dev.type=='cuda': torch.cuda.reset_peak_memory_stats(dev)
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(a.epochs-1, cbs=Ends())
    fit_s = time.perf_counter()-t
    print(json.dumps(dict(accuracy=accs[-1], accs=accs, ends=ends, fit_s=fit_s, full_epochs=full, n_train=len(dls.train_ds),
                          workers=dls.train.fake_l.num_workers, gpu_gb=torch.cuda.max_memory_allocated(dev)/2**30 if dev.type=='cuda' else None)))

def run(cmd:list)->tuple:
    "Run `cmd` as a process of its own: its exit status, stdout and the wall seconds it took"
    t = time.perf_counter()
    r = subprocess.run([str(o) for o in cmd], capture_output=True, text=True)
    if r.returncode: sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    return r.stdout,time.perf_counter()-t

def fastai_row(data, a, precision)->dict:
    out,wall = run([sys.executable, __file__, '--fastai', data, '--size', a.size, '--bs', a.bs, '--epochs', a.epochs, '--precision', precision,
                    *(['--device', a.device] if a.device else [])])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(run='plain fastai fine_tune', task='images', precision=precision, workers=r['workers'], accuracy=r['accuracy'],
                items_per_s=r['n_train']*a.epochs/r['fit_s'], full_epoch_s=sorted(r['full_epochs'])[len(r['full_epochs'])//2] if r['full_epochs'] else None,
                ends=r['ends'], accs=r['accs'], total_s=wall, gpu_gb=r['gpu_gb'])

def ftkit_row(data, a, precision, name, *opts, task='images')->dict:
    import pandas as pd
    with tempfile.TemporaryDirectory() as d:
        _,wall = run([BIN/'ftkit', 'train', data, '--epochs', a.epochs, '--precision', precision, '--out', d, '-q', *opts, *(['--device', a.device] if a.device else [])])
        m = json.loads((Path(d)/'metrics.json').read_text())
        h = pd.read_csv(Path(d)/'history.csv')
    fit = m['time_s']['training'] + m['time_s'].get('cache', 0)
    n = len(h.trainable_groups)
    whole = [e-s for e,s,g in zip(m['epoch_end_s'], [None]+m['epoch_end_s'][:-1], h.trainable_groups) if s is not None and g==h.trainable_groups.max()]
    return dict(run=name, task=task, precision=m['precision'], workers=m['workers'], accuracy=m['accuracy'], items_per_s=m['n_train']*n/fit,
                full_epoch_s=sorted(whole)[len(whole)//2] if whole else None, ends=m['epoch_end_s'], accs=list(h.accuracy), total_s=wall, gpu_gb=m['gpu_memory_peak_gb'])

def trainer_row(tr, va, a, precision)->dict:
    out,wall = run([sys.executable, HERE/'hf_trainer_text.py', tr, va, '--bs', 32, '--epochs', a.text_epochs, *(['--precision', precision] if precision!='32' else [])])
    r = json.loads(out.strip().splitlines()[-1])
    import pandas as pd
    n = len(pd.read_csv(tr))
    return dict(run="Hugging Face Trainer", task='texts', precision=precision, workers=None, accuracy=r['accuracy'], items_per_s=n*a.text_epochs/r['train_s'],
                full_epoch_s=None, ends=[], accs=[], total_s=wall, gpu_gb=r.get('gpu_gb'))

def time_to(row, target)->float|None:
    "Seconds from the process's start to the end of its first epoch at or above `target` accuracy"
    return next((e for e,acc in zip(row['ends'], row['accs']) if acc >= target-1e-9), None)

def main(a):
    import torch
    import pandas as pd
    dev = torch.device(a.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    gpu = dev.type=='cuda'
    from ftkit.callbacks import gpu_has_bf16
    precisions = ['32'] + (['bf16'] if not gpu or gpu_has_bf16(dev) else []) + (['fp16'] if gpu else [])
    cache = Path.home()/'.cache'/'ftkit'/'benchmarks'
    data = image_set(cache/f'gpu_{a.train}_{a.valid}', a.train, a.valid, 64 if a.smoke else 256)
    text,tr,va = text_set(cache/('gpu_texts_smoke' if a.smoke else 'gpu_texts'), 32 if a.smoke else None)
    print(f"device: {torch.cuda.get_device_name(dev) if gpu else 'CPU, ' + str(os.cpu_count()) + ' cores'}; images: {a.train} + {a.valid} at {a.size} px, "
          f"{a.epochs} epochs, batch {a.bs}; texts: {'96 + 48 of ' if a.smoke else ''}the tweet sample, {a.text_epochs} epochs, batch 32", flush=True)
    rows = [fastai_row(data, a, 'fp16' if gpu else '32')]
    target = rows[0]['accuracy']
    img = ('--size', a.size, '--bs', a.bs)
    for p in precisions: rows.append(ftkit_row(data, a, p, 'ftkit train (default: lp_ft)', *img))
    rows.append(ftkit_row(data, a, precisions[-1] if gpu else '32', 'ftkit train --strategy fine_tune', *img, '--strategy', 'fine_tune'))
    ta = argparse.Namespace(**{**vars(a), 'epochs':a.text_epochs})
    for p in precisions: rows.append(ftkit_row(text, ta, p, 'ftkit train (texts)', '--bs', 32, '--max-len', a.max_len, task='texts'))
    rows.append(trainer_row(tr, va, a, 'fp16' if gpu else '32'))
    for r in rows: r['to_fastai_acc_s'] = time_to(r, target) if r['task']=='images' else None
    df = pd.DataFrame(rows).drop(columns=['ends', 'accs']).astype(dict(gpu_gb=float, workers='Int64', full_epoch_s=float, to_fastai_acc_s=float))
    base = df.iloc[0]
    df['speed_vs_fastai'] = [r.items_per_s/base.items_per_s if r.task=='images' else None for r in df.itertuples()]
    df['epoch_vs_fastai'] = [r.full_epoch_s/base.full_epoch_s if r.task=='images' and r.full_epoch_s and base.full_epoch_s else None for r in df.itertuples()]
    df = df.astype(dict(speed_vs_fastai=float, epoch_vs_fastai=float))
    fmt = {c:'{:.3f}'.format for c in ('accuracy','speed_vs_fastai','epoch_vs_fastai','gpu_gb')} | {c:'{:.1f}'.format for c in ('items_per_s','full_epoch_s','total_s','to_fastai_acc_s')}
    print(df.to_string(index=False, formatters=fmt, na_rep='–'))
    print(f"\nplain fastai's final accuracy, the target of to_fastai_acc_s: {target:.3f}")
    df.to_csv(a.out or HERE/('gpu_smoke.csv' if a.smoke else 'gpu.csv'), index=False)
    return df

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--fastai', metavar='DATA', default=None, help=argparse.SUPPRESS)  # the plain fastai run, as a process of its own
    p.add_argument('--precision', default='fp16', help=argparse.SUPPRESS)
    p.add_argument('--workers', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--epochs', type=int, default=4); p.add_argument('--text-epochs', type=int, default=2)
    p.add_argument('--train', type=int, default=4000); p.add_argument('--valid', type=int, default=1000)
    p.add_argument('--size', type=int, default=224); p.add_argument('--bs', type=int, default=64); p.add_argument('--max-len', type=int, default=128)
    p.add_argument('--device', default=None, help='cuda, cuda:1 or cpu (default: a GPU if there is one)')
    p.add_argument('--out', default=None, help='the CSV the table is written to (default: gpu.csv, or gpu_smoke.csv with --smoke, next to this script)')
    p.add_argument('--smoke', action='store_true', help='a few images and texts at 32 px, 2 epochs: that the script runs, on any device')
    a = p.parse_args()
    if a.fastai: a.data = a.fastai; fastai_child(a); sys.exit()
    if a.smoke: a.train,a.valid,a.size,a.bs,a.epochs,a.text_epochs,a.max_len = 64,40,32,16,2,1,32
    main(a)
