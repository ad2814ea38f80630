"""The emulator's append table (automations/testing/sheet_table.py) against the plain
definition: the filled cells reachable from the start cell through side-by-side or
one-above-the-other neighbours, and their bounding box."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from automations.testing.a1 import GridRange
from automations.testing.grid import Tab
from automations.testing.sheet_table import last_filled, table_bounds

Cells = set[tuple[int, int]]


def _reached(filled: Cells, start: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), bottom and right past the end, cell by cell."""
    seen, todo = {start}, [start]
    while todo:
        r, c = todo.pop()
        for near in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if near in filled and near not in seen:
                seen.add(near)
                todo.append(near)
    rows, columns = {r for r, _ in seen}, {c for _, c in seen}
    return min(rows), min(columns), max(rows) + 1, max(columns) + 1


# Bands of rows alike (a table's body, where blocks of rows are taken at once), holes, and
# cells beside a band: each band is (rows, first column, last column, a cell two columns right)
_bands = st.lists(
    st.tuples(
        st.integers(1, 40), st.integers(0, 5), st.integers(0, 5), st.booleans(), st.booleans()
    ),
    min_size=1,
    max_size=8,
)


@given(_bands, st.sets(st.tuples(st.integers(0, 200), st.integers(0, 8)), max_size=30), st.data())
def test_the_table_is_the_cells_reached_from_the_start(
    bands: list[tuple[int, int, int, bool, bool]], holes: Cells, data: st.DataObject
) -> None:
    filled: Cells = set()
    row = 0
    for height, a, width, beside, gap in bands:
        for r in range(row, row + height):
            filled.update((r, c) for c in range(a, a + width + 1))
            if beside:
                filled.add((r, a + width + 2))
        row += height + gap
    filled -= holes
    if not filled:
        return
    start = data.draw(st.sampled_from(sorted(filled)))
    assert table_bounds(filled, start) == _reached(filled, start)


@given(
    st.sets(st.tuples(st.integers(0, 12), st.integers(0, 6)), max_size=40),
    st.integers(0, 14),
    st.integers(0, 14),
    st.integers(0, 8),
    st.integers(0, 8),
)
def test_the_last_filled_cell_of_a_range(filled: Cells, r1: int, r2: int, c1: int, c2: int) -> None:
    bounds = GridRange(Tab(1, "T", rows=15, columns=9), r1, c1, r2, c2)
    inside = [(r, c) for r, c in filled if r1 <= r < r2 and c1 <= c < c2]
    assert last_filled(filled, bounds) == max(inside, default=None)
