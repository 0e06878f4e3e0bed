# Thin aliases for dev.py, which needs nothing but Python 3.
.PHONY: help check test demo bench fmt
help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' Makefile | sed 's/:.*## /\t/'
check:  ## format check, lint, types, import contracts, tests
	python3 dev.py check
test:  ## tests only
	python3 dev.py test
demo:  ## three demo co-op nodes on loopback
	python3 dev.py demo
bench:  ## benchmarks (figures as ratios)
	python3 dev.py bench
fmt:  ## apply the formatter and safe lint fixes
	python3 dev.py fmt
