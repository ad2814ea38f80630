"""Google's "table" for values.append: the filled cells connected to the last filled cell
of the range, which the new rows go below (grid.py's append)."""

from __future__ import annotations

from itertools import product

from automations.testing.a1 import GridRange


def last_filled(filled: set[tuple[int, int]], bounds: GridRange) -> tuple[int, int] | None:
    """The last (row, then column) filled cell of `bounds`, or None. A range of fewer cells
    than are filled (`Log!A:A`) is looked at from its end, else every filled cell is."""
    r1, r2, c1, c2 = bounds.r1, bounds.r2, bounds.c1, bounds.c2
    if max(r2 - r1, 0) * max(c2 - c1, 0) <= len(filled):
        for r in range(r2 - 1, r1 - 1, -1):
            for c in range(c2 - 1, c1 - 1, -1):
                if (r, c) in filled:
                    return r, c
        return None
    inside = [(r, c) for r, c in filled if r1 <= r < r2 and c1 <= c < c2]
    return max(inside, default=None)


def table_bounds(filled: set[tuple[int, int]], start: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), bottom and right past the end, of the filled cells
    connected side by side or one above the other to `start`. Filled by runs along a row
    rather than cell by cell, and rows repeating a run (a table's body) are taken many at a
    time: a Log of 60,000 rows is appended to in a dozen pieces."""

    def run(r: int, c: int) -> tuple[int, int]:
        a, b = c, c
        while (r, a - 1) in filled:
            a -= 1
        while (r, b + 1) in filled:
            b += 1
        return a, b

    first = (start[0], *run(*start))
    seen, todo = {first[:2]}, [first]
    top, left, bottom, right = start[0], first[1], start[0], first[2]
    while todo:
        r, a, b = todo.pop()
        top, bottom, left, right = min(top, r), max(bottom, r), min(left, a), max(right, b)
        for near in (r - 1, r + 1):
            c = a
            while c <= b:
                if (near, c) in filled:
                    na, nb = run(near, c)
                    if (near, na) not in seen:
                        seen.add((near, na))
                        todo.append((near, na, nb))
                        last = _beyond(filled, seen, near, near - r, na, nb)
                        if last[0] != near:
                            todo.append(last)
                    c = nb + 1
                c += 1
    return top, left, bottom + 1, right + 1


def _beyond(
    filled: set[tuple[int, int]], seen: set[tuple[int, int]], r: int, step: int, a: int, b: int
) -> tuple[int, int, int]:
    """The last of the rows after `r` (`step` 1 down, -1 up) whose run through columns a..b
    is exactly a..b, as r's is (else r). Each one's neighbours through that run are rows
    alike, so only r's and the last one's are left to look at: the last one and the rows
    next to r and to it are marked seen, which keeps the search out of the rows between.
    Checked by blocks of rows growing to 512 then halved, each with set operations rather
    than cell by cell. (Rows seen already may be among them: they are in the table.)"""
    inside, edges = range(a, b + 1), (a - 1, b + 1)

    def alike(first: int, count: int) -> bool:
        rows = range(r + step * first, r + step * (first + count), step)
        return filled.issuperset(product(rows, inside)) and filled.isdisjoint(product(rows, edges))

    taken, size = 0, 1  # rows after r taken; a block of `size` rows holds the first unlike
    while alike(taken + 1, size):
        taken, size = taken + size, min(size * 2, 512)
    while size > 1:
        size //= 2
        if alike(taken + 1, size):
            taken += size
    last = r + step * taken
    if taken:
        seen.update(((r + step, a), (last - step, a), (last, a)))
    return last, a, b
