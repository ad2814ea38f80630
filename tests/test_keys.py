"""Every key format of EMAIL.md's frozen table (core/keys.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from automations.core import keys

DAY = dt.date(2026, 11, 30)
E = np.array(["dana@p.example"], dtype=object)


def test_every_key_has_the_frozen_form() -> None:
    assert keys.campaign("intro-2026", "dana@p.example") == "campaign:intro-2026:dana@p.example"
    assert list(keys.follow_up(E, np.array(["2026-11-20"]), np.array([1]))) == [
        "follow_up:dana@p.example:2026-11-20:1"
    ]
    assert list(keys.thank(E, np.array(["2026-11-02"]))) == ["thank:dana@p.example:2026-11-02"]
    assert list(keys.outcome(E, np.array(["2026-11-02"]))) == ["outcome:dana@p.example:2026-11-02"]
    assert list(keys.referral_escalation(E, np.array(["given"]), np.array(["2026-10-01"]))) == [
        "escalation:dana@p.example:given:2026-10-01"
    ]
    assert list(keys.survey_escalation(E, np.array(["2026-10-05"]))) == [
        "escalation:dana@p.example:survey:2026-10-05"
    ]
    assert list(keys.survey(E, keys.quarter_label(DAY))) == ["survey:dana@p.example:2026Q4"]
    assert list(keys.nurture(E, np.array(["never"]))) == ["nurture:dana@p.example:never"]
    assert keys.digest("sam@us.example", DAY) == "digest:sam@us.example:2026-W49"
    assert keys.survey_owner("sam@us.example", DAY) == "survey_owner:sam@us.example:2026Q4"
    assert keys.review("sam@us.example", "20261130T090000Z-1") == (
        "review:sam@us.example:20261130T090000Z-1"
    )


def test_an_owners_self_assessment_key_never_equals_a_partners_survey_key() -> None:
    # An owner who is also a partner gets both emails in one quarter.
    owner = "dana@p.example"
    assert keys.survey_owner(owner, DAY) != keys.survey(E, keys.quarter_label(DAY))[0]
    assert keys.survey_owner_earlier(owner, DAY) == "survey:dana@p.example:2026Q4"
