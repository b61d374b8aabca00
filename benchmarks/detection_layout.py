"""The detector's memory layout: unfrozen training epochs of ftkit's detection model (FCOS over MobileNetV2, offline
weights, the bundled sample, 96 px, batch 16) with its weights and input channels-last (NHWC, ftkit's default) against
the default contiguous layout (NCHW), the same batches (ftkit's, loaded once before timing, so that only the model
runs), SGD. Each layout in its own process, the two alternated `--rounds` times; per process, the median of `--epochs`
epochs after a warm-up one. Prints a table and the ratio.

    python benchmarks/detection_layout.py [--epochs 5] [--rounds 2]
"""
import argparse, json, subprocess, sys, time

def epochs(layout:str, n:int)->list:
    "Seconds of `n` training epochs after a warm-up, in `layout` ('channels_last' or 'contiguous')"
    import torch
    from ftkit.core import seed_everything
    from ftkit.vision.detect import detection_dls, detection_learner
    from ftkit.vision.image import detection_sample
    seed_everything(0)
    learn = detection_learner(detection_dls(detection_sample(), bs=16, seed=0, verbose=False), weights='offline')
    learn.unfreeze()
    m = learn.model.train()
    fmt = getattr(torch, 'channels_last' if layout=='channels_last' else 'contiguous_format')
    m.to(memory_format=fmt)
    batches = [(x.as_subclass(torch.Tensor).contiguous(memory_format=fmt), b, l) for x,b,l in learn.dls.train]
    if layout=='contiguous':  # the detector lays its input out as its weights are; here the weights are NCHW, so the input is too
        m.det.backbone.body.register_forward_pre_hook(lambda mod, args: (args[0].contiguous(),))
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)
    res = []
    for e in range(n+1):
        t = time.perf_counter()
        for x,b,l in batches:
            loss = m(x, b, l); opt.zero_grad(); loss.backward(); opt.step()
        if e: res.append(time.perf_counter()-t)
    return res

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--run', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.run: print(json.dumps(epochs(a.run, a.epochs))); return
    import numpy as np
    rows = []
    for r in range(a.rounds):
        for layout in ('contiguous', 'channels_last'):
            out = subprocess.run([sys.executable, __file__, '--run', layout, '--epochs', str(a.epochs)], capture_output=True, text=True, check=True).stdout
            s = json.loads(out.strip().splitlines()[-1])
            rows.append((layout, r, float(np.median(s)))); print(f'{layout:14s} round {r}: epochs {", ".join(f"{v:.2f}" for v in s)} s', flush=True)
    print('\n| layout | median epoch (s), per process | mean |\n|---|---|---|')
    med = {}
    for layout in ('contiguous', 'channels_last'):
        v = [m for l,_,m in rows if l==layout]; med[layout] = float(np.mean(v))
        print(f"| {layout} | {', '.join(f'{x:.2f}' for x in v)} | {med[layout]:.2f} |")
    print(f"\nchannels_last / contiguous: {med['channels_last']/med['contiguous']:.2f}")

if __name__ == '__main__': main()
