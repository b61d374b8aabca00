"""INT8 export against fp32, for each task on its bundled sample and on a larger image set: the main figure, the file size
and the latency at batch 1 and 32 (PyTorch fp32, ONNX Runtime fp32, ONNX Runtime int8) on this CPU.

    python benchmarks/int8.py                 # the four samples, 1,200/300 other tweets and 2,000/1,000 Fashion-MNIST images at 64 px
    python benchmarks/int8.py --no-larger     # the samples only
    python benchmarks/int8.py --qat 0         # without the quantisation-aware rows

Each model is trained by a whole `ftkit train` command (fine_tune, a few epochs: a model worth deploying, not a probe),
then quantised by a whole `ftkit export --int8` command, which scores both models on the validation set and times them
(quantization.json). The table lists what that file records; the targets are at most 1 point of the main figure lost,
at most a third of the fp32 ONNX file's size, and a faster batch of 1 than ONNX Runtime fp32. Where the task can (`Task.qat`), the
same model is quantised again after `--qat` epochs of quantisation-aware fine-tuning (`ftkit export --int8 --qat N`): a second
row, with the fp32 figure of the fine-tuned copy it was made from (fp32_after_qat: how much is more training, not rounding).
Writes benchmarks/int8.csv."""
import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path
import pandas as pd
from ftkit.core import get_task

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).parent))

def ftkit(*args, ok=(0,)):
    t = time.perf_counter()
    r = subprocess.run([str(BIN/'ftkit'), *map(str, args)], capture_output=True, text=True)
    if r.returncode not in ok: raise SystemExit(f"ftkit {' '.join(map(str, args))} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter()-t

def split_csv(src:Path, dest:Path, path_col:str|None)->tuple:
    "The training and validation rows of a CSV with an is_valid column, as two CSVs (file names made absolute)"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    if path_col: df[path_col] = [str(src.parent/f) for f in df[path_col]]
    out = []
    for name,rows in (('train', df[df.is_valid!='True']), ('valid', df[df.is_valid=='True'])):
        rows.drop(columns='is_valid').to_csv(fn := dest/f'{name}.csv', index=False); out.append(fn)
    return tuple(out)

def sets(tmp:Path, larger:bool)->list:
    "(name, task, training data, validation data, calibration data, options of ftkit train)"
    from ftkit.vision.data import sample_data, multilabel_sample
    from ftkit.vision.segment import segmentation_sample
    from ftkit.text.model import sample_text
    (tmp/'ml').mkdir()
    ml_train,ml_valid = split_csv(multilabel_sample(), tmp/'ml', 'fname')
    res = [('fashion sample, 64 px', 'image', sample_data(), sample_data()/'valid', None, ['--size', 64, '--epochs', 4]),
           ('multi-label sample, 64 px', 'multilabel', multilabel_sample(), ml_valid, ml_train, ['--size', 64, '--epochs', 4]),
           ('segmentation sample, 64 px', 'segmentation', segmentation_sample(), segmentation_sample()/'valid', None, ['--size', 64, '--epochs', 4]),
           ('tweets sample', 'text', sample_text(), split_csv(sample_text(), tmp, None)[1], None, ['--epochs', 2])]
    if larger:
        from text import make_data
        (tmp/'tweets').mkdir()
        make_data(tmp/'tweets', 400, 100)
        res.append(('tweets 1,200/300', 'text', tmp/'tweets'/'all.csv', tmp/'tweets'/'valid.csv', None, ['--epochs', 2]))
        from fashion import fashion_folder
        d = fashion_folder(tmp/'fashion2000')
        res.append(('Fashion-MNIST 2,000/1,000, 64 px', 'image', d, d/'valid', None, ['--size', 64, '--epochs', 4]))
    return res

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--no-larger', action='store_true', help='the bundled samples only')
    p.add_argument('--repeats', type=int, default=50, help='timed calls per model and batch size')
    p.add_argument('--qat', type=int, default=2, help='epochs of quantisation-aware fine-tuning for the second row of the tasks that take it (0: no such rows)')
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name,task,data,valid,calib,opts in sets(tmp, not a.no_larger):
            run = tmp/f'run{len(rows)}'
            t_train = ftkit('train', data, '--task', task, '--strategy', 'fine_tune', *opts, '--out', run, '-q', '--no-forgetting')
            for qat in ([0, a.qat] if a.qat and get_task(task).qat else [0]):
                (run/'quantization.json').unlink(missing_ok=True)
                t_q = ftkit('export', run, '--int8', '--data', valid, '--repeats', a.repeats, *(['--calib', calib] if calib else []), *(['--qat', qat] if qat else []), ok=(0, 2))  # 2: refused, the figures in quantization.json
                if not (run/'quantization.json').is_file(): raise SystemExit(f"ftkit export --int8 wrote no quantization.json for {name}")
                q = json.loads((run/'quantization.json').read_text())
                m,lat,s = q['main_metric'],q['latency_ms'],q['size_mb']
                rows.append(dict(set=name, method=q['method'].split(':')[0] + (f' + QAT, {qat} epochs' if qat else ''), metric=m, fp32=q['fp32'][m], int8=q['int8'][m], fp32_after_qat=q['qat']['fp32'][m] if q.get('qat') else None, drop_points=q['drop_points'], kept=q['kept'], n_valid=q['n'],
                                 onnx_mb=s['model.onnx'], int8_mb=s['model.int8.onnx'], size_ratio=round(s['model.int8.onnx']/s['model.onnx'], 3),
                                 **{f'b{b}_{k}_ms':lat[f'batch_{b}'][k]['median_ms'] for b in (1, 32) for k in ('torch_fp32', 'onnx_fp32', 'onnx_int8')},
                                 train_s=round(t_train, 1), export_int8_s=round(t_q, 1)))
                print(f"{name}{f' (QAT, {qat} epochs)' if qat else ''}: {m} {q['fp32'][m]:.4f} -> {q['int8'][m]:.4f}", flush=True)
    df = pd.DataFrame(rows)
    for b in (1, 32): df[f'b{b}_speedup_vs_onnx'] = (df[f'b{b}_onnx_fp32_ms']/df[f'b{b}_onnx_int8_ms']).round(2)
    df.to_csv(Path(__file__).with_suffix('.csv'), index=False)
    with pd.option_context('display.width', 250, 'display.max_columns', 30): print(df.to_string(index=False))

if __name__=='__main__': main()
