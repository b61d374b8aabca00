"""Plain fastai segmentation, as its documentation teaches, on a folder with train/ and valid/, each holding images/ and
masks/ (same stem) and codes.txt: the anchor `benchmarks/defaults.py` runs beside ftkit's segmentation strategies.

fastai's `DataBlock` with `ImageBlock` and `MaskBlock` (images resized to --size, ImageNet statistics), fastai's `DynamicUnet` over the same
offline ImageNet encoder as ftkit's (`unet_model`, the U-Net fastai builds over a timm MobileNetV2's stages), a plain
`Learner` with cross-entropy over pixels, everything trained from the start: `fit_one_cycle(EPOCHS, 3e-3)`.
The mean IoU is computed as ftkit computes it (one pixel confusion matrix over the validation pass, classes present).
Prints one JSON line: mean IoU, pixel accuracy and the seconds of each step of this process.
Run: .venv/bin/python benchmarks/fastai_unet.py DATA [--epochs 8] [--size 64] [--bs 16] [--lr 3e-3] [--seed 0]
"""
import time
_t0 = time.perf_counter()
import argparse, json, warnings
from pathlib import Path
from fastai.vision.all import *
_t1 = time.perf_counter()

def main(a):
    steps = dict(imports=_t1-_t0)
    set_seed(a.seed, reproducible=True)
    t = time.perf_counter()
    path = Path(a.data)
    codes = (path/'codes.txt').read_text().split()
    fnames = [f for s in ('train', 'valid') for f in sorted((path/s/'images').glob('*.png'))]
    dls = DataBlock(blocks=(ImageBlock, MaskBlock(codes)), get_items=lambda p: fnames, get_y=lambda f: f.parent.parent/'masks'/f.name,
                    splitter=FuncSplitter(lambda f: f.parent.parent.name=='valid'), item_tfms=Resize(a.size, method='squish'),
                    batch_tfms=Normalize.from_stats(*imagenet_stats)).dataloaders(path, bs=a.bs)
    steps['data'] = time.perf_counter()-t; t = time.perf_counter()
    from ftkit.vision.segment import unet_model  # the same network as ftkit's: fastai's DynamicUnet over the offline encoder
    learn = Learner(dls, unet_model('mobilenetv2_100', len(codes), a.size, 'offline'), loss_func=CrossEntropyLossFlat(axis=1))
    steps['model'] = time.perf_counter()-t; t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr)
    steps['training'] = time.perf_counter()-t; t = time.perf_counter()
    with learn.no_bar(): preds,targs = learn.get_preds(dl=dls.valid)
    n = len(codes)
    cm = torch.bincount(targs.long().flatten()*n + preds.argmax(1).flatten(), minlength=n*n).view(n, n).double()
    tp,tr,pr = cm.diag(),cm.sum(1),cm.sum(0)
    present = (tr+pr) > 0
    steps['evaluation'] = time.perf_counter()-t
    print(json.dumps(dict(mean_iou=float((tp/(tr+pr-tp).clamp(min=1))[present].mean()), pixel_accuracy=float(tp.sum()/cm.sum()), steps=steps)))

if __name__=='__main__':
    warnings.simplefilter('ignore')
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('data'); p.add_argument('--epochs', type=int, default=8); p.add_argument('--size', type=int, default=64)
    p.add_argument('--bs', type=int, default=16); p.add_argument('--lr', type=float, default=3e-3); p.add_argument('--seed', type=int, default=0)
    main(p.parse_args())
