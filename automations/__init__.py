"""Partner automations: the engine behind a referral-partner sheet."""

__version__ = "0.1.0"
