"""Benchmark: the decision engine on a sheet at Google's 10-million-cell limit.

Prints wall time and peak memory of `decide` on 100k partners, 700k referrals,
100k touches and 200k log rows, and beside it, in the same run, one plain
`groupby` count of referrals per partner: the floor any engine pays.
"""

from __future__ import annotations

import datetime as dt
import gc
import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from automations.core.engine.decide import decide
from automations.core.engine.decisions import DecideOptions
from automations.core.engine.rules import Rules
from automations.core.schema import LOG_COLUMNS, SURVEY_ITEMS
from automations.core.tables import Tables

TODAY = dt.date(2026, 11, 25)


def _days_ago(rng: np.random.Generator, n: int, span: int) -> pd.Series:
    ago = rng.integers(0, span, n)
    return pd.Series(np.datetime64(TODAY.isoformat(), "D") - ago.astype("timedelta64[D]")).astype(
        "datetime64[ns]"
    )


def make_tables(
    partners: int = 100_000, referrals: int = 700_000, touches: int = 100_000, log: int = 200_000
) -> Tables:
    """Typed tables of the given sizes, drawn with a fixed seed."""
    rng = np.random.default_rng(7)
    emails = np.array([f"p{i}@partner{i % 997}.example" for i in range(partners)], dtype=object)
    statuses = np.array(
        ["prospect", "contacted", "active", "active", "active", "paused", "faded", "declined"],
        dtype=object,
    )
    p = pd.DataFrame(
        {
            "row": np.arange(2, partners + 2),
            "name": np.char.add("Partner ", np.arange(partners).astype(str)).astype(object),
            "email": emails,
            "company": "Co",
            "type": "agency",
            "status": statuses[rng.integers(0, len(statuses), partners)],
            "owner": "",
            "first_contact": _days_ago(rng, partners, 1500),
            "referral_fee_pct": np.where(rng.random(partners) < 0.3, 10.0, np.nan),
            "cadence_days": np.where(rng.random(partners) < 0.05, 30.0, np.nan),
            "do_not_email": rng.random(partners) < 0.02,
            "snooze_until": pd.Series(pd.NaT, index=range(partners), dtype="datetime64[ns]"),
            "tags": "",
            "notes": "",
        }
    )
    r_status = np.array(["new", "contacted", "qualified", "won", "lost"], dtype=object)
    r = pd.DataFrame(
        {
            "row": np.arange(2, referrals + 2),
            "date": _days_ago(rng, referrals, 1100),
            "direction": np.where(rng.random(referrals) < 0.6, "received", "given").astype(object),
            "partner_email": emails[rng.integers(0, partners, referrals)],
            "client": "Client",
            "status": r_status[rng.integers(0, 5, referrals)],
            "value": rng.integers(500, 20000, referrals).astype("float64"),
            "closed_on": _days_ago(rng, referrals, 400),
            "fee_paid": np.nan,
            "notes": "",
        }
    )
    t = pd.DataFrame(
        {
            "row": np.arange(2, touches + 2),
            "date": _days_ago(rng, touches, 800),
            "partner_email": emails[rng.integers(0, partners, touches)],
            "kind": "call",
            "direction": np.where(rng.random(touches) < 0.7, "in", "out").astype(object),
            "notes": "",
        }
    )
    n_survey = 20_000
    s = pd.DataFrame(
        {
            "row": np.arange(2, n_survey + 2),
            "timestamp": _days_ago(rng, n_survey, 400),
            "partner_email": emails[rng.integers(0, partners, n_survey)],
            "respondent": "",
            **{item: rng.integers(1, 10, n_survey).astype("float64") for item in SURVEY_ITEMS},
        }
    )
    actions = np.array(
        ["thank", "outcome", "nurture", "follow_up", "outreach", "survey", "statement", "reply"],
        dtype=object,
    )
    l_emails = emails[rng.integers(0, partners, log)]
    l_actions = actions[rng.integers(0, len(actions), log)]
    l_day = _days_ago(rng, log, 700)
    keys = (
        pd.Series(l_actions).astype(str)
        + ":"
        + pd.Series(l_emails).astype(str)
        + ":"
        + l_day.dt.strftime("%Y-%m-%d")
    )
    lg = pd.DataFrame({c: "" for c in LOG_COLUMNS}, index=range(log))
    lg["timestamp"] = l_day
    lg["action"] = l_actions
    lg["partner_email"] = l_emails
    lg["key"] = keys.to_numpy(dtype=object)
    lg["status"] = np.where(l_actions == "reply", "reply", "sent").astype(object)
    lg.insert(0, "row", np.arange(2, log + 2))
    return Tables(partners=p, referrals=r, touches=t, survey=s, log=lg)


def measure(fn: object, repeat: int = 3) -> tuple[float, float]:
    """Best wall time (s) over `repeat` runs and peak traced memory (MiB) of one run."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    fn()  # type: ignore[operator]
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak


def main() -> int:
    """Run the benchmark and print the figures."""
    print("generating 100k partners, 700k referrals, 100k touches, 200k log rows ...", flush=True)
    tables = make_tables()
    options = DecideOptions(
        sender_email="me@consult.example", survey_enabled=True, statement_enabled=True
    )
    floor_time, floor_mem = measure(lambda: tables.referrals.groupby("partner_email").size())
    engine_time, engine_mem = measure(lambda: decide(tables, TODAY, Rules(), options))
    decisions = decide(tables, TODAY, Rules(), options)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"floor  (groupby count of referrals per partner): {floor_time:6.3f} s, peak {floor_mem:7.1f} MiB"
    )
    print(
        f"engine (decide, all partners):                   {engine_time:6.3f} s, peak {engine_mem:7.1f} MiB"
    )
    print(
        f"ratio engine/floor: {engine_time / floor_time:.1f}x time; process max RSS {rss:.0f} MiB"
    )
    counts = decisions.health["action"].value_counts().to_dict()
    print(
        f"decisions: {len(decisions.health)} partners, {len(decisions.emails)} emails due; {counts}"
    )
    ok = engine_time < 3.0 and engine_mem < 2048
    print("target (under 3 s and 2 GB):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
