// jest's node environment, pointed at the stack of this jest worker: scripts/with-stack.ts --stacks N starts N
// independent stacks and lists their settings in ESEAL_TEST_STACK_ENVS; worker k (JEST_WORKER_ID) takes stack k.
// Set on the worker's own process.env before the test's sandbox copies it, so child processes a test spawns
// (workers, web, `make up`) inherit the same stack.
const { TestEnvironment } = require('jest-environment-node');

class StackEnvironment extends TestEnvironment {
  constructor(config, context) {
    const stacks = JSON.parse(process.env.ESEAL_TEST_STACK_ENVS || '[]');
    const mine = stacks[(Number(process.env.JEST_WORKER_ID) || 1) - 1];
    if (mine) Object.assign(process.env, mine);
    super(config, context);
  }
}
module.exports = StackEnvironment;
