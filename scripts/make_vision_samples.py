"""Build the segmentation, multi-label and detection samples that ship inside the ftkit package, from the Fashion-MNIST sample.

Both are composited, and say so: Fashion-MNIST items (ftkit/samples/fashion_mnist_sample, itself drawn from the
original dataset by scripts/make_sample.py) are tinted and pasted at random places and scales onto procedurally
textured backgrounds (smooth noise, stripes, checks), 64 x 64 RGB (96 x 96 for detection). Items of the training images come from the
sample's train/ folder and items of the validation images from its valid/ folder, so no item is in both.

- segmentation_sample/: train/ and valid/, each with images/ and masks/ (same file stem). A mask is a PNG whose pixel
  values are class indices: 0 background, then the item's group (codes.txt: background, top, trouser, footwear, bag);
  an item's pixels are those brighter than a threshold in the original item, and a later item covers an earlier one.
- multilabel_sample/: images/ and labels.csv (fname, labels separated by spaces, is_valid): one to three items per
  image, labelled by their Fashion-MNIST classes; one image in twenty has no item and so no label (the empty set).
- detection_sample/: train/ and valid/, each with images/ (96 x 96 JPEG) and annotations.json in COCO's form: one to
  four items per image, each boxed exactly (the bounding box of its pixels brighter than the threshold, as
  [x, y, width, height] in pixels) and labelled by its group (top, trouser, footwear, bag); items may overlap; one
  image in twenty has no item (a negative, kept with no box).

Reproducible byte for byte (one seeded generator). Run: python scripts/make_vision_samples.py [SRC] [DEST]
"""
import csv, shutil, sys
from pathlib import Path
import numpy as np
from PIL import Image

ROOT = Path(__file__).parents[1]
SRC = Path(sys.argv[1] if len(sys.argv)>1 else ROOT/'ftkit'/'samples'/'fashion_mnist_sample')
DEST = Path(sys.argv[2] if len(sys.argv)>2 else ROOT/'ftkit'/'samples')
SIZE = 64
GROUPS = {'tshirt_top':'top', 'pullover':'top', 'coat':'top', 'shirt':'top', 'dress':'top', 'trouser':'trouser',
          'sandal':'footwear', 'sneaker':'footwear', 'ankle_boot':'footwear', 'bag':'bag'}
CODES = ['background', 'top', 'trouser', 'footwear', 'bag']
N = dict(segmentation=dict(train=240, valid=80), multilabel=dict(train=320, valid=100), detection=dict(train=320, valid=100))
DET = 96  # side of the detection images
THRESH = 40  # an item's pixel: brighter than this in the original grey image

NOTE = """{title}
{line}
Composited images, not photographs: Fashion-MNIST items (from ftkit's Fashion-MNIST sample) tinted and pasted at
random places and scales onto procedurally textured backgrounds, 64 x 64 RGB, by scripts/make_vision_samples.py.
{what}
Fashion-MNIST: https://github.com/zalandoresearch/fashion-mnist, The MIT License (MIT), Copyright (c) 2017 Zalando SE,
https://tech.zalando.com (the full licence text is in ftkit/samples/fashion_mnist_sample/LICENSE).
"""

