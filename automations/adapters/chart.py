"""The digest's small chart (matplotlib, Agg): referrals received vs given per quarter."""

from __future__ import annotations

import io

MONTHS = ("Jan–Mar", "Apr–Jun", "Jul–Sep", "Oct–Dec")


def _quarter(label: str) -> str:
    """`2026Q3` -> "Jul–Sep 2026", as the axis shows it."""
    year, q = label.split("Q")
    return f"{MONTHS[int(q) - 1]}\n{year}"


def referrals_chart(series: list[tuple[str, int, int]]) -> bytes:
    """A PNG bar chart of (quarter, received, given), 1200x550 pixels: twice the 600 CSS
    pixels the digest shows it at, so it is sharp on phone and retina screens."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [_quarter(q) for q, _, _ in series]
    received = [r for _, r, _ in series]
    given = [g for _, _, g in series]
    figure = Figure(figsize=(6.0, 2.75), dpi=200)
    axes = figure.subplots()
    positions = range(len(labels))
    axes.bar([p - 0.2 for p in positions], received, width=0.4, label="received", color="#2f6f9f")
    axes.bar([p + 0.2 for p in positions], given, width=0.4, label="given", color="#e0a030")
    axes.set_xticks(list(positions), labels)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Referrals per quarter", fontsize=10)
    axes.legend(fontsize=8, frameon=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
