"Everything: fastai's API and ftkit's core, then each task package, for `from ftkit.all import *` (which `from ftkit import *` uses)"
from .imports import *
from .core import *
from .callbacks import *
from .features import *
from .strategies import *
from .evaluate import *
from .compare import *
from .export import *
from .adapt import *
from .cli import train, compare, make_strategy, predict
from .vision.all import *
