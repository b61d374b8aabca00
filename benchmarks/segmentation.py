"""Segmentation on the composited sample: the pretrained encoder against the same U-Net from scratch at an equal budget,
and ftkit's epoch against a hand-written PyTorch loop over the same model.

    python benchmarks/segmentation.py                       # 64 px, 5 epochs, seeds 0 1 2
    python benchmarks/segmentation.py --size 128 --epochs 8

Table 1, each row a whole `ftkit train` command timed from outside, side by side in one run: fine_tune from the
offline ImageNet encoder, feature_extract (frozen encoder), and scratch, with the same epochs and balanced class
weights; mean IoU, Dice and pixel accuracy on the validation images, wall time.

Table 2, one training epoch of the whole U-Net (encoder unfrozen) plus a validation pass, in one process: ftkit's
learner (`fit_one_cycle(1)`, its metrics included) against a minimal PyTorch loop (images and masks read with Pillow,
a `torch.utils.data.DataLoader`, AdamW, cross-entropy), both channels-last, same model, batch size and image size;
the ratio is ftkit's time over the loop's (the target is 1.1 or less). Writes benchmarks/segmentation.csv."""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd

BIN = Path(sys.executable).parent

def run_train(a, strategy, seed, out):
    cmd = [str(BIN/'ftkit'), 'train', a.data, '--size', str(a.size), '--bs', str(a.bs), '--strategy', strategy, '--epochs', str(a.epochs),
           '--seed', str(seed), '--balance', 'weights', '--out', str(out), '-q', '--no-forgetting']
    if strategy=='scratch': cmd += ['--weights', 'none']
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    m = json.loads((out/'metrics.json').read_text())
    return dict(strategy=strategy, seed=seed, mean_iou=m['mean_iou'], dice=m['dice'], pixel_accuracy=m['pixel_accuracy'],
                wall_s=round(time.perf_counter()-t, 2), training_s=m['time_s']['training'])

def epoch_ftkit(a, seed):
    from ftkit.all import seed_everything, segmentation_dls, seg_learner
    seed_everything(seed)
    learn = seg_learner(segmentation_dls(a.data, size=a.size, bs=a.bs, seed=seed, verbose=False), weights='offline')
    learn.unfreeze()
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-3)
    return time.perf_counter()-t

def epoch_hand(a, seed):
    "A minimal PyTorch loop over the same U-Net: Pillow reads, DataLoader, AdamW, cross-entropy, one epoch, then a validation pass"
    import torch, torch.nn.functional as F
    from PIL import Image
    from ftkit.all import seed_everything, unet_model
    from ftkit.vision.data import arch_stats
    seed_everything(seed)
    mean,std = (torch.tensor(o).view(3, 1, 1) for o in arch_stats('mobilenetv2_100'))
    class DS(torch.utils.data.Dataset):
        def __init__(self, split): self.files = sorted((Path(a.data)/split/'images').glob('*.png'))
        def __len__(self): return len(self.files)
        def __getitem__(self, i):
            f = self.files[i]
            x = torch.from_numpy(np.asarray(Image.open(f).convert('RGB').resize((a.size, a.size), Image.BILINEAR), dtype=np.float32).copy()).permute(2, 0, 1)/255
            y = torch.from_numpy(np.asarray(Image.open(f.parent.parent/'masks'/f.name).resize((a.size, a.size), Image.NEAREST), dtype=np.int64).copy())
            return (x-mean)/std, y
    tr = torch.utils.data.DataLoader(DS('train'), batch_size=a.bs, shuffle=True, drop_last=True)
    va = torch.utils.data.DataLoader(DS('valid'), batch_size=a.bs*2)
    model = unet_model('mobilenetv2_100', 5, a.size, weights='offline').to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    t = time.perf_counter()
    model.train()
    for x,y in tr:
        loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        for x,y in va: model(x.contiguous(memory_format=torch.channels_last)).argmax(1)
    return time.perf_counter()-t

def main():
    from ftkit.vision.segment import segmentation_sample
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=str(segmentation_sample()))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--bs', type=int, default=16)
    p.add_argument('--epochs', type=int, default=5)
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for seed in a.seeds:
            for s in ('fine_tune', 'feature_extract', 'scratch'):
                rows.append(run_train(a, s, seed, Path(d)/f'{s}_{seed}')); print(rows[-1], flush=True)
    runs = pd.DataFrame(rows)
    t1 = runs.groupby('strategy').agg(runs=('seed', 'size'), mean_iou=('mean_iou', 'mean'), mean_iou_std=('mean_iou', 'std'), dice=('dice', 'mean'),
                                      pixel_accuracy=('pixel_accuracy', 'mean'), wall_s=('wall_s', 'mean')).reset_index()
    t1['wall_vs_scratch'] = (t1.wall_s/float(t1.set_index('strategy').wall_s['scratch'])).round(2)
    print(f"\nSegmentation sample, {a.size} px, batch {a.bs}, {a.epochs} epochs, balanced class weights, {os.cpu_count()} cores; whole commands, seeds {a.seeds}\n")
    print(t1.round(3).to_string(index=False))
    ep = []
    for seed in a.seeds:  # alternating, so that a slow moment of the machine hits both
        ep.append(dict(seed=seed, ftkit_s=epoch_ftkit(a, seed), hand_s=epoch_hand(a, seed)))
    ep = pd.DataFrame(ep)
    print(f"\nOne epoch of the whole U-Net and a validation pass, in process (seconds):\n")
    print(ep.round(2).to_string(index=False))
    print(f"ftkit / hand-written loop: {ep.ftkit_s.median()/ep.hand_s.median():.2f} (medians; target 1.1 or less)")
    out = Path(__file__).parent/'segmentation.csv'
    pd.concat([runs.assign(table='runs'), ep.assign(table='epoch')]).to_csv(out, index=False)
    print(f"\nWrote {out}")

if __name__ == '__main__': main()
