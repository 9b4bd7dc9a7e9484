# The two commands of the README. Everything else is in scripts/.
# `make bench` (not one of the two set-up commands): benchmarks, bench/RESULTS.md.
.PHONY: run test bench
run:
	@bash scripts/run.sh
test:
	@bash scripts/test.sh
bench:
	@bash scripts/bench.sh
