"""fastai, imported once and quietly: every ftkit module that needs fastai does `from ftkit.imports import *`.

fastai compiles a few layers with `torch.jit.script` when it is imported, and the pinned torch warns that this is
deprecated: a warning no user can act on. It is silenced here, for these imports only. Written by hand (as
`__init__.py` and `all.py` are): it re-exports fastai's names, which nbdev's `__all__` would hide."""
import warnings
with warnings.catch_warnings():
    warnings.filterwarnings('ignore', message='.torch.jit.script. is deprecated', category=FutureWarning)
    from fastai.basics import *
    from fastai.callback.all import *
