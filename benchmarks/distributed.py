"""One process against two (or more), each a whole `ftkit train` command as a user runs it, on the Fashion-MNIST sample.

    python benchmarks/distributed.py                  # 1 and 2 processes, seeds 0 1 2, fine_tune and lp_ft
    python benchmarks/distributed.py --procs 1 2 4 --size 64 --epochs 4

Each row is one whole process tree (the launcher and its processes), timed from outside, side by side in the same run;
`images/s` counts the training images seen per second of the training stage (`metrics.json`'s `time_s.training`, the
feature cache's pass apart). The global batch size is the same for every process count (`--bs` is over all processes),
so the rows differ only in how the work is shared. A second table times, under `torchrun`, one training step of the
model (forward and backward at the per-process batch) with and without DDP's gradient all-reduce (`no_sync`): the
difference is the communication each step costs. Writes benchmarks/distributed.csv.

On a machine with 2 cores, two processes share the cores that one process used with 2 threads: the benchmark shows the
cost of sharding, gathering and the all-reduce, not a speed-up, which needs a core (or a GPU) per process."""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
import pandas as pd

BIN = Path(sys.executable).parent

STEP = r'''
import os, sys, time, torch, torch.distributed as dist
from ftkit.all import *
from ftkit.distributed import init_distributed
init_distributed()
bs, size, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
learn = ft_learner(image_dls(sample_data(), size=size, bs=bs), weights='offline')
model = torch.nn.parallel.DistributedDataParallel(learn.model)
x, y = torch.randn(bs, 3, size, size), torch.randint(0, 10, (bs,))
def step(sync):
    ctx = torch.enable_grad() if sync else model.no_sync()
    with ctx:
        loss = torch.nn.functional.cross_entropy(model(x), y); loss.backward()
    model.zero_grad()
for s in (True, False): step(s)  # warm-up
res = {}
for s in (True, False, True, False):
    dist.barrier(); t = time.perf_counter()
    for _ in range(n): step(s)
    res.setdefault(s, []).append((time.perf_counter()-t)/n)
if dist.get_rank()==0:
    import json; print(json.dumps(dict(sync=min(res[True]), nosync=min(res[False]), params=sum(p.numel() for p in learn.model.parameters()))))
'''

def run_train(a, procs, strategy, seed, out):
    cmd = [str(BIN/'ftkit'), 'train', a.data, '--size', str(a.size), '--bs', str(a.bs), '--strategy', strategy, '--epochs', str(a.epochs),
           '--seed', str(seed), '--out', str(out), '-q', '--no-forgetting', '--distributed', str(procs)]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter()-t
    if r.returncode: raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    m = json.loads((out/'metrics.json').read_text())
    train_s = m['time_s']['training']
    return dict(strategy=strategy, processes=procs, seed=seed, accuracy=m['accuracy'], f1_macro=m['f1_macro'], valid_loss=m['valid_loss'],
                wall_s=round(wall, 2), training_s=train_s, cache_s=m['time_s'].get('cache', 0.), images_per_s=round(m['n_train']*m['epochs_run']/train_s, 1))

def step_overhead(a, procs, iters=10):
    with tempfile.TemporaryDirectory() as d:
        fn = Path(d)/'step.py'; fn.write_text(STEP)
        env = {**os.environ, 'OMP_NUM_THREADS':str(max(1, (os.cpu_count() or 1)//procs))}
        r = subprocess.run([str(BIN/'torchrun'), '--standalone', '--nproc-per-node', str(procs), str(fn), str(a.bs//procs), str(a.size), str(iters)],
                           capture_output=True, text=True, env=env)
    if r.returncode: raise SystemExit(r.stderr[-2000:])
    o = json.loads([l for l in r.stdout.splitlines() if l.startswith('{')][-1])
    return dict(processes=procs, per_process_bs=a.bs//procs, step_ms=round(1000*o['sync'], 1), step_no_allreduce_ms=round(1000*o['nosync'], 1),
                allreduce_ms=round(1000*(o['sync']-o['nosync']), 1), grad_mb=round(o['params']*4/2**20, 1))

def main():
    from ftkit.vision.data import sample_data
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=str(sample_data()))
    p.add_argument('--procs', type=int, nargs='+', default=[1, 2])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--strategies', nargs='+', default=['fine_tune', 'lp_ft'])
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--epochs', type=int, default=3)
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for s in a.strategies:
            for seed in a.seeds:
                for n in a.procs:  # side by side: the same seed on each process count in turn
                    rows.append(run_train(a, n, s, seed, Path(d)/f'{s}_{seed}_{n}'))
                    print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    g = df.groupby(['strategy', 'processes'])
    t = g.agg(runs=('seed', 'size'), accuracy=('accuracy', 'mean'), accuracy_std=('accuracy', 'std'), valid_loss=('valid_loss', 'mean'),
              wall_s=('wall_s', 'mean'), training_s=('training_s', 'mean'), images_per_s=('images_per_s', 'mean')).reset_index()
    base = t[t.processes==min(a.procs)].set_index('strategy')
    t['wall_vs_1'] = (t.wall_s/t.strategy.map(base.wall_s)).round(2)
    t['images_per_s_vs_1'] = (t.images_per_s/t.strategy.map(base.images_per_s)).round(2)
    t['accuracy_gap'] = (t.accuracy-t.strategy.map(base.accuracy)).round(3)
    # the largest gap between 1 and N processes on the same seed: what the test's tolerance must hold
    paired = df.pivot_table(index=['strategy', 'seed'], columns='processes', values='accuracy')
    print(f"\nFashion-MNIST sample, {a.size} px, global batch {a.bs}, {a.epochs} epochs, {os.cpu_count()} cores; whole commands, mean over seeds {a.seeds}\n")
    print(t.round(3).to_string(index=False))
    for n in a.procs[1:]:
        print(f"largest |accuracy(1) - accuracy({n})| on one seed: {(paired[n]-paired[min(a.procs)]).abs().max():.3f}")
    steps = pd.DataFrame([step_overhead(a, n) for n in a.procs if n > 1])
    print(f"\nOne training step at the per-process batch, with and without DDP's gradient all-reduce (gloo on CPU):\n")
    print(steps.to_string(index=False))
    out = Path(__file__).parent/'distributed.csv'
    pd.concat([df.assign(table='runs'), steps.assign(table='step')]).to_csv(out, index=False)
    print(f"\nWrote {out}")

if __name__ == '__main__': main()
