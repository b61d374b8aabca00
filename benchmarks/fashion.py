"""A larger image set for the benchmarks: `n_train` training and `n_valid` validation images from the full Fashion-MNIST
of Debian's `dataset-fashion-mnist` package (apt-get install dataset-fashion-mnist), as class folders of PNG files, the
layout of the bundled sample. The first images of each class of the training file and of the test file, so the set is the
same on every machine. Run: .venv/bin/python benchmarks/fashion.py DEST [--train 2000] [--valid 1000]
"""
import argparse, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parents[1]/'scripts'))
import make_sample

def fashion_folder(dest, n_train:int=2000, n_valid:int=1000)->Path:
    "`dest` holding train/ and valid/ class folders of `n_train` and `n_valid` images (balanced); written once, reused after"
    dest = Path(dest)
    done = dest/'.complete'
    if done.exists() and done.read_text()==f'{n_train} {n_valid}': return dest
    make_sample.SRC = Path('/usr/share/datasets/fashion-mnist')  # (the script reads its own command line at import)
    if not make_sample.SRC.exists(): sys.exit(f"{make_sample.SRC} not found: install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist)")
    make_sample.DEST = dest
    make_sample.write_split('train', 'train', n_train//10)
    make_sample.write_split('t10k', 'valid', n_valid//10)
    done.write_text(f'{n_train} {n_valid}')
    return dest

if __name__=='__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('dest'); p.add_argument('--train', type=int, default=2000); p.add_argument('--valid', type=int, default=1000)
    a = p.parse_args()
    print(fashion_folder(a.dest, a.train, a.valid))
