__version__ = "0.0.1"
"ftkit: fine-tune pretrained vision models on your own images, with fastai and timm"

# Submodules load on first use (PEP 562), so that `import ftkit.models` or loading an exported model
# does not pull in fastai, while `from ftkit import *` still gives the whole kit via `ftkit.all`.
import importlib
from pathlib import Path

_submodules = {p.stem for p in Path(__file__).parent.glob('[a-z]*.py')}

def __getattr__(name):
    if name in _submodules: return importlib.import_module(f'{__name__}.{name}')
    kit = importlib.import_module(f'{__name__}.all')
    if name=='__all__': return [o for o in dir(kit) if not o.startswith('_')]
    try: return getattr(kit, name)
    except AttributeError: raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None

def __dir__(): return sorted(set(globals()) | _submodules)
