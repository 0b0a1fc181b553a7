#!/usr/bin/env bash
# Install everything the test suite needs, build, and run the whole suite. Idempotent.
# Usage: bash scripts/test.sh            (what .ci/run calls)
source "$(dirname "$0")/lib.sh"

ensure_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_node_modules
ensure_modern_rclone
build_project

cd "$PROJECT_DIR"
export CI="${CI:-}"
export RBM_TEST_RCLONE="$CACHE_DIR/rclone-modern/rclone"
export RBM_TEST_RCLONE_OLD="$(command -v rclone)"
say "rclone for the full suite: $("$RBM_TEST_RCLONE" version | head -n1)"
say "rclone for the compatibility subset: $("$RBM_TEST_RCLONE_OLD" version | head -n1)"

say "type-checking and linting"
npm run --silent typecheck
npm run --silent lint

# A hang guard, not a timing assertion: the longest test takes under a minute; a test stuck for five fails by name
# instead of running CI into its time limit with nothing said.
HANG_GUARD=--test-timeout=300000

say "unit tests"
node --import tsx --test $HANG_GUARD test/unit/*.test.ts

say "integration tests (rclone $("$RBM_TEST_RCLONE" version | head -n1 | cut -d' ' -f2))"
node --import tsx --test $HANG_GUARD --test-concurrency=2 test/integration/*.test.ts

say "compatibility subset on the system rclone ($("$RBM_TEST_RCLONE_OLD" version | head -n1 | cut -d' ' -f2))"
RBM_TEST_RCLONE="$RBM_TEST_RCLONE_OLD" RBM_TEST_COMPAT=1 node --import tsx --test $HANG_GUARD --test-concurrency=2 test/compat/*.test.ts
