// A jest reporter that writes one line when each test file starts and ends to test-artifacts/jest-progress.log,
// so a run stopped by scripts/test.sh's time limit can say which files were still running (jest's own output
// names a file only when it ends).
const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const FILE = path.resolve(__dirname, '..', '..', 'test-artifacts', 'jest-progress.log');
const rel = (p) => path.relative(path.resolve(__dirname, '..', '..'), p);
const line = (s) => appendFileSync(FILE, `${new Date().toISOString()} ${s}\n`);

class ProgressReporter {
  onRunStart() {
    mkdirSync(path.dirname(FILE), { recursive: true });
    writeFileSync(FILE, '');
  }
  onTestFileStart(test) {
    line(`start ${rel(test.path)}`);
  }
  onTestFileResult(test, result) {
    const seconds = ((result.perfStats.end - result.perfStats.start) / 1000).toFixed(1);
    line(`end   ${rel(test.path)} ${result.numFailingTests || result.testExecError ? 'FAILED' : 'passed'} in ${seconds} s`);
  }
}
module.exports = ProgressReporter;
