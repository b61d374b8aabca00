"The benchmarks that must not rot: run as their users run them, at their smallest."
import subprocess, sys
from pathlib import Path
import pandas as pd, pytest, torch

ROOT = Path(__file__).parents[1]

@pytest.mark.slow  # (seven whole processes; the commands it times are tested on their own)
def test_gpu_benchmark_smoke():
    "benchmarks/gpu.py --smoke on this machine's device: every run of the real table, at 32 px, in each precision the device has; the table printed and written"
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'gpu.py', '--smoke'], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    gpu = torch.cuda.is_available()
    from ftkit.callbacks import gpu_has_bf16
    precisions = ['32'] + (['bf16'] if not gpu or gpu_has_bf16() else []) + (['fp16'] if gpu else [])
    df = pd.read_csv(ROOT/'benchmarks'/'gpu_smoke.csv', dtype=dict(precision=str))
    assert list(df.run) == ['plain fastai fine_tune', *['ftkit train (default: lp_ft)']*len(precisions), 'ftkit train --strategy fine_tune',
                            *['ftkit train (texts)']*len(precisions), 'Hugging Face Trainer'], df.run.tolist()
    for run in ('ftkit train (default: lp_ft)', 'ftkit train (texts)'): assert list(df[df.run==run].precision) == precisions
    assert (df.items_per_s > 0).all() and df.total_s.notna().all()
    assert df.speed_vs_fastai.iloc[0] == 1 and df[df.task=='images'].speed_vs_fastai.notna().all()
    assert r.stdout.count('\n') >= len(df)+2 and 'speed_vs_fastai' in r.stdout
