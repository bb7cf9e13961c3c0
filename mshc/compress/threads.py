"""Run torch training on one CPU thread, for codes that repeat exactly under a seed.

With several threads, torch's CPU kernels can sum in a different order on each run.
A TopK SAE fitted twice on the same 10,383 x 64 vectors with 2 threads gave different
codes, and with 1 thread identical ones (torch 2.13 CPU, 2 cores).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def one_thread() -> Iterator[None]:
    """Set torch to one thread inside the block and restore the old count after it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
