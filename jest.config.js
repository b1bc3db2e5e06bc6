// One runner for every kind of test. Integration tests expect the services started by
// scripts/with-stack.ts (make test does that); unit and time-skipping tests need nothing else.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/helpers/stack-environment.js',
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  reporters: ['default', '<rootDir>/test/helpers/progress-reporter.js'],
};