def texture(rng, size=SIZE):
    "A `size` x `size` RGB background: smooth noise, stripes or checks, in two random colours"
    kind = rng.integers(3)
    y,x = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind==0:
        low = rng.random((8, 8)).astype(np.float32)
        t = np.asarray(Image.fromarray((low*255).astype(np.uint8)).resize((size, size), Image.BICUBIC), dtype=np.float32)/255
    elif kind==1:
        a,f = rng.random()*np.pi,rng.uniform(0.15, 0.6)
        t = 0.5+0.5*np.sin(f*(x*np.cos(a)+y*np.sin(a)))
    else:
        s = rng.integers(4, 13)
        t = ((x//s + y//s) % 2).astype(np.float32)
    c0,c1 = rng.uniform(0, 160, 3),rng.uniform(0, 160, 3)  # darker than most items: they stay visible
    img = c0 + t[..., None]*(c1-c0) + rng.normal(0, 3, (size, size, 3))
    return np.clip(img, 0, 255)

def paste(img, mask, item, value, rng, scale=(22, 40)):
    "Paste grey `item`, tinted and scaled to a side drawn from `scale`, at a random place; its bright pixels set to `value` in `mask`"
    s = int(rng.integers(*scale))
    it = np.asarray(Image.fromarray(item).resize((s, s), Image.BILINEAR), dtype=np.float32)
    y0,x0 = rng.integers(0, img.shape[0]-s+1, 2)
    tint = rng.uniform(0.55, 1.0, 3)
    on = it > THRESH
    a = (it/255.)[..., None]
    region = img[y0:y0+s, x0:x0+s]
    region[on] = (a*255*tint + (1-a)*region)[on]
    mask[y0:y0+s, x0:x0+s][on] = value
    return on.sum()

def items(split):
    "(grey array, class name) of every item of the Fashion-MNIST sample's `split`"
    return [(np.asarray(Image.open(f).convert('L')), f.parent.name) for f in sorted((SRC/split).glob('*/*.png'))]

def segmentation(rng, dest):
    for split,n in N['segmentation'].items():
        pool = items(split)
        (dest/split/'images').mkdir(parents=True); (dest/split/'masks').mkdir(parents=True)
        for i in range(n):
            img,mask = texture(rng),np.zeros((SIZE, SIZE), np.uint8)
            for j in rng.choice(len(pool), int(rng.integers(1, 4)), replace=False):
                it,cls = pool[j]
                paste(img, mask, it, CODES.index(GROUPS[cls]), rng)
            Image.fromarray(img.round().astype(np.uint8)).save(dest/split/'images'/f'{split}_{i:04d}.png', optimize=True)
            Image.fromarray(mask).save(dest/split/'masks'/f'{split}_{i:04d}.png', optimize=True)
    (dest/'codes.txt').write_text('\n'.join(CODES)+'\n')
    (dest/'README').write_text(NOTE.format(title='Segmentation sample', line='='*19, what=(
        "train/ and valid/ hold images/ and masks/ (same stem); a mask's pixel values are class indices, named in codes.txt\n"
        "(0 background, 1 top, 2 trouser, 3 footwear, 4 bag). Items of valid/ images come from Fashion-MNIST's test set.\n")))

def multilabel(rng, dest):
    (dest/'images').mkdir(parents=True)
    rows = []
    for split,n in N['multilabel'].items():
        pool = items(split)
        for i in range(n):
            img,mask = texture(rng),np.zeros((SIZE, SIZE), np.uint8)
            k = 0 if rng.random() < 0.05 else int(rng.integers(1, 4))
            labels = set()
            for j in rng.choice(len(pool), k, replace=False):
                it,cls = pool[j]
                if paste(img, mask, it, 1, rng) and (mask==1).sum(): labels.add(cls)
                mask[:] = 0
            fn = f'{split}_{i:04d}.png'
            Image.fromarray(img.round().astype(np.uint8)).save(dest/'images'/fn, optimize=True)
            rows.append(dict(fname=f'images/{fn}', labels=' '.join(sorted(labels)), is_valid=split=='valid'))
    with open(dest/'labels.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, ['fname', 'labels', 'is_valid']); w.writeheader(); w.writerows(rows)
    (dest/'README').write_text(NOTE.format(title='Multi-label sample', line='='*18, what=(
        "labels.csv: fname, labels (the Fashion-MNIST classes of the items in the image, separated by spaces; empty for\n"
        "the images with no item) and is_valid (True: a validation image, whose items come from Fashion-MNIST's test set).\n")))

def detection(rng, dest):
    import json
    cats = CODES[1:]
    for split,n in N['detection'].items():
        pool = items(split)
        (dest/split/'images').mkdir(parents=True)
        images,anns = [],[]
        for i in range(n):
            img = texture(rng, DET)
            k = 0 if rng.random() < 0.05 else int(rng.integers(1, 5))
            masks = []
            for j in rng.choice(len(pool), k, replace=False):
                it,cls = pool[j]
                m = np.zeros((DET, DET), np.uint8)
                paste(img, m, it, 1, rng, scale=(24, 56))
                for o in masks: o[m==1] = 0  # a later item covers an earlier one
                masks.append(m)
                anns.append(dict(image_id=i, category_id=cats.index(GROUPS[cls])+1, mask=m))
            fn = f'{split}_{i:04d}.jpg'
            Image.fromarray(img.round().astype(np.uint8)).save(dest/split/'images'/fn, quality=90)
            images.append(dict(id=i, file_name=fn, width=DET, height=DET))
        out = []
        for a in anns:
            ys,xs = np.nonzero(a.pop('mask'))
            if not len(xs): continue  # wholly covered by later items
            x0,y0,x1,y1 = int(xs.min()),int(ys.min()),int(xs.max())+1,int(ys.max())+1
            out.append(dict(id=len(out)+1, **a, bbox=[x0, y0, x1-x0, y1-y0], area=(x1-x0)*(y1-y0), iscrowd=0))
        coco = dict(images=images, annotations=out, categories=[dict(id=j+1, name=c) for j,c in enumerate(cats)])
        (dest/split/'annotations.json').write_text(json.dumps(coco, indent=1))
    (dest/'README').write_text(NOTE.format(title='Detection sample', line='='*16, what=(
        "train/ and valid/ each hold images/ (96 x 96 JPEG) and annotations.json in COCO's form: one box per item, the\n"
        "bounding box of its visible pixels as [x, y, width, height], labelled top, trouser, footwear or bag; one image\n"
        "in twenty is a negative (no item, no box). Items of valid/ images come from Fashion-MNIST's test set.\n")).replace('64 x 64 RGB', 'RGB'))

if __name__=='__main__':
    if not SRC.exists(): sys.exit(f"{SRC} not found: it is the Fashion-MNIST sample (scripts/make_sample.py builds it)")
    for name,build,seed in (('segmentation_sample', segmentation, 0), ('multilabel_sample', multilabel, 1), ('detection_sample', detection, 2)):
        d = DEST/name
        if d.exists(): shutil.rmtree(d)
        build(np.random.default_rng(seed), d)
        print(f"Wrote {d}: {sum(1 for f in d.rglob('*') if f.suffix in ('.png', '.jpg'))} images and masks, {sum(f.stat().st_size for f in d.rglob('*'))/1e6:.1f} MB")
