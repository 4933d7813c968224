"""course.relevance: a small, exact NumPy relevance engine (LRP, Deep Taylor, PatternNet, gradients).

>>> import numpy as np
>>> from course.relevance import Sequential, Dense, ReLU
>>> net = Sequential([Dense(np.eye(2)), ReLU(), Dense(np.ones((2, 1)))])
>>> net(np.array([[1.0, 2.0]]))
array([[3.]])
"""
from course.relevance.layers import (  # noqa: F401
    Activation, AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Identity, Layer, LeakyReLU, Linear, MaxPool2d, ReLU,
    Sigmoid, Tanh,
)
from course.relevance.network import Sequential, merge_batchnorm  # noqa: F401
from course.relevance.residual import Concat, Residual  # noqa: F401
from course.relevance.gradients import (  # noqa: F401
    deconvnet, gradient, gradient_x_input, guided_backprop, integrated_gradients, smoothgrad,
)
from course.relevance.taylor import (  # noqa: F401
    deep_taylor, deep_taylor_rules, dtd_layer, root_point, search_direction, taylor_terms,
)
from course.relevance import composites, rules  # noqa: F401,E402
from course.relevance.lrp import lrp, lrp_layers  # noqa: F401,E402
from course.relevance.onnx_import import from_onnx  # noqa: F401,E402
from course.relevance.evaluate import aopc, conservation_report, pixel_flipping  # noqa: F401,E402
from course.relevance.pattern import (  # noqa: F401
    Patterns, S_filter, S_identity, S_linear, S_relu, fit_patterns, linear_pattern, patternattribution, patternnet,
    relu_patterns, signal_quality,
)
