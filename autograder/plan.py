"""A plan, the steps one sandboxed run is sent, and the records of what the run produced.

A :class:`Step` is a code cell or a *probe* (one expression per grade id,
evaluated in the student's namespace); :class:`Execution` holds the decoded
values, the problems, each cell's status and output, and the limits hit
(:mod:`autograder.kernel` builds it; the pipeline and the feedback read it).

>>> Step(1, "probe", "x", grade_id="q1").to_json()
{'index': 1, 'kind': 'probe', 'expression': 'x', 'grade_id': 'q1'}
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Step", "ProbeError", "CellResult", "Execution"]


@dataclass(frozen=True)
class Step:
    """One step of a plan: a code cell or a probe for one grade id.

    ``label`` names the cell for students ("cell 4", "answer cell q1").
    """

    index: int
    kind: str  # "code" | "probe"
    source: str
    grade_id: str | None = None
    label: str = ""
    expressions: tuple = ()  # a probe with several values: evaluated one by one, errors kept apart

    def to_json(self) -> dict:
        if self.kind == "probe":
            out = {"index": self.index, "kind": "probe", "expression": self.source, "grade_id": self.grade_id}
            if self.expressions:
                out["expressions"] = list(self.expressions)
            return out
        return {"index": self.index, "kind": "code", "source": self.source}


@dataclass(frozen=True)
class ProbeError:
    """Stands for one expression of a multi-value probe that gave no plain value."""

    message: str


@dataclass
class CellResult:
    status: str = "not run"  # ok | error | interrupted | stopped | not run
    error: str | None = None
    output: str = ""


@dataclass
class Execution:
    """What one sandboxed run produced.

    ``values`` maps grade id -> decoded plain value; ``problems`` maps grade id
    -> why no value came (exception in the probe, not plain data, not reached);
    ``limits`` holds one feedback line per limit that was hit.
    """

    values: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)
    limits: list = field(default_factory=list)
    completed: bool = False
    seconds: float = 0.0
    exit_status: int | None = None
    broken: bool = False  # it wrote what the runner never writes: stopped, and its warm kernel retired
