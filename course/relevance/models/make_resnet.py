"""Train the small residual CNN on the course's 8×8 digits and write ``digits_resnet.onnx`` next to this script.

The model is trained the way a student trains one -- in PyTorch -- and exported with ``torch.onnx.export``,
so the file is also the test that :func:`course.relevance.from_onnx` reads what PyTorch writes. torch is not a
dependency of the package: run it in a throwaway environment (the digits come from the package's own data file)::

    python3 -m venv /tmp/zvenv
    /tmp/zvenv/bin/pip install torch==2.13.0 numpy onnx onnxscript
    PYTHONPATH=. /tmp/zvenv/bin/python -m course.relevance.models.make_resnet

Architecture (He et al., "Deep residual learning for image recognition", CVPR 2016, at digit scale)::

    Conv 1→16 3×3 pad 1, BN, ReLU
    Residual: [Conv 16→16 3×3 pad 1, BN, ReLU, Conv 16→16 3×3 pad 1, BN] + identity, ReLU
    Residual: [Conv 16→32 3×3 stride 2 pad 1, BN, ReLU, Conv 32→32 3×3 pad 1, BN] + [Conv 16→32 1×1 stride 2, BN], ReLU
    AvgPool 4×4, Flatten, Linear 32→10

Seeded (torch and NumPy); Adam (Kingma & Ba, 2015), cross-entropy, 40 epochs, batch 32. The test accuracy,
seed and settings are stored in the file's ``metadata_props`` (``course.relevance.models.info("digits_resnet")``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from course.datasets import digits
from course.relevance._types import FloatArray, IntArray

SEED, EPOCHS, BATCH, LR = 0, 40, 32, 3e-3
OUT = Path(__file__).resolve().parent / "digits_resnet.onnx"


# torch is not installed where mypy runs (see the module docstring): the torch module and its objects are Any here
def build(torch: Any) -> Any:
    nn = torch.nn

    def conv_bn(c_in: int, c_out: int, k: int, stride: int = 1) -> list[Any]:
        return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2), nn.BatchNorm2d(c_out)]

    class Block(torch.nn.Module):  # type: ignore[misc]  # torch.nn.Module is Any here (torch is not installed)
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.block = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU(), *conv_bn(c_out, c_out, 3))
            self.shortcut = nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if stride != 1 else nn.Identity()
            self.relu = nn.ReLU()

        def forward(self, x: Any) -> Any:
            return self.relu(self.block(x) + self.shortcut(x))

    return nn.Sequential(
        *conv_bn(1, 16, 3),
        nn.ReLU(),
        Block(16, 16, 1),
        Block(16, 32, 2),
        nn.AvgPool2d(4),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def train(torch: Any, model: Any, x: FloatArray, y: IntArray) -> None:
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    inputs, labels = torch.from_numpy(x).float(), torch.from_numpy(y)
    for _ in range(EPOCHS):
        model.train()
        for idx in torch.randperm(len(inputs), generator=gen).split(BATCH):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs[idx]), labels[idx]).backward()
            opt.step()
        sched.step()


def main() -> None:
    import onnx
    import torch

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    (x_train, y_train), (x_test, y_test) = digits("train", "image"), digits("test", "image")
    model = build(torch)
    train(torch, model, x_train, y_train)
    model.eval()
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(x_test).float()).argmax(1).numpy() == y_test).mean())
    # torch's default exporter (torch.export based), any batch size; it folds each BatchNorm into its Conv
    torch.onnx.export(
        model,
        (torch.zeros(2, 1, 8, 8),),
        str(OUT),
        input_names=["x"],
        output_names=["logits"],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
    )
    exported = onnx.load(str(OUT))
    meta = {
        "test_accuracy": round(accuracy, 4),
        "seed": SEED,
        "epochs": EPOCHS,
        "batch_size": BATCH,
        "lr": LR,
        "optimizer": "Adam, weight decay 1e-4, cosine schedule",
        "data": "course.datasets.digits (train split)",
        "torch": torch.__version__,
        "script": "course/relevance/models/make_resnet.py",
    }
    exported.metadata_props.add(key="xai_course", value=json.dumps(meta))
    onnx.save(exported, str(OUT))  # one self-contained file: the weights inline
    Path(f"{OUT}.data").unlink(missing_ok=True)  # the exporter's external weights, now inline
    print(f"{OUT.name}: test accuracy {accuracy:.4f}, {OUT.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
