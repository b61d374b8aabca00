"The package as users get it: what `import` pulls in, and what the wheel contains."
import subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]

def run(code): return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)

def test_import_ftkit_is_light():
    r = run("import sys, ftkit, ftkit.core, ftkit.vision.models, ftkit.vision.task, ftkit.export; print('fastai' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'False'

def test_star_import_gives_the_kit_and_fastai():
    r = run("from ftkit import *; print(all(callable(o) for o in (ft_learner, image_dls, create_backbone, sample_data, train, vision_learner, Learner, load_model, export_model, compare_strategies, FineTune, FeatureCache, Checkpoint, graceful_stop, get_task, ImageClassification, Task, FtkitError, weight_drift, forgetting, L2SP)))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'True'
    r = run("from ftkit import *; print(load_model.__module__, load_learner.__module__)")  # ftkit's, not fastai's (which unpickles)
    assert r.stdout.strip() == 'ftkit.export ftkit.export', r.stdout

@pytest.mark.parametrize('stmt', ['from ftkit import *', 'from ftkit.cli import train'] + [f'import ftkit.{m}' for m in
    'core data learner callbacks features strategies evaluate compare export adapt cli vision.data vision.models vision.task vision.learner vision.adapt text.task text.data text.learner'.split()])
def test_imports_have_no_warnings(stmt):
    r = run(f"import warnings; warnings.simplefilter('error', FutureWarning)\n{stmt}")
    assert r.returncode == 0, r.stderr

def test_wheel_ships_the_sample_data(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    whl, = tmp_path.glob('ftkit-*.whl')
    names = zipfile.ZipFile(whl).namelist()
    pngs = [n for n in names if n.startswith('ftkit/samples/fashion_mnist_sample/') and n.endswith('.png')]
    assert len(pngs) == 1000
    assert 'ftkit/samples/fashion_mnist_sample/LICENSE' in names
    assert {'ftkit/samples/tweets_sample/tweets.csv', 'ftkit/samples/tweets_sample/LICENSE'} <= set(names)
    assert any(n.endswith('entry_points.txt') for n in names)

def test_core_imports_no_task_package():
    "The core modules import neither a task package nor timm or transformers at top level: a new task joins through `Task`"
    core = ['core', 'data', 'learner', 'callbacks', 'features', 'strategies', 'evaluate', 'compare', 'export', 'adapt', 'cli']
    r = run("import sys\n" + "".join(f"import ftkit.{m}\n" for m in core) + "print(sorted(m for m in sys.modules if m.startswith(('ftkit.vision','ftkit.text')) or m in ('timm','transformers')))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'

def test_loading_and_predicting_an_export_loads_no_fastai(tmp_path):
    "A model folder loads and predicts with torch, timm, safetensors and Pillow alone"
    r = run(f"""from ftkit.vision.learner import ft_learner
from ftkit.vision.data import image_dls, sample_data
from ftkit.export import export_model
learn = ft_learner(image_dls(sample_data(), size=32, train_frac=0.05, verbose=False))
export_model(learn, {str(tmp_path)!r})""")
    assert r.returncode == 0, r.stderr
    r = run(f"import sys, glob, ftkit.export\np = ftkit.export.load_model({str(tmp_path)!r}, device='cpu')\n"
            f"f = sorted(glob.glob({str(ROOT/'ftkit'/'samples'/'fashion_mnist_sample'/'valid'/'bag'/'*.png')!r}))[0]\n"
            f"print(p.predict(f)['label'] in p.classes, 'fastai' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'True False'
