"""course.relevance: a small, exact NumPy relevance engine (LRP, Deep Taylor, PatternNet, gradients).

>>> import numpy as np
>>> from course.relevance import Sequential, Dense, ReLU
>>> net = Sequential([Dense(np.eye(2)), ReLU(), Dense(np.ones((2, 1)))])
>>> net(np.array([[1.0, 2.0]]))
array([[3.]])
"""

from course.relevance import composites, rules  # noqa: F401 -- the rules and composites modules, re-exported
from course.relevance.evaluate import aopc, conservation_report, pixel_flipping  # noqa: F401 -- re-exported
from course.relevance.gradients import *  # noqa: F403 -- gradients.__all__ is part of the package API
from course.relevance.layers import *  # noqa: F403 -- layers.__all__ is part of the package API
from course.relevance.lrp import lrp, lrp_layers  # noqa: F401 -- re-exported
from course.relevance.network import Sequential, merge_batchnorm  # noqa: F401 -- re-exported
from course.relevance.onnx_import import from_onnx  # noqa: F401 -- re-exported
from course.relevance.pattern import *  # noqa: F403 -- pattern.__all__ is part of the package API
from course.relevance.residual import Concat, Residual  # noqa: F401 -- re-exported
from course.relevance.taylor import *  # noqa: F403 -- taylor.__all__ is part of the package API
