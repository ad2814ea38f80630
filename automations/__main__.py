"""`python -m automations` is the same as the `partners` command."""

from automations.cli import main

raise SystemExit(main())
