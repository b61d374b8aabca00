__version__ = "0.0.1"
"ftkit: fine-tune pretrained models on your own data, with fastai; a task-neutral core and one package per task family (`ftkit.vision`)"

# Submodules load on first use (PEP 562), so that `import ftkit.vision.models` or loading an exported model
# does not pull in fastai, while `from ftkit import *` still gives the whole kit via `ftkit.all`.
import importlib
from pathlib import Path
from .core import defer_dynamo, defer_unused
defer_dynamo()  # torchvision and timm, when imported, leave PyTorch's compiler unimported until it is used (`ftkit.core`)
defer_unused()  # fastai's first modules, when imported, leave scikit-learn, SciPy's statistics and image filters and `requests` unimported until they are used (`ftkit.core`)

_submodules = {p.stem for p in Path(__file__).parent.glob('[a-z]*.py')} | {p.parent.name for p in Path(__file__).parent.glob('[a-z]*/__init__.py')}

def __getattr__(name):
    if name in _submodules: return importlib.import_module(f'{__name__}.{name}')
    kit = importlib.import_module(f'{__name__}.all')
    if name=='__all__': return [o for o in dir(kit) if not o.startswith('_')]
    try: return getattr(kit, name)
    except AttributeError: raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None

def __dir__(): return sorted(set(globals()) | _submodules)
