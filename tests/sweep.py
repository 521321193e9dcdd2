"""How much of a view's control sweep a run visits: ``make test-thorough``
(``HYPOTHESIS_PROFILE=thorough``) every output cell, ``make test`` a seeded sample."""

from __future__ import annotations

import itertools
import os
import random

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"

#: ``make test`` visits this share of the output cells that are not corners
SHARE = 8


def positions(rows: int, cols: int, rng: random.Random) -> list[tuple[int, int]]:
    """The output cells (row, col) to visit, in raster order: all of them under
    ``make test-thorough``; otherwise the four corners and a seeded eighth of the rest."""
    every = list(itertools.product(range(rows), range(cols)))
    if THOROUGH:
        return every
    corners = {(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)}
    rest = [cell for cell in every if cell not in corners]
    return sorted(corners | set(rng.sample(rest, len(rest) // SHARE)))
