# The two commands a new user needs: `make demo` and `make test`.
# Each does its own set-up (scripts/bootstrap.sh), idempotently.

VENV := .venv/bin

.PHONY: setup demo test test-unit lint typecheck down bench

setup:
	@./scripts/bootstrap.sh

demo: setup
	$(VENV)/lifeline demo

test: setup
	$(VENV)/pytest

# Benchmarks on a stack of their own; prints a table, writes bench/results.json.
# BENCH_ARGS=--quick for a smoke run, BENCH_ARGS="--only latency" for one part.
bench: setup
	$(VENV)/python -m bench.run $(BENCH_ARGS)

test-unit: setup
	$(VENV)/pytest tests/unit

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: setup
	$(VENV)/mypy

down:
	$(VENV)/lifeline stack down
