# The two commands of the README. Everything else is in scripts/.
# `make bench` (not one of the two set-up commands): benchmarks, bench/RESULTS.md.
# `make soak`: the long reliability run (60 s of load, 20 kills), docs/RELIABILITY.md.
.PHONY: run test bench soak
run:
	@bash scripts/run.sh
test:
	@bash scripts/test.sh
bench:
	@bash scripts/bench.sh
soak:
	@bash scripts/soak.sh
