#!/usr/bin/env bash
# schemathesis (a property-based fuzzer driven by an OpenAPI description, MIT) for the API fuzzing test: prints
# the `st` executable's path. SCHEMATHESIS=/path/to/st to use one you have; SCHEMATHESIS_FORCE=1 to reinstall.
exec bash "$(dirname "${BASH_SOURCE[0]}")/ensure-pypi-tool.sh" schemathesis st schemathesis==4.32.5
