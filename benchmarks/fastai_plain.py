"""Plain fastai, as its documentation teaches, on an image folder with train/ and valid/: the anchor `benchmarks/speed.py`
times ftkit's command against, whole process (this script's imports included). The same offline ImageNet MobileNetV2 as
ftkit, loaded into fastai's `vision_learner`; images resized (squished) to --size and normalised with ImageNet statistics.

--recipe head: `freeze()` + `fit_one_cycle(EPOCHS, 1e-2)` (the new head alone, at ftkit's feature-extraction rate);
--recipe fine_tune: `fine_tune(EPOCHS)` (fastai's default: one frozen epoch, then EPOCHS unfrozen).
Prints one JSON line: the final validation accuracy, and the seconds of each step of this process.
Run: .venv/bin/python benchmarks/fastai_plain.py DATA [--recipe head] [--epochs 5] [--size 64] [--bs 64]
"""
import time
_t0 = time.perf_counter()
import argparse, json, warnings
from fastai.vision.all import *
import timm
_t1 = time.perf_counter()

def main(a):
    steps = dict(imports=_t1-_t0)
    t = time.perf_counter()
    dls = ImageDataLoaders.from_folder(a.data, train='train', valid='valid', item_tfms=Resize(a.size, method='squish'),
                                       batch_tfms=Normalize.from_stats(*imagenet_stats), bs=a.bs)
    steps['data'] = time.perf_counter()-t; t = time.perf_counter()
    learn = vision_learner(dls, 'mobilenetv2_100', pretrained=False, metrics=accuracy)
    from ftkit.vision.models import offline_weights, load_state  # the offline weights ftkit ships (fastai alone would download them)
    sd = load_state(offline_weights('mobilenetv2_100'))
    learn.model[0].model.load_state_dict({k:v for k,v in sd.items() if not k.startswith('classifier.')})
    steps['model'] = time.perf_counter()-t; t = time.perf_counter()
    with learn.no_bar(), learn.no_logging():
        if a.recipe=='head': learn.freeze(); learn.fit_one_cycle(a.epochs, 1e-2)
        else: learn.fine_tune(a.epochs)
    steps['training'] = time.perf_counter()-t
    print(json.dumps(dict(accuracy=float(learn.recorder.values[-1][2]), steps=steps)))

if __name__=='__main__':
    warnings.simplefilter('ignore')
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('data'); p.add_argument('--recipe', choices=['head','fine_tune'], default='head')
    p.add_argument('--epochs', type=int, default=5); p.add_argument('--size', type=int, default=64); p.add_argument('--bs', type=int, default=64)
    main(p.parse_args())
