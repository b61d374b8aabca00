"The package as users get it: what `import` pulls in, and what the wheel contains."
import ast, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]

def run(code): return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)

def test_import_ftkit_is_light():
    r = run("import sys, ftkit, ftkit.core, ftkit.vision.models, ftkit.vision.task, ftkit.vision.detector, ftkit.export, ftkit.quantize; print('fastai' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'False'

def test_star_import_gives_the_kit_and_fastai():
    r = run("from ftkit import *; print(all(callable(o) for o in (ft_learner, image_dls, create_backbone, sample_data, train, vision_learner, Learner, load_model, export_model, compare_strategies, FineTune, FeatureCache, Checkpoint, graceful_stop, get_task, ImageClassification, Task, FtkitError, weight_drift, forgetting, L2SP)))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'True'
    r = run("from ftkit import *; print(load_model.__module__, load_learner.__module__)")  # ftkit's, not fastai's (which unpickles)
    assert r.stdout.strip() == 'ftkit.export ftkit.export', r.stdout

IMPORTS = ['from ftkit import *', 'from ftkit.cli import train'] + [f'import ftkit.{m}' for m in
    'core data learner callbacks features strategies auto evaluate compare export quantize adapt settings run cli distributed vision.image vision.data vision.models vision.task vision.learner vision.adapt vision.segment vision.detector vision.detect text.model text.task text.data text.learner audio.clip audio.data audio.task audio.learner'.split()]

def test_imports_have_no_warnings():
    "Each entry point imported in a fresh process (a warning shows once per process) with FutureWarning an error; two processes at a time, as imports use one core each"
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as ex: res = dict(zip(IMPORTS, ex.map(lambda stmt: run(f"import warnings; warnings.simplefilter('error', FutureWarning)\n{stmt}"), IMPORTS)))
    failed = {stmt:r.stderr[-2000:] for stmt,r in res.items() if r.returncode}
    assert not failed, failed

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
    assert {'ftkit/samples/detection_sample/train/annotations.json', 'ftkit/samples/detection_sample/valid/annotations.json', 'ftkit/samples/detection_sample/README'} <= set(names)
    assert len([n for n in names if n.startswith('ftkit/samples/detection_sample/') and n.endswith('.jpg')]) == 420
    assert any(n.endswith('entry_points.txt') for n in names)

PKG = ROOT/'ftkit'
TASK_PACKAGES = sorted(p.name for p in PKG.iterdir() if (p/'__init__.py').exists())  # vision, text, ...
CORE = sorted(p for p in PKG.glob('*.py') if p.name not in ('all.py', '_modidx.py', '__init__.py'))  # all.py gathers the whole kit, on purpose

def _imports(fn)->list:
    "Every module `fn` imports, as absolute names, wherever the import is (top level, a function, `importlib.import_module`)"
    mod = 'ftkit.' + '.'.join(fn.relative_to(PKG).with_suffix('').parts)
    res = []
    for n in ast.walk(ast.parse(fn.read_text())):
        if isinstance(n, ast.Import): res += [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            base = '.'.join(mod.split('.')[:-n.level]) + ('.' if n.level and n.module else '') if n.level else ''
            res += [base + (n.module or '')] + [f"{base}{n.module+'.' if n.module else ''}{a.name}" for a in n.names]
        elif isinstance(n, ast.Call) and getattr(n.func, 'attr', getattr(n.func, 'id', None))=='import_module' and n.args and isinstance(n.args[0], ast.Constant):
            res.append(n.args[0].value)
    return res

def test_core_imports_no_task_package():
    "The core modules import neither a task package nor timm or transformers, anywhere in them (function bodies included): a new task joins through `Task`"
    banned = tuple(f'ftkit.{p}' for p in TASK_PACKAGES) + ('timm', 'transformers')
    found = {fn.name:[m for m in _imports(fn) if m.startswith(banned)] for fn in CORE}
    assert {k:v for k,v in found.items() if v} == {}
    r = run("import sys\n" + "".join(f"import ftkit.{p.stem}\n" for p in CORE) + "print(sorted(m for m in sys.modules if m.startswith(('ftkit.vision','ftkit.text','ftkit.audio')) or m in ('timm','transformers','soundfile')))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == '[]'

def test_core_names_no_task():
    "No core module names a task: no string that is a task's name or alias, anywhere (what differs between tasks is a hook of `Task`)"
    r = run("from ftkit.core import get_task, Task\nget_task()\nprint('\\n'.join(sorted({t.name for t in Task.tasks.values()})))\nprint('--')\nprint('\\n'.join(sorted({a for t in Task.tasks.values() for a in t.aliases})))")
    assert r.returncode == 0, r.stderr
    names,aliases = (set(s.split()) for s in r.stdout.split('--'))
    assert {'image_classification', 'text_classification', 'segmentation', 'detection', 'image_multilabel', 'audio_classification'} <= names and {'text', 'audio'} <= aliases
    bad = []
    for fn in CORE:
        for n in ast.walk(ast.parse(fn.read_text())):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in names|aliases: bad.append(f'{fn.name}:{n.lineno}: {n.value!r}')
    assert bad == []

def _cycles(graph:dict)->list:
    "The edges of `graph` (module -> modules it imports) that lie on a cycle"
    def reach(a):
        seen,todo = set(),[a]
        while todo:
            for b in graph.get(todo.pop(), ()):
                if b not in seen: seen.add(b); todo.append(b)
        return seen
    return sorted((a, b) for a in graph for b in graph[a] if a in reach(b))

def test_task_packages_have_no_import_circle():
    "Inside each task package no module imports, even inside a function, a module that imports it back"
    for pkg in TASK_PACKAGES:
        files = {f"ftkit.{pkg}.{f.stem}":f for f in (PKG/pkg).glob('*.py') if f.stem not in ('__init__', 'all')}
        graph = {m:{i for i in _imports(f) if i in files and i!=m} for m,f in files.items()}
        assert _cycles(graph) == [], pkg
    assert _cycles({'a':{'b'}, 'b':{'c'}, 'c':{'a'}, 'd':{'a'}}) == [('a','b'), ('b','c'), ('c','a')]  # the check itself finds a circle

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
