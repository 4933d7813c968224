"""Progress bars for long reads and computations of the report: shown only where they help.

tqdm is imported only when a bar is shown, so a small report does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["progress"]

#: below this many steps a bar is not worth its start-up (unless asked for with show=True)
LARGE = 20000


def progress(
    iterable: Iterable, *, total: int, desc: str, show: bool | None = None, size: int | None = None
) -> Iterable:
    """``iterable`` of ``total`` steps with a tqdm bar: always with ``show=True``, never with False, else on a
    terminal when the work is large (``size``, default ``total``, at least :data:`LARGE`).

    >>> list(progress(range(3), total=3, desc="small"))  # no bar, no tqdm import
    [0, 1, 2]
    """
    if show is False or (show is None and (total if size is None else size) < LARGE):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=None if show is None else False, leave=False)
