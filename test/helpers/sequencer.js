// Longest files first, so that jest's two workers end together: without timings from an earlier run (a fresh
// clone, as CI is) jest orders files by size, and a short file that runs for minutes (chaos, the fuzzer) would
// start last and run alone. Files named here start first, in this order (their usual seconds, measured on
// this 2-core machine); then jest's own order (earlier timings, else size).
const Sequencer = require('@jest/test-sequencer').default;

const LONG = [
  'test/integration/api-fuzz.test.ts', // 110
  'test/integration/decisions.test.ts', // 75
  'test/integration/make-up.test.ts', // 65
  'test/integration/signing.test.ts', // 55
  'test/integration/revocation-certificates.test.ts', // 50
  'test/integration/replacement-district.test.ts', // 50
  'test/integration/chaos.test.ts', // 45
  'test/integration/activity-failures.test.ts', // 48
  'test/integration/workflow-first.test.ts', // 50
  'test/integration/certificate-status.test.ts', // 45
  'test/e2e/corrections.test.ts', // 40
  'test/e2e/journeys.test.ts', // 40
  'test/integration/seal-lifecycle.test.ts', // 37
];

class LongestFirst extends Sequencer {
  sort(tests) {
    const rank = (t) => {
      const i = LONG.findIndex((f) => t.path.endsWith(f));
      return i < 0 ? LONG.length : i;
    };
    const rest = super.sort(tests.filter((t) => rank(t) === LONG.length));
    return [...tests.filter((t) => rank(t) < LONG.length).sort((a, b) => rank(a) - rank(b)), ...rest];
  }
}
module.exports = LongestFirst;
