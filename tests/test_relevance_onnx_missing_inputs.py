"""from_onnx: an operator whose weight (or BatchNorm statistics) input is missing is refused in one line.

A Gemm or Conv node without its weight input once failed with a TypeError or AttributeError on None deep inside
the import; MatMul and BatchNormalization said only that a weight or a statistic was not numeric.
"""

import re

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402 -- after the importorskip above

from course.errors import CourseError  # noqa: E402 -- after the importorskip above
from course.relevance import from_onnx  # noqa: E402 -- after the importorskip above


def model_of(node, input_shape, weights):
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in weights.items()]
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, *input_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(
    "node, input_shape, weights, words",
    [
        (helper.make_node("Gemm", ["x"], ["y"], name="fc"), [3], {}, "weight B (input 1) is missing"),
        (helper.make_node("Gemm", ["x", ""], ["y"], name="fc"), [3], {}, "weight B (input 1) is missing"),
        (helper.make_node("MatMul", ["x"], ["y"], name="fc"), [3], {}, "weight B (input 1) is missing"),
        (helper.make_node("Conv", ["x"], ["y"], name="conv"), [1, 4, 4], {}, "weight W (input 1) is missing"),
        (
            helper.make_node("BatchNormalization", ["x", "s", "b"], ["y"], name="bn"),
            [2],
            {"s": np.ones(2), "b": np.zeros(2)},
            "mean (input 3) is missing",
        ),
    ],
)
def test_a_missing_weight_input_names_the_node_and_the_input(node, input_shape, weights, words):
    with pytest.raises(CourseError, match=r"ONNX node '\w+' \(\w+\): its " + re.escape(words)):
        from_onnx(model_of(node, input_shape, weights))


def test_the_same_nodes_with_their_inputs_import():
    dense = from_onnx(model_of(helper.make_node("Gemm", ["x", "w"], ["y"], name="fc"), [3], {"w": np.eye(3)}))
    np.testing.assert_array_equal(dense(np.array([[1.0, 2.0, 3.0]])), [[1.0, 2.0, 3.0]])
