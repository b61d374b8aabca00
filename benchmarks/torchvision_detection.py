"""The hand-written anchor of benchmarks/detection.py: fine-tuning a detector the way torchvision's detection tutorial
and reference scripts do, with no ftkit in the loop.

The model is the one `ftkit train --task detection` builds, written out here with torchvision and timm (torchvision's
FCOS over a feature pyramid on the offline pretrained timm MobileNetV2, its BatchNorm frozen; only the weights file is
read through ftkit, whose `ftkit.vision.models` imports no fastai), with torchvision's own `GeneralizedRCNNTransform`
normalising the images at their size. The rest is torchvision's recipe: `CocoDetection` wrapped for `transforms.v2`
(a random horizontal flip), a `DataLoader` collating lists of images and targets, SGD with momentum 0.9 and weight
decay 1e-4 at 0.02 for a batch of 16 (the best of 0.005, 0.01 and 0.02 on the sample, seed 0: mAP 0.252, 0.106 and 0.337; the FCOS reference uses 0.01), a linear warm-up over the first epoch
(`train_one_epoch`'s), the rate divided by 10 at 60% and 85% of the epochs (the reference's 16 and 22 of 26), and
COCO mAP on the validation images after every epoch, as the tutorial's loop and the reference's `train.py` do
(`evaluate(model, data_loader_test)` after each epoch; computed here by torchmetrics with pycocotools, the library
their `CocoEvaluator` uses). `--eval-at-end` scores once, after the last epoch, instead: the same recipe without the
per-epoch evaluation (its figures differ a little: each evaluation's loader draws a seed from torch's global generator,
which moves the later random flips). Prints one JSON line: the last epoch's mAP, mAP50, mAP75 and recall, each epoch's mAP (with
per-epoch evaluation), per-epoch seconds (training and evaluation) and the process's resident memory after each epoch.

    python benchmarks/torchvision_detection.py DATA [--epochs 10] [--bs 16] [--lr 0.02] [--seed 0] [--weights offline|none] [--eval-at-end]
"""
import argparse, json, random, time
from pathlib import Path
import numpy as np, psutil, torch

def coco(root:Path, split:str, train:bool):
    "torchvision's `CocoDetection` over `root/split`, wrapped for `transforms.v2`: the image as a float tensor, boxes in pixel corners"
    from torchvision.datasets import CocoDetection, wrap_dataset_for_transforms_v2
    from torchvision.transforms import v2
    tfms = v2.Compose([v2.ToImage(), *([v2.RandomHorizontalFlip(0.5)] if train else []), v2.ToDtype(torch.float32, scale=True)])
    ds = CocoDetection(str(root/split/'images'), str(root/split/'annotations.json'), transforms=tfms)
    return wrap_dataset_for_transforms_v2(ds, target_keys={'boxes', 'labels'})

def collate(batch):
    "Lists of images and targets (torchvision's `utils.collate_fn`); an image with no box gets an empty (0, 4) tensor"
    imgs,ts = [],[]
    for img,t in batch:
        imgs.append(img)
        ts.append(dict(boxes=t['boxes'].as_subclass(torch.Tensor).float() if 'boxes' in t else torch.zeros(0, 4), labels=t.get('labels', torch.zeros(0, dtype=torch.int64))))
    return imgs,ts

def build(n_classes:int, size:int, weights, arch:str='mobilenetv2_100'):
    "The detector `ftkit train --task detection` builds, written out with torchvision and timm: FCOS over a feature pyramid on the backbone's stages at strides 8, 16 and 32 (plus P6, P7), 128 channels, BatchNorm frozen when pretrained; torchvision's transform normalises the images at their size"
    from torch import nn
    from torchvision.models.detection import FCOS
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7
    from timm.layers import freeze_batch_norm_2d
    from ftkit.vision.models import create_backbone  # the offline ImageNet weights (a timm model; no fastai)
    net = create_backbone(arch, weights=weights)
    enc = nn.Sequential(net.conv_stem, net.bn1, *net.blocks)
    if weights is not None: enc = freeze_batch_norm_2d(enc)
    x,at = torch.zeros(1, 3, 64, 64),{}
    with torch.no_grad():
        for i,m in enumerate(enc): x = m(x); at[64//x.shape[-1]] = (i, x.shape[1])
    levels = [at[s] for s in (8, 16, 32)]
    body = BackboneWithFPN(enc, {str(i):str(j) for j,(i,_) in enumerate(levels)}, [c for _,c in levels], 128, extra_blocks=LastLevelP6P7(128, 128))
    cfg = net.pretrained_cfg
    return FCOS(body, n_classes+1, min_size=size, max_size=size, image_mean=list(cfg['mean']), image_std=list(cfg['std']),
                score_thresh=0.05, nms_thresh=0.5, detections_per_img=100)

def rss_mb()->float: return psutil.Process().memory_info().rss/2**20

def train_epoch(model, opt, dl, warmup=None):
    model.train()
    for imgs,ts in dl:
        loss = sum(model(imgs, ts).values())
        opt.zero_grad(); loss.backward(); opt.step()
        if warmup is not None: warmup.step()

@torch.no_grad()
def evaluate(model, dl, backend:str='pycocotools')->dict:
    "COCO's figures on `dl`, computed by torchmetrics with pycocotools (torchvision's reference evaluates with it) or `backend`"
    from torchmetrics.detection import MeanAveragePrecision
    model.eval()
    m = MeanAveragePrecision(backend=backend)
    for imgs,ts in dl: m.update(model(imgs), ts)
    r = m.compute()
    return dict(map=float(r['map']), map_50=float(r['map_50']), map_75=float(r['map_75']), mar_100=float(r['mar_100']))

def loaders(root:Path, bs:int, seed:int):
    g = torch.Generator().manual_seed(seed)
    tr = torch.utils.data.DataLoader(coco(root, 'train', True), batch_size=bs, shuffle=True, drop_last=True, collate_fn=collate, generator=g)
    va = torch.utils.data.DataLoader(coco(root, 'valid', False), batch_size=bs*2, collate_fn=collate)
    return tr,va

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('data')
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--bs', type=int, default=16)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument('--size', type=int, default=96)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--weights', default='offline')
    p.add_argument('--eval-at-end', action='store_true', help='score once, after the last epoch (default: after every epoch, as the tutorial does)')
    a = p.parse_args()
    if a.epochs < 1: p.error('--epochs must be at least 1')
    random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
    root = Path(a.data)
    tr,va = loaders(root, a.bs, a.seed)
    n_classes = len(tr.dataset.coco.cats)
    model = build(n_classes, a.size, None if a.weights=='none' else a.weights)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [round(a.epochs*0.6), round(a.epochs*0.85)], gamma=0.1)
    secs,mem,maps = [],[],[]
    for e in range(a.epochs):
        t = time.perf_counter()
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-3, total_iters=min(1000, len(tr)-1)) if e==0 else None
        train_epoch(model, opt, tr, warm)
        sched.step()
        if not a.eval_at_end or e==a.epochs-1: r = evaluate(model, va); maps.append(round(r['map'], 4))
        secs.append(round(time.perf_counter()-t, 2)); mem.append(round(rss_mb(), 1))
    print(json.dumps(dict(r, epoch_map=maps, epoch_s=secs, rss_mb=mem)))

if __name__ == '__main__': main()
