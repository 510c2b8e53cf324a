"""A fast, deterministic stream of random draws on top of numpy's default_rng.

Per-row Python loops (households, members) would pay numpy's per-call overhead on every draw; this
pulls uniforms in blocks and serves them one at a time, so the sequence depends only on the seed and the
order of the calls.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

import numpy as np

T = TypeVar("T")
_BLOCK = 1 << 16


class Draw:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._buf = rng.random(_BLOCK).tolist()
        self._i = 0

    def u(self) -> float:
        """Uniform in [0, 1)."""
        if self._i == _BLOCK:
            self._buf = self.rng.random(_BLOCK).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.u()

    def int(self, lo: int, hi: int) -> int:
        """Integer in [lo, hi] (both inclusive)."""
        return lo + int(self.u() * (hi - lo + 1))

    def chance(self, p: float) -> bool:
        return self.u() < p

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.u() * len(seq))]

    def weighted(self, table: "Weighted[T]") -> T:
        return table.items[bisect.bisect_right(table.cum, self.u() * table.total)]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """k distinct items in random order (partial Fisher–Yates)."""
        pool = list(seq)
        k = min(k, len(pool))
        for i in range(k):
            j = i + int(self.u() * (len(pool) - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def shuffled(self, seq: Sequence[T]) -> list[T]:
        return self.sample(seq, len(seq))

    def digits(self, n: int) -> str:
        return "".join(str(int(self.u() * 10)) for _ in range(n))

    def normal_int(self, mean: float, sd: float, lo: int, hi: int) -> int:
        """Rounded normal draw clipped to [lo, hi] (Box–Muller on two uniforms)."""
        z = math.sqrt(-2.0 * math.log(1.0 - self.u())) * math.cos(2 * math.pi * self.u())
        return max(lo, min(hi, round(mean + sd * z)))


class Weighted(Sequence):
    """Items with relative weights, for Draw.weighted."""

    def __init__(self, pairs: Sequence[tuple[T, float]]):
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))[:-1]
        self.total = sum(w for _, w in pairs)

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)
