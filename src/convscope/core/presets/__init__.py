"""The models our users start from (table: by name; classic, tuned, colour: the presets)."""

from .preset import Preset as Preset
from .table import PRESETS as PRESETS
from .table import get as get
from .table import model as model
