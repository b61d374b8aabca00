"fastai's vision API and ftkit's image tasks, for `from ftkit.vision.all import *`"
from ..imports import *
from fastai.vision.all import *
from .image import *
from .data import *
from .models import *
from .task import *
from .learner import *
from .adapt import *
from .segment import *
from .detector import *
from .detect import *
