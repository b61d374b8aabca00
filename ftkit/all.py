"Everything: fastai's vision API and ftkit, for `from ftkit.all import *` (which `from ftkit import *` uses)"
from .data import *  # first: it imports fastai quietly
from fastai.vision.all import *
from .core import *
from .models import *
from .learner import *
from .features import *
from .strategies import *
from .compare import *
from .export import *
from .checkpoint import *
from .evaluate import *
from .adapt import *
from .cli import train, compare, make_strategy, predict
