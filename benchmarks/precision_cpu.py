"""bf16 against float32 on this machine's CPU: the whole `ftkit train` command (its default strategy and epochs) on the bundled
sample (800 training, 200 validation images) at several image sizes, each precision a process of its own, one at a time.

Per run: validation accuracy, the seconds of fitting (training and the feature cache's pass), the whole process; and per
size the ratio float32 / bf16 of each (above 1: bf16 faster). The default precision on a CPU is chosen from this table
(see the precision section of the callbacks chapter).

Run: .venv/bin/python benchmarks/precision_cpu.py [--sizes 64 128 224] [--seeds 0 1]
Writes the table to precision_cpu.csv next to this script.
"""
import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path
import pandas as pd

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent

def run(size:int, precision:str, seed:int)->dict:
    from ftkit.vision.data import sample_data
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        r = subprocess.run([str(BIN/'ftkit'), 'train', str(sample_data()), '--size', str(size), '--precision', precision, '--seed', str(seed), '--out', d, '-q'],
                           capture_output=True, text=True)
        wall = time.perf_counter()-t
        if r.returncode: sys.exit(r.stderr[-3000:])
        m = json.loads((Path(d)/'metrics.json').read_text())
    return dict(size=size, precision=precision, seed=seed, accuracy=m['accuracy'], fit_s=m['time_s']['training']+m['time_s'].get('cache', 0), total_s=wall)

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[64, 128, 224]); p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    a = p.parse_args()
    from ftkit.callbacks import cpu_has_bf16
    import os
    print(f"CPU: {os.cpu_count()} cores, native bf16: {cpu_has_bf16()}", flush=True)
    rows = [run(s, pr, seed) for seed in a.seeds for s in a.sizes for pr in ('32', 'bf16')]  # (the two precisions of a size side by side)
    df = pd.DataFrame(rows)
    g = df.groupby(['size', 'precision'], sort=False)[['accuracy', 'fit_s', 'total_s']].mean().unstack('precision')
    table = pd.DataFrame({'accuracy 32':g['accuracy']['32'], 'accuracy bf16':g['accuracy']['bf16'], 'fit s 32':g['fit_s']['32'], 'fit s bf16':g['fit_s']['bf16'],
                          'fit 32/bf16':g['fit_s']['32']/g['fit_s']['bf16'], 'total s 32':g['total_s']['32'], 'total s bf16':g['total_s']['bf16'],
                          'total 32/bf16':g['total_s']['32']/g['total_s']['bf16']})
    print(f"means over seeds {', '.join(map(str, a.seeds))}:")
    print(table.round(3).to_string())
    df.to_csv(HERE/'precision_cpu.csv', index=False)
