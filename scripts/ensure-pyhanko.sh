#!/usr/bin/env bash
# pyHanko (an independent PDF signature validator, MIT) for the PAdES tests: prints the pyhanko executable's
# path. PYHANKO=/path/to/pyhanko to use one you have; PYHANKO_FORCE=1 to reinstall.
exec bash "$(dirname "${BASH_SOURCE[0]}")/ensure-pypi-tool.sh" pyhanko pyhanko pyhanko==0.38.0 pyhanko-cli==0.6.0
