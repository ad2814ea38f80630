# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean spamassassin docs docs-gen

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@test -f config/partners.toml || $(BIN)/partners init
	$(BIN)/partners nurture --send --demo; test $$? -le 1

lint: $(STAMP)
	$(BIN)/ruff check automations tests bench
	$(BIN)/ruff format --check automations tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m automations.docs_gen --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The manual: docs/ as a site on http://127.0.0.1:8000 (the reference pages come from the code).
docs: $(STAMP) docs-gen
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

docs-gen: $(STAMP)
	$(BIN)/python -m automations.docs_gen

test: lint spamassassin
	$(BIN)/python -m pytest -q

# The owner-mail spam score test needs Debian's spamassassin: installed here when this runs
# as root (CI), else that one test is skipped and says why.
spamassassin:
	@command -v spamassassin >/dev/null 2>&1 || { test "$$(id -u)" = 0 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin) \
	  >/dev/null 2>&1; } || echo "spamassassin is not installed: its test will be skipped"

bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_run.py
	$(BIN)/python bench/bench_email.py
	$(BIN)/python bench/bench_startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
