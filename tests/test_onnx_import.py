"""from_onnx: graphs built with onnx.helper, the forward pass checked against onnxruntime (float32, 1e-6)."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402 - after the importorskip above

from course.errors import CourseError  # noqa: E402 -- after the importorskip above
from course.relevance import Dense, from_onnx, lrp, rules  # noqa: E402 -- after the importorskip above

RNG = np.random.default_rng(0)


def model_of(nodes, input_shape, weights, output_shape=None, output="y"):
    """An ONNX model (opset 17) from nodes and named float32 initializers; input "x", output ``output``."""
    inits = [
        numpy_helper.from_array(np.asarray(v, np.float32 if np.asarray(v).dtype.kind == "f" else None), k)
        for k, v in weights.items()
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, *input_shape])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def assert_same_as_onnxruntime(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {"x": x.astype(np.float32)})
    net = from_onnx(model, dtype=np.float32)
    got = net(x.astype(np.float32))
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    return net


def w(*shape):
    return RNG.normal(size=shape) / np.sqrt(np.prod(shape[1:]))


def test_gemm_in_torch_layout_with_alpha_beta_and_matmul_plus_add():
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, alpha=0.5, beta=2.0, name="fc1"),
        helper.make_node("Tanh", ["h"], ["t"], name="tanh"),
        helper.make_node("MatMul", ["t", "w2"], ["m"], name="fc2"),
        helper.make_node("Add", ["m", "b2"], ["y"], name="bias2"),
    ]
    model = model_of(nodes, [5], {"w1": w(4, 5), "b1": w(4), "w2": w(4, 3), "b2": w(3)})
    net = assert_same_as_onnxruntime(model, RNG.normal(size=(6, 5)))
    assert [type(layer).__name__ for layer in net] == ["Dense", "Tanh", "Dense"]


def test_a_cnn_with_every_supported_layer_option():
    nodes = [
        helper.make_node("Conv", ["x", "c1", "cb1"], ["a"], pads=[2, 2, 2, 2], dilations=[2, 2], name="conv1"),
        helper.make_node("BatchNormalization", ["a", "s", "bb", "mu", "var"], ["b"], epsilon=1e-3, name="bn"),
        helper.make_node("LeakyRelu", ["b"], ["c"], alpha=0.2, name="lrelu"),
        helper.make_node("MaxPool", ["c"], ["d"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], name="mp"),
        helper.make_node("Conv", ["d", "c2"], ["e"], group=2, strides=[1, 2], pads=[1, 0, 1, 0], name="conv2"),
        helper.make_node("Add", ["e", "cb2"], ["e2"], name="conv2_bias"),
        helper.make_node("Sigmoid", ["e2"], ["f"], name="sig"),
        helper.make_node(
            "AveragePool", ["f"], ["g"], kernel_shape=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1, name="ap"
        ),
        helper.make_node("AveragePool", ["g"], ["g2"], kernel_shape=[3, 2], pads=[1, 1, 1, 1], name="ap_exclude"),
        helper.make_node("Dropout", ["g2"], ["h"], name="drop"),
        helper.make_node("Relu", ["h"], ["i"], name="relu"),
        helper.make_node("Reshape", ["i", "shape"], ["j"], name="flat"),
        helper.make_node("Identity", ["j"], ["k"], name="id"),
        helper.make_node("Gemm", ["k", "wd", "bd"], ["y"], name="fc"),
    ]
    weights = {
        "c1": w(4, 2, 3, 3),
        "cb1": w(4),
        "s": RNG.normal(size=4),
        "bb": w(4),
        "mu": w(4),
        "var": RNG.uniform(0.5, 2, 4),
        "c2": w(6, 2, 3, 3),
        "cb2": w(1, 6, 1, 1),
        "shape": np.array([0, -1], np.int64),
        "wd": w(6 * 6 * 4, 4),
        "bd": w(4),
    }
    net = assert_same_as_onnxruntime(model_of(nodes, [2, 9, 9], weights), RNG.normal(size=(3, 2, 9, 9)))
    assert "groups=2" in repr(net[4]) and "dilation=(2, 2)" in repr(net[0])
    # every method runs on it: LRP with exact LRP-0 conserves where there is no bias to absorb relevance
    assert np.all(np.isfinite(lrp(net, RNG.normal(size=(2, 2, 9, 9)).astype(np.float32), rules.Epsilon(0.1), 1)))


def test_float64_by_default():
    model = model_of(
        [
            helper.make_node("Flatten", ["x"], ["f"], name="flat"),
            helper.make_node("Gemm", ["f", "w"], ["y"], transB=1, name="fc"),
        ],
        [2, 2],
        {"w": w(3, 4)},
    )
    assert from_onnx(model).dtype == np.float64


@pytest.mark.parametrize(
    "node,message",
    [
        (
            helper.make_node("Softmax", ["h"], ["y"], name="probs"),
            "unsupported ONNX operator Softmax in node 'probs' "
            r"\(explanations start from the logits",
        ),
        (helper.make_node("Elu", ["h"], ["y"], name="elu7"), "unsupported ONNX operator Elu in node 'elu7'"),
        (helper.make_node("Mul", ["h", "h"], ["y"], name="square"), "unsupported ONNX operator Mul in node 'square'"),
    ],
)
def test_unsupported_operator_is_named_with_its_node(node, message):
    model = model_of([helper.make_node("Gemm", ["x", "w"], ["h"], name="fc"), node], [3], {"w": w(3, 3)})
    with pytest.raises(CourseError, match=message) as info:
        from_onnx(model)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "node,message",
    [
        (helper.make_node("Conv", ["x", "c"], ["y"], pads=[0, 0, 1, 1], name="c"), "asymmetric pads"),
        (helper.make_node("Conv", ["x", "c"], ["y"], auto_pad="SAME_UPPER", name="c"), "auto_pad"),
        (helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], ceil_mode=1, name="p"), "ceil_mode=1"),
        (helper.make_node("Conv", ["x", "x"], ["y"], name="c"), "must be a constant"),
    ],
)
def test_unsupported_options_are_refused(node, message):
    model = model_of([node], [1, 4, 4], {"c": w(1, 1, 3, 3)})
    with pytest.raises(CourseError, match=message):
        from_onnx(model)


def test_a_file_path_and_bad_files(tmp_path):
    model = model_of([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, name="fc")], [2], {"w": w(2, 2)})
    onnx.save(model, tmp_path / "m.onnx")
    x = np.array([[1.0, 2.0]])
    weight = numpy_helper.to_array(model.graph.initializer[0])
    np.testing.assert_allclose(from_onnx(tmp_path / "m.onnx")(x), x @ weight.T, rtol=1e-6)
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(CourseError, match="not a readable ONNX model"):
        from_onnx(tmp_path / "bad.onnx")
    with pytest.raises(CourseError, match="no ONNX file"):
        from_onnx(tmp_path / "missing.onnx")


def test_dense_layout_is_explicit_for_torch_weights():
    torch_weight = np.array([[1.0, 2.0], [3.0, 4.0]])  # square: both layouts fit, only the layout says which
    x = np.array([[1.0, 0.0]])
    np.testing.assert_array_equal(Dense.from_torch(torch_weight)(x), [[1.0, 3.0]])  # torch: x @ Wᵀ
    np.testing.assert_array_equal(Dense(torch_weight, layout="out_in")(x), [[1.0, 3.0]])
    np.testing.assert_array_equal(Dense(torch_weight)(x), [[1.0, 2.0]])  # this package: x @ W
    with pytest.raises(CourseError, match="layout must be 'in_out'"):
        Dense(torch_weight, layout="torch")


def test_residual_blocks_and_a_concatenation():
    # stem conv → [conv, relu, conv] + identity → relu → [strided conv] + strided 1×1 conv → concat with a pool
    nodes = [
        helper.make_node("Conv", ["x", "c0"], ["a"], pads=[1, 1, 1, 1], name="stem"),
        helper.make_node("Relu", ["a"], ["a1"], name="stem_relu"),
        helper.make_node("Conv", ["a1", "c1"], ["b"], pads=[1, 1, 1, 1], name="block1_conv1"),
        helper.make_node("Relu", ["b"], ["b1"], name="block1_relu"),
        helper.make_node("Conv", ["b1", "c2"], ["b2"], pads=[1, 1, 1, 1], name="block1_conv2"),
        helper.make_node("Add", ["b2", "a1"], ["s1"], name="block1_add"),
        helper.make_node("Relu", ["s1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "c3", "cb3"], ["d"], strides=[2, 2], pads=[1, 1, 1, 1], name="block2_conv"),
        helper.make_node("Conv", ["r1", "c4"], ["e"], strides=[2, 2], name="block2_short"),
        helper.make_node("Relu", ["d"], ["d1"], name="block2_relu"),
        helper.make_node("Add", ["e", "d1"], ["s2"], name="block2_add"),
        helper.make_node("MaxPool", ["s2"], ["p"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], name="mp"),
        helper.make_node("Concat", ["s2", "p"], ["cat"], axis=1, name="cat"),
        helper.make_node("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wd"], ["y"], transB=1, name="fc"),
    ]
    weights = {
        "c0": w(3, 1, 3, 3),
        "c1": w(3, 3, 3, 3),
        "c2": w(3, 3, 3, 3),
        "c3": w(5, 3, 3, 3),
        "cb3": w(5),
        "c4": w(5, 3, 1, 1),
        "wd": w(4, 10),
    }
    net = assert_same_as_onnxruntime(model_of(nodes, [1, 8, 8], weights), RNG.normal(size=(3, 1, 8, 8)))
    kinds = [type(layer).__name__ for layer in net]
    assert kinds == ["Conv2d", "ReLU", "Residual", "ReLU", "Residual", "Concat", "GlobalAvgPool2d", "Flatten", "Dense"]
    assert repr(net[2]).startswith("Residual([Conv2d(3→3") and "shortcut" not in repr(net[2])
    assert "shortcut=Conv2d(3→5, 1×1" in repr(net[4])  # the shorter path, although it is the Add's first input
    assert np.all(np.isfinite(lrp(net, RNG.uniform(0, 1, size=(2, 1, 8, 8)), "epsilon_plus_flat", 1)))


def test_branches_that_join_in_another_operator_are_refused():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="r1"),
        helper.make_node("Tanh", ["x"], ["b"], name="t"),
        helper.make_node("Mul", ["a", "b"], ["y"], name="gate"),
    ]
    with pytest.raises(CourseError, match=r"join at node 'gate' \(Mul\); only Add .* and Concat"):
        from_onnx(model_of(nodes, [3], {}))
