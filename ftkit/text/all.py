"ftkit's text tasks, for `from ftkit.text.all import *`"
from ..imports import *
from .model import *
from .task import *
from .data import *
from .learner import *
