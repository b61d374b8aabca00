"ftkit's audio task, for `from ftkit.audio.all import *`"
from ..imports import *
from .clip import *
from .task import *
from .data import *
from .learner import *
