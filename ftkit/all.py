"Everything: fastai's API, each task package, then ftkit's core, for `from ftkit.all import *` (which `from ftkit import *` uses)"
# The task packages re-export fastai's names (`fastai.vision.all`), among them fastai's own `load_model` and `load_learner`:
# ftkit's core comes last, so that its names, `load_model` and the `load_learner` that refuses to unpickle untrusted files, win.
from .vision.all import *
from .text.all import *
from .audio.all import *
from .imports import *
from .core import *
from .data import *
from .learner import *
from .callbacks import *
from .distributed import *
from .features import *
from .strategies import *
from .auto import *
from .evaluate import *
from .compare import *
from .export import *
from .quantize import *
from .adapt import *
from .settings import TrainSettings, make_strategy
from .run import train, compare, predict
