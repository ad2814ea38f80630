"""Pinging a monitoring service (healthchecks.io, Cronitor, Uptime Kuma) about a run: the
convention is `URL/start`, `URL` on success and `URL/fail` with a short body (EMAIL.md,
"Copies, windows and alerts"; FIELD-NOTES.md, "Runs nobody watches")."""

from __future__ import annotations

BODY_LIMIT = 10_000  # the services keep the first 10 kB or so of a body


def ping(url: str, signal: str = "", body: str = "", timeout: float = 10.0) -> str:
    """POST to the check (`signal` "start", "fail" or "" for success); "" when it answered,
    else why not, in words. A monitoring service that is down never stops a run."""
    # Imported here: most runs ping nothing, and requests costs ~45 ms of every start.
    import requests

    target = f"{url.rstrip('/')}/{signal}" if signal else url
    try:
        answer = requests.post(
            target, data=body[:BODY_LIMIT].encode("utf-8"), timeout=timeout, allow_redirects=True
        )
    except requests.RequestException as exc:
        return f"the monitoring address could not be reached ({type(exc).__name__})"
    if answer.status_code >= 400:
        return f"the monitoring address answered {answer.status_code}"
    return ""
