"""Where the time of one ftkit fine-tuning epoch goes: the data pipeline alone (one pass over the training and validation
loaders), then `cProfile` of one full epoch (MobileNetV2, offline weights, the bundled sample, 64 px, bs 64), after a
warm-up epoch.

Run: .venv/bin/python benchmarks/profile_epoch.py [--size 64] [--top 15]
"""
import argparse, cProfile, pstats, time
from ftkit.core import seed_everything
from ftkit.vision.data import image_dls, sample_data
from ftkit.vision.learner import ft_learner

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--top', type=int, default=15)
    a = p.parse_args()
    seed_everything(0)
    dls = image_dls(sample_data(), size=a.size, bs=64, arch='mobilenetv2_100', verbose=False)
    for name,dl in (('training', dls.train), ('validation', dls.valid)):
        start = time.perf_counter()
        for _ in dl: pass
        print(f'{name} data alone: {time.perf_counter()-start:.2f} s')
    learn = ft_learner(dls)
    learn.unfreeze()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    prof.disable()
    print(f'one epoch (train + validate): {time.perf_counter()-start:.2f} s')
    pstats.Stats(prof).sort_stats('tottime').print_stats(a.top)
