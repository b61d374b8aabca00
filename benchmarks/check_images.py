"""How long checking image files takes: opening only, Pillow's `verify()`, and a full decode (ftkit's check), per file,
serially and with `check_images`' thread pool, then again from its cache.

Run: .venv/bin/python benchmarks/check_images.py [--n 3000] [--px 96]
Writes `n` random images (half JPEG, half PNG) and one 12-megapixel JPEG to a temporary folder and prints the times.
"""
import argparse, os, tempfile, time
from pathlib import Path
import numpy as np
from PIL import Image
os.environ.setdefault('FTKIT_CACHE', tempfile.mkdtemp())  # a cold cache of checks
from ftkit.vision.data import check_images, _check_image

def timed(f):
    start = time.perf_counter(); f(); return time.perf_counter()-start

def opened(fn):
    with Image.open(fn) as im: return im.size

def verified(fn):
    with Image.open(fn) as im: im.verify()

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=3000)
    p.add_argument('--px', type=int, default=96)
    args = p.parse_args()
    d = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    fns = [d/f'{i}.{"jpg" if i%2 else "png"}' for i in range(args.n)]
    for f in fns: Image.fromarray(rng.integers(0, 256, (args.px,args.px,3), dtype=np.uint8)).save(f)
    print(f'{args.n:,} files of {args.px} px (half JPEG, half PNG), {os.cpu_count()} CPUs:')
    for name,f in [('open only', opened), ('verify()', verified), ('decode (ftkit)', _check_image)]:
        t = min(timed(lambda: [f(o) for o in fns]) for _ in range(3))
        print(f'  {name:<28}{t:6.2f} s  {t/len(fns)*1e3:5.2f} ms/file')
    print(f"  {'check_images, threads':<28}{timed(lambda: check_images(fns, progress=False)):6.2f} s  (cold cache)")
    print(f"  {'check_images, again':<28}{timed(lambda: check_images(fns, progress=False)):6.2f} s  (from the cache)")
    big = d/'12mp.jpg'
    Image.fromarray(np.ascontiguousarray(np.broadcast_to(rng.integers(0, 256, (3000,1,3), dtype=np.uint8), (3000,4000,3)))).save(big, quality=90)
    def full():
        with Image.open(big) as im: im.load()
    print(f'12-megapixel JPEG: open only {timed(lambda: opened(big))*1e3:.1f} ms, decode (ftkit) {timed(lambda: _check_image(big))*1e3:.0f} ms, full-size decode {timed(full)*1e3:.0f} ms')
