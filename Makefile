# The two commands of the README. Everything they need is installed by scripts/bootstrap.sh.
.PHONY: up test

up:
	@bash scripts/bootstrap.sh
	@node --import tsx scripts/up.ts

test:
	@bash scripts/test.sh
