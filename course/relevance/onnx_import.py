"""Import a trained network from ONNX: ``from_onnx(path)`` → :class:`~course.relevance.Sequential`.

ONNX is what both PyTorch (``torch.onnx.export``) and Keras (``tf2onnx``) write, so a network
trained in either becomes a course model without the framework as a dependency (only the
``onnx`` package: ``pip install xai-course[onnx]``). The graph is read from its input to its
output; every node becomes a layer:

=============================================  ============================================
ONNX operator                                  layer
=============================================  ============================================
Gemm; MatMul (+ Add of a constant)             :class:`Dense` (layout handled: ``transB``)
Conv (2-D, symmetric pads)                     :class:`Conv2d` (strides, pads, dilations, group)
Relu, LeakyRelu, Tanh, Sigmoid                 the activations
MaxPool, AveragePool (``ceil_mode = 0``)       :class:`MaxPool2d`, :class:`AvgPool2d`
GlobalAveragePool                              :class:`GlobalAvgPool2d` (torch's AdaptiveAvgPool2d(1))
Flatten (axis 1), Reshape to (batch, −1)       :class:`Flatten`
BatchNormalization                             :class:`BatchNorm`
Add of two branches, Concat on channels        :class:`Residual`, :class:`Concat`
Identity, Dropout                              (nothing: identity at inference)
=============================================  ============================================

Any other operator is refused with one line naming it and its node. The ONNX operator
definitions: https://onnx.ai/onnx/operators/.

>>> import onnx
>>> from onnx import TensorProto, helper, numpy_helper
>>> w = numpy_helper.from_array(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), "w")  # torch layout (out, in)
>>> graph = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], "g",
...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], [w])
>>> net = from_onnx(helper.make_model(graph))
>>> net.layers, net(np.array([[1.0, 1.0]]))
([Dense(2→2)], array([[3., 7.]]))
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import numpy as np
import numpy.typing as npt

from course.errors import CourseError
from course.relevance import layers as L
from course.relevance._types import FloatArray
from course.relevance.network import Sequential

if TYPE_CHECKING:  # onnx is optional (the [onnx] extra): only the annotations name its classes
    from onnx import GraphProto, ModelProto, NodeProto

__all__ = ["from_onnx", "SUPPORTED"]

SUPPORTED = (
    "Gemm",
    "MatMul",
    "Add",
    "Conv",
    "Relu",
    "LeakyRelu",
    "Tanh",
    "Sigmoid",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Reshape",
    "BatchNormalization",
    "Concat",
    "Identity",
    "Dropout",
)


def _onnx() -> ModuleType:
    try:
        import onnx
    except ImportError:
        raise CourseError("from_onnx needs the onnx package: pip install 'xai-course[onnx]'") from None
    return onnx


class _Model(Protocol):
    """What the import reads of an ``onnx.ModelProto``: its graph."""

    @property
    def graph(self) -> GraphProto: ...


class _Graph:
    """The parts of an ONNX graph the import needs: constants, consumers, attributes."""

    def __init__(self, model: _Model, dtype: npt.DTypeLike) -> None:
        onnx = _onnx()
        self.numpy_helper, self.helper, self.dtype = onnx.numpy_helper, onnx.helper, np.dtype(dtype)
        graph = model.graph
        self.consts: dict[str, npt.NDArray[Any]] = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes: list[NodeProto] = []
        for node in graph.node:
            if node.op_type == "Constant":
                self.consts[node.output[0]] = onnx.numpy_helper.to_array(self.attrs(node)["value"])
            else:
                self.nodes.append(node)
        inputs = [i.name for i in graph.input if i.name not in self.consts]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise CourseError(
                f"from_onnx reads graphs with one input and one output, got inputs {inputs} and "
                f"outputs {[o.name for o in graph.output]}"
            )
        self.input, self.output = inputs[0], graph.output[0].name
        self.consumers: dict[str, list[NodeProto]] = {}
        for node in self.nodes:
            for name in dict.fromkeys(node.input):  # a node reading a tensor twice is one consumer
                if name and name not in self.consts:
                    self.consumers.setdefault(name, []).append(node)

    def attrs(self, node: NodeProto) -> dict[str, Any]:
        """The node's attributes by name (ints, floats, lists, bytes, tensors: ONNX's attribute kinds)."""
        return {a.name: self.helper.get_attribute_value(a) for a in node.attribute}

    def required(self, node: NodeProto, index: int, what: str) -> FloatArray:
        """The constant input ``index`` of ``node``, which the operator needs (its weight, a BatchNorm's statistics)."""
        value = self.const(node, index, what)
        if value is None:
            _refuse(node, f"its {what} (input {index}) is missing")
        return value

    def const(self, node: NodeProto, index: int, what: str) -> FloatArray | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        name = node.input[index]
        if name not in self.consts:
            raise CourseError(
                f"ONNX node {node.name!r} ({node.op_type}): its {what} {name!r} must be a constant "
                "(an initializer), not computed in the graph"
            )
        return self.consts[name].astype(self.dtype)

    def data_inputs(self, node: NodeProto) -> list[str]:
        return [n for n in node.input if n and n not in self.consts]


def _refuse(node: NodeProto, why: str) -> NoReturn:
    raise CourseError(f"ONNX node {node.name!r} ({node.op_type}): {why}")


def _pads2d(node: NodeProto, attrs: dict[str, Any], kernel: Sequence[int]) -> tuple[int, ...]:
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        _refuse(node, f"auto_pad={attrs['auto_pad']!r} is not supported; export with explicit pads")
    if len(kernel) != 2:
        _refuse(node, f"only 2-D windows are supported, got kernel {list(kernel)}")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if pads[:2] != pads[2:]:
        _refuse(node, f"asymmetric pads {pads} are not supported (begin and end must be equal)")
    return tuple(pads[:2])


def _gemm(g: _Graph, node: NodeProto) -> L.Dense:
    a = g.attrs(node)
    if a.get("transA", 0):
        _refuse(node, "transA=1 is not supported")
    w, c = g.required(node, 1, "weight B"), g.const(node, 2, "bias C")
    w = w.T if a.get("transB", 0) else w  # transB=1 is torch's (out, in) layout
    bias = None if c is None else np.broadcast_to(c.reshape(-1), (w.shape[1],)) * a.get("beta", 1.0)
    return L.Dense(w * a.get("alpha", 1.0), bias)


def _conv(g: _Graph, node: NodeProto) -> L.Conv2d:
    a, w = g.attrs(node), g.required(node, 1, "weight W")
    if w.ndim != 4:
        _refuse(node, f"only 2-D convolutions are supported, got a weight of shape {w.shape}")
    return L.Conv2d(
        w,
        g.const(node, 2, "bias B"),
        stride=tuple(a.get("strides", [1, 1])),
        padding=_pads2d(node, a, w.shape[2:]),
        dilation=tuple(a.get("dilations", [1, 1])),
        groups=a.get("group", 1),
    )


def _pool(g: _Graph, node: NodeProto) -> L.MaxPool2d | L.AvgPool2d:
    a = g.attrs(node)
    kernel = tuple(a["kernel_shape"])
    if a.get("ceil_mode", 0):
        _refuse(node, "ceil_mode=1 is not supported")
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        _refuse(node, "dilated pooling is not supported")
    if len(node.output) > 1 and node.output[1]:
        _refuse(node, "the Indices output of MaxPool is not supported")
    stride, padding = tuple(a.get("strides", [1, 1])), _pads2d(node, a, kernel)
    if node.op_type == "MaxPool":
        return L.MaxPool2d(kernel, stride=stride, padding=padding)
    return L.AvgPool2d(kernel, count_include_pad=bool(a.get("count_include_pad", 0)), stride=stride, padding=padding)


def _reshape(g: _Graph, node: NodeProto) -> L.Flatten:
    shape = g.consts.get(node.input[1])
    if shape is None or shape.ndim != 1 or len(shape) != 2 or not (shape[0] in (0, -1) or shape[1] == -1):
        _refuse(node, "only a Reshape to (batch, -1) (a flatten) with a constant shape is supported")
    return L.Flatten()


def _flatten(g: _Graph, node: NodeProto) -> L.Flatten:
    if g.attrs(node).get("axis", 1) != 1:
        _refuse(node, "only Flatten with axis=1 is supported")
    return L.Flatten()


def _batchnorm(g: _Graph, node: NodeProto) -> L.BatchNorm:
    scale, bias = g.const(node, 1, "scale"), g.const(node, 2, "B")
    mean, var = g.required(node, 3, "mean"), g.required(node, 4, "var")
    return L.BatchNorm(mean, var, scale, bias, eps=g.attrs(node).get("epsilon", 1e-5))


CONVERTERS: dict[str, Callable[[_Graph, NodeProto], L.Layer | None]] = {
    "Gemm": _gemm,
    "MatMul": lambda g, n: L.Dense(g.required(n, 1, "weight B")),
    "Conv": _conv,
    "Relu": lambda g, n: L.ReLU(),
    "LeakyRelu": lambda g, n: L.LeakyReLU(g.attrs(n).get("alpha", 0.01)),
    "Tanh": lambda g, n: L.Tanh(),
    "Sigmoid": lambda g, n: L.Sigmoid(),
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": lambda g, n: L.GlobalAvgPool2d(),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "BatchNormalization": _batchnorm,
    "Identity": lambda g, n: None,
    "Dropout": lambda g, n: None,
}


def _add_constant(g: _Graph, node: NodeProto, layers: list[L.Layer]) -> None:
    """``Add(x, constant)`` right after MatMul/Gemm/Conv: the constant is that layer's bias."""
    (c,) = [g.consts[n] for n in node.input if n in g.consts]
    prev = layers[-1] if layers else None
    if not isinstance(prev, L.Linear):
        _refuse(node, "adding a constant is supported only right after MatMul, Gemm or Conv (as their bias)")
    n_out = prev.bias.shape[0]
    # broadcasting as ONNX: a bias of a Dense ends in n_out; of a Conv2d it is (…, n_out, 1, 1)
    per_unit = c.shape[-1:] == (n_out,) if isinstance(prev, L.Dense) else c.shape[-3:] == (n_out, 1, 1)
    if not (c.size == 1 or (c.size == n_out and per_unit)):
        _refuse(node, f"the constant of shape {c.shape} is not a bias for {n_out} outputs")
    layers[-1] = prev.with_params(prev.weight, prev.bias + np.broadcast_to(c.reshape(-1), (n_out,)).astype(prev.dtype))


def _chain(g: _Graph, start: str, end: str, allowed: Collection[int] | None = None) -> list[L.Layer]:
    """The layers from tensor ``start`` to tensor ``end`` (through ``allowed`` nodes); forks become blocks."""
    layers: list[L.Layer] = []
    tensor = start
    while tensor != end:
        users = [u for u in g.consumers.get(tensor, []) if allowed is None or id(u) in allowed]
        if not users:
            raise CourseError(f"ONNX graph: tensor {tensor!r} leads nowhere before {end!r}")
        if len(users) > 1:
            block, tensor = _branches(g, tensor, users, allowed)
            layers.append(block)
            continue
        node = users[0]
        if node.op_type == "Add":
            if not any(n in g.consts for n in node.input):
                _refuse(node, "adds two tensors that do not fork from one (a residual block starts where they fork)")
            _add_constant(g, node, layers)
        elif node.op_type in CONVERTERS:
            layer = CONVERTERS[node.op_type](g, node)
            if layer is not None:
                layers.append(layer)
        else:
            hint = (
                " (explanations start from the logits: export the network without it)"
                if node.op_type in ("Softmax", "LogSoftmax")
                else ""
            )
            raise CourseError(
                f"unsupported ONNX operator {node.op_type} in node {node.name!r}{hint}; "
                f"supported: {', '.join(SUPPORTED)}"
            )
        tensor = node.output[0]
    return layers


def _reachable(
    start_nodes: Iterable[NodeProto], step: Callable[[NodeProto], Iterable[NodeProto]]
) -> dict[int, NodeProto]:
    """ids of the nodes reachable from ``start_nodes`` (included) by ``step(node) -> nodes``."""
    seen: dict[int, NodeProto] = {}
    todo = list(start_nodes)
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            todo.extend(step(node))
    return seen


def _branches(
    g: _Graph, tensor: str, users: list[NodeProto], allowed: Collection[int] | None
) -> tuple[L.Branches, str]:
    """The block that starts where ``tensor`` forks: branches up to the first node all of them reach."""
    from course.relevance.residual import Concat, Residual

    producer = {out: node for node in g.nodes for out in node.output}
    after = [_reachable([u], lambda n: [c for o in n.output for c in g.consumers.get(o, [])]) for u in users]
    join = next((n for n in g.nodes if all(id(n) in a for a in after)), None)
    if join is None or join.op_type not in ("Add", "Concat") or len(g.data_inputs(join)) != len(join.input):
        where = "nowhere" if join is None else f"at node {join.name!r} ({join.op_type})"
        raise CourseError(
            f"ONNX graph: the branches from tensor {tensor!r} join {where}; only Add (a residual "
            "block) and Concat on channels can join branches"
        )
    forked: set[int] = set().union(*after)

    def branch(inp: str) -> Sequential | None:  # the nodes between the fork and this input of the join
        if inp == tensor:
            return None
        below = _reachable([producer[inp]], lambda n: [producer[i] for i in n.input if i in producer])
        between = {k for k in below if k in forked and (allowed is None or k in allowed)}
        layers = _chain(g, tensor, inp, between)
        return Sequential(layers) if layers else None  # only Identity/Dropout nodes: the identity

    branches = [branch(inp) for inp in join.input]
    if join.op_type == "Concat":
        if g.attrs(join).get("axis") != 1:
            _refuse(join, "only Concat on axis 1 (channels) is supported")
        return Concat(*branches), join.output[0]
    if len(branches) != 2:
        _refuse(join, "a residual Add has exactly two inputs")
    # the shortcut is the identity or the shorter path (whatever the order of the Add's inputs)
    sizes = [0 if b is None else len(b.flat_layers()) for b in branches]
    if sizes[1] > sizes[0]:
        branches.reverse()
    return Residual(*branches), join.output[0]


def from_onnx(source: str | Path | bytes | ModelProto, dtype: npt.DTypeLike = np.float64) -> Sequential:
    """A :class:`Sequential` from an ONNX model (a path, bytes or an ``onnx.ModelProto``).

    Parameters
    ----------
    source : str, Path, bytes or onnx.ModelProto
    dtype : float dtype
        Of the parameters (float64 by default; ONNX files usually store float32, which converts exactly).

    Raises
    ------
    CourseError
        The onnx package is missing, the file cannot be read, the graph has several inputs or
        outputs, or a node is not supported (the message names the operator and the node).
    """
    onnx = _onnx()
    model: object = source  # checked as any value: a caller without a type checker may pass anything
    if isinstance(source, (str, Path)):
        if not Path(source).is_file():
            raise CourseError(f"no ONNX file at {source}")
        try:
            model = onnx.load(str(source))
        except Exception as exc:  # noqa: BLE001 - any parse failure becomes one line for the user
            raise CourseError(f"{source}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None
    elif isinstance(source, bytes):
        model = onnx.load_model_from_string(source)
    if not hasattr(model, "graph"):
        raise CourseError(f"from_onnx needs a path, bytes or an onnx.ModelProto, got {type(model).__name__}")
    g = _Graph(model, dtype)
    layers = _chain(g, g.input, g.output)
    if not layers:
        raise CourseError("the ONNX graph has no layers between its input and its output")
    return Sequential(layers)
