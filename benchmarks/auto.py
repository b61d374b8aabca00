"""`ftkit train --strategy auto` against every fixed strategy and plain fastai `fine_tune(3)`, whole processes, one run each.

Datasets (all offline once fetched):
- sample: the bundled Fashion-MNIST sample (800 + 200 images, 64 px);
- fashion: 1,000 + 1,000 images of Debian's full Fashion-MNIST (`apt-get install dataset-fashion-mnist`), 48 px;
- elpv: the 2,624 electroluminescence images of solar cells of the PyPI package `elpv-dataset` (4 defect levels; licence
  CC-BY-NC-SA, used here only, never shipped), 75/25 split per class with seed 0, 64 px; fetched once with `pip download`;
- tweets: the bundled tweet-sentiment sample (text; 480 + 120 tweets). Plain fastai has no text recipe here, so the anchor
  row is ftkit's `fine_tune` with 4 epochs, fastai's `fine_tune(3)` recipe (one frozen epoch, three unfrozen).
Targets (the issue's): auto's accuracy at least the best fixed strategy's minus 0.5 points, at no more than 1.5x the wall
time of the default run and no more than plain fastai `fine_tune(3)`'s; never below its own probe (its choice says so).
Fixed strategies run as `ftkit train` runs them by default: they restore their best epoch by validation loss, that is on
the validation set the accuracy is reported on; auto never looks at it.
Run: .venv/bin/python benchmarks/auto.py [--only sample,fashion,elpv,tweets] [--out benchmarks/auto]
"""
import argparse, csv, json, shutil, subprocess, sys, tempfile, time, zipfile
from pathlib import Path
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
FIXED = ['lp_ft', 'fine_tune', 'gradual', 'feature_extract', 'scratch']

def elpv_folder(dest)->Path:
    "class folders train/ and valid/ of the elpv images, written once"
    dest = Path(dest)
    if (dest/'.complete').exists(): return dest
    import numpy as np
    whl = next(Path(dest/'wheel').glob('*.whl'), None) if (dest/'wheel').exists() else None
    if whl is None:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', 'elpv-dataset==1.0.0.post1', '-d', str(dest/'wheel')], check=True)
        whl = next(Path(dest/'wheel').glob('*.whl'))
    z = zipfile.ZipFile(whl)
    rows = [l.split() for l in z.read('elpv_dataset/data/labels.csv').decode().splitlines() if l.strip()]
    names = {'0.0':'defect_0', '0.3333333333333333':'defect_33', '0.6666666666666666':'defect_67', '1.0':'defect_100'}
    rng = np.random.default_rng(0)
    by = {}
    for fn,p,_ in rows: by.setdefault(names[p], []).append(fn)
    for c,fns in by.items():
        fns = [fns[i] for i in rng.permutation(len(fns))]
        k = round(0.25*len(fns))
        for i,fn in enumerate(fns):
            d = dest/('valid' if i < k else 'train')/c; d.mkdir(parents=True, exist_ok=True)
            (d/Path(fn).name).write_bytes(z.read('elpv_dataset/data/'+fn))
    (dest/'.complete').write_text('ok')
    return dest

def _timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True)
    wall = time.perf_counter()-t
    if r.returncode: sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    return wall,r.stdout

def ftkit_run(data, out, opts):
    wall,_ = _timed([HERE.parent/'.venv'/'bin'/'ftkit', 'train', data, '--out', out, '--quiet', *opts])
    m = json.loads((Path(out)/'metrics.json').read_text())
    return dict(wall_s=wall, accuracy=m['accuracy'], f1_macro=m['f1_macro'], chosen=m.get('auto', {}).get('chosen'), reason=m.get('auto', {}).get('reason'),
                probe=max((t['accuracy'] for t in m.get('auto', {}).get('tries', []) if t['stage']=='probe' and t.get('chosen')), default=None))

def fastai_run(data, size):
    wall,out = _timed([sys.executable, HERE/'fastai_plain.py', data, '--recipe', 'fine_tune', '--epochs', 3, '--size', size, '--bs', 64])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(wall_s=wall, accuracy=r['accuracy'], f1_macro=None)

def main(a):
    tmp = Path(tempfile.mkdtemp())
    cache = Path(a.cache)
    from ftkit.vision.data import sample_data
    from ftkit.text.task import sample_text
    sets = dict(sample=(sample_data(), 64, 'image'), tweets=(sample_text(), None, 'text'))
    if 'fashion' in a.only:
        from fashion import fashion_folder
        sets['fashion'] = (fashion_folder(cache/'fashion_1000', 1000, 1000), 48, 'image')
    if 'elpv' in a.only: sets['elpv'] = (elpv_folder(cache/'elpv'), 64, 'image')
    rows = []
    for name in a.only:
        data,size,kind = sets[name]
        opts = ['--size', size] if size else []
        runs = [('auto', ['--strategy', 'auto'])] + [(s, ['--strategy', s]) for s in FIXED]
        for run,o in runs:
            r = ftkit_run(data, tmp/f'{name}_{run}', [*opts, *o])
            rows.append(dict(dataset=name, run=f'ftkit train --strategy {run}', **r)); print(rows[-1], flush=True)
        if kind=='image': r = fastai_run(data, size); label = 'plain fastai fine_tune(3)'
        else: r = ftkit_run(data, tmp/f'{name}_ft4', ['--strategy', 'fine_tune', '--epochs', 4]); label = 'ftkit fine_tune, 4 epochs (fastai fine_tune(3) recipe)'
        rows.append(dict(dataset=name, run=label, **r)); print(rows[-1], flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    out = Path(a.out)
    with open(out.with_suffix('.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    print(table(rows))

def table(rows)->str:
    "A markdown table with the targets' ratios"
    lines = ['| dataset | run | accuracy | macro F1 | wall s | of default | of anchor |', '|---|---|---|---|---|---|---|']
    for d in dict.fromkeys(r['dataset'] for r in rows):
        rs = [r for r in rows if r['dataset']==d]
        default = next(r for r in rs if r['run'].endswith('lp_ft'))
        anchor = rs[-1]
        for r in rs:
            f1 = '' if r['f1_macro'] in (None, '') else f"{float(r['f1_macro']):.3f}"
            lines.append(f"| {d} | {r['run']} | {float(r['accuracy']):.3f} | {f1} | {float(r['wall_s']):.1f} | {float(r['wall_s'])/float(default['wall_s']):.2f} | {float(r['wall_s'])/float(anchor['wall_s']):.2f} |")
        auto = next(r for r in rs if r['run'].endswith('auto'))
        best = max((r for r in rs if any(r['run'].endswith(s) for s in FIXED)), key=lambda r: float(r['accuracy']))
        lines.append(f"| {d} | *auto vs the best fixed ({best['run'].split()[-1]})* | {100*(float(auto['accuracy'])-float(best['accuracy'])):+.1f} points | | | | |")
    return '\n'.join(lines)

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--only', default='sample,fashion,elpv,tweets')
    p.add_argument('--out', default=str(HERE/'auto'))
    p.add_argument('--cache', default=str(Path.home()/'.cache'/'ftkit'/'benchmarks'))
    p.add_argument('--table', action='store_true', help='print the table of the last results and stop')
    a = p.parse_args()
    a.only = [o for o in a.only.split(',') if o]
    if a.table:
        with open(Path(a.out).with_suffix('.csv')) as f: print(table(list(csv.DictReader(f))))
    else: main(a)
