# The two commands a new user needs: `make demo` and `make test`.
# Each does its own set-up (scripts/bootstrap.sh), idempotently.

VENV := .venv/bin

.PHONY: setup demo test test-unit lint typecheck down

setup:
	@./scripts/bootstrap.sh

demo: setup
	$(VENV)/lifeline demo

test: setup
	$(VENV)/pytest

test-unit: setup
	$(VENV)/pytest tests/unit

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: setup
	$(VENV)/mypy

down:
	$(VENV)/lifeline stack down
