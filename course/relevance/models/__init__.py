"""Bundled pretrained models: ``load(name)`` → :class:`~course.relevance.Sequential`.

========================  ===========================================================  =================
name                      architecture                                                 data
========================  ===========================================================  =================
``digits_mlp``            Dense 64→64, ReLU, Dense 64→32, ReLU, Dense 32→10             8×8 digits, flat
``digits_cnn``            Conv 1→8 3×3 pad 1, ReLU, MaxPool 2, Conv 8→16 3×3 pad 1,    8×8 digits,
                          ReLU, AvgPool 2, Flatten, Dense 64→10                        (N, 1, 8, 8)
``toy2d``                 Dense 2→16, ReLU, Dense 16→16, ReLU, Dense 16→2                two-class toy (L1)
``signal_distractor``     Dense 2→1 (least squares on the toy: the filter w)           L17–L18 toy
``digits_resnet``         Conv 1→16 (BN folded), ReLU, 2 residual blocks (16, 32 ch;   8×8 digits,
                          a strided 1×1 shortcut), AvgPool 4, Flatten, Dense 32→10     (N, 1, 8, 8)
========================  ===========================================================  =================

``digits_resnet`` is an ONNX file written by PyTorch (``make_resnet.py``, run with torch in a
throwaway environment); loading it needs the ``onnx`` package (``pip install 'xai-course[onnx]'``).

The weights are made by ``python -m course.relevance.models.make_models``, which
prints the test accuracy; each ``.npz`` stores the architecture as JSON next to
the parameters, and ``info(name)`` returns the metadata (accuracy, seed, epochs).

>>> model = load("digits_mlp")
>>> model.layers[0]
Dense(64→64)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from course.errors import CourseError
from course.relevance._types import FloatArray
from course.relevance.layers import AvgPool2d, Conv2d, Dense, Flatten, Layer, Linear, MaxPool2d, ReLU
from course.relevance.network import Sequential

__all__ = ["NAMES", "ONNX_NAMES", "load", "info", "save", "describe"]

HERE = Path(__file__).resolve().parent
NAMES = ("digits_mlp", "digits_cnn", "toy2d", "signal_distractor")  # .npz, made by make_models.py
ONNX_NAMES = ("digits_resnet",)  # .onnx, made by make_resnet.py (torch)


def describe(model: Sequential) -> list[dict[str, object]]:
    """The architecture of ``model`` as a JSON-able list of layer specifications."""
    spec: list[dict[str, object]] = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            spec.append({"type": "Dense"})
        elif isinstance(layer, Conv2d):
            spec.append({"type": "Conv2d", "stride": list(layer.stride), "padding": list(layer.padding)})
        elif isinstance(layer, (MaxPool2d, AvgPool2d)):
            spec.append({"type": type(layer).__name__, "kernel_size": list(layer.kernel), "stride": list(layer.stride)})
        elif isinstance(layer, (ReLU, Flatten)):
            spec.append({"type": type(layer).__name__})
        else:
            raise CourseError(f"cannot save {layer!r}")
    return spec


def save(model: Sequential, path: str | Path, **meta: object) -> Path:
    """Write ``model`` (architecture + parameters) and ``meta`` to a compressed ``.npz``."""
    # Any: savez_compressed types its **arrays like its allow_pickle flag; the layer{i}_... keys never meet it
    arrays: dict[str, Any] = {}
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Linear):  # the layers of model.linear_layers
            arrays[f"layer{i}_weight"] = layer.weight
            arrays[f"layer{i}_bias"] = layer.bias
    path = Path(path)
    np.savez_compressed(path, architecture=json.dumps(describe(model)), meta=json.dumps(meta), **arrays)
    return path


def _build(spec: list[dict[str, Any]], arrays: Mapping[str, FloatArray]) -> Sequential:
    """The model of a JSON layer specification (:func:`describe`) and its parameters."""
    layers: list[Layer] = []
    for i, item in enumerate(spec):
        kind = item["type"]
        if kind in ("Dense", "Conv2d"):
            w, b = arrays[f"layer{i}_weight"], arrays[f"layer{i}_bias"]
            layers.append(Dense(w, b) if kind == "Dense" else Conv2d(w, b, item["stride"], item["padding"]))
        elif kind in ("MaxPool2d", "AvgPool2d"):
            layers.append({"MaxPool2d": MaxPool2d, "AvgPool2d": AvgPool2d}[kind](item["kernel_size"], item["stride"]))
        else:
            layers.append({"ReLU": ReLU, "Flatten": Flatten}[kind]())
    return Sequential(layers)


def _path(name: str) -> Path:
    if name not in NAMES + ONNX_NAMES:
        raise CourseError(f"unknown model {name!r}; the bundled models are {', '.join(NAMES + ONNX_NAMES)}")
    path = HERE / (f"{name}.onnx" if name in ONNX_NAMES else f"{name}.npz")
    if not path.exists():
        script = "make_resnet" if name in ONNX_NAMES else "make_models"
        raise CourseError(f"{path} is missing: run `python -m course.relevance.models.{script}`")
    return path


def load(name: str, dtype: npt.DTypeLike = np.float64) -> Sequential:
    """A fresh copy of the bundled model ``name`` (in :data:`NAMES` or :data:`ONNX_NAMES`), parameters in ``dtype``."""
    path = _path(name)
    if name in ONNX_NAMES:
        from course.relevance.onnx_import import from_onnx

        return from_onnx(path, dtype=dtype)
    with np.load(path) as data:
        arrays = {k: data[k].astype(dtype) for k in data.files if k.startswith("layer")}
        spec = json.loads(str(data["architecture"]))
    return _build(spec, arrays)


def info(name: str) -> dict[str, Any]:
    """The metadata stored with the model: test accuracy, seed, training settings."""
    path = _path(name)
    meta: dict[str, Any]  # JSON, as make_models.py and make_resnet.py wrote it
    if name in ONNX_NAMES:
        from course.relevance.onnx_import import _onnx

        props = {p.key: p.value for p in _onnx().load(str(path)).metadata_props}
        meta = json.loads(props["xai_course"])
        return meta
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        return meta
