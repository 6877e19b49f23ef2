'use strict';
/**
 * A Serverless Framework plugin: `serverless package` (and so `serverless deploy`) checks the stage's policy
 * (POLICY_FILE, from the stage's policyFile param) exactly as a run loads it, and fails on an error, naming every
 * problem and its line. Without it a placeholder project id packages silently and fails every invocation after the
 * deploy. Warnings (protections that reach none of the kinds the rules delete) are printed and do not fail.
 *
 * The checker is the product's own (lib/policy/check.ts), bundled on the spot by esbuild (already a dependency of
 * serverless-esbuild), so there is one policy loader, not a copy for packaging.
 */
const { buildSync } = require('esbuild');
const Module = require('node:module');
const path = require('node:path');

class ValidatePolicy {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log ?? { notice: (text) => console.log(text), warning: (text) => console.warn(text) };
    this.hooks = { 'before:package:initialize': () => this.validate() };
  }

  async validate() {
    const dir = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const relative = this.serverless.service.provider.environment?.POLICY_FILE;
    if (typeof relative !== 'string' || relative === '') throw new this.serverless.classes.Error('POLICY_FILE is not set: the stage needs a policyFile param');
    const file = path.resolve(dir, relative);
    const { checkPolicyFile } = loadChecker(dir);
    let checked;
    try {
      checked = await checkPolicyFile(file, process.env);
    } catch (error) {
      if (error && error.name === 'PolicyError') throw new this.serverless.classes.Error(`The stage's policy cannot run: ${error.message}`);
      throw error;
    }
    for (const w of checked.warnings) this.log.warning(`policy ${relative}: ${w.field}: ${w.message}`);
    this.log.notice(`policy ${relative}: valid (${checked.policy.targets.length} target(s), ${checked.policy.rules.length} rule(s))`);
  }
}

/** lib/policy/check.ts as CommonJS, bundled in memory and loaded from the service directory. */
function loadChecker(dir) {
  const entry = path.join(dir, 'lib', 'policy', 'check.ts');
  const out = buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' });
  const filename = path.join(dir, '.validate-policy.cjs');
  const module = new Module(filename, null);
  module.filename = filename;
  module.paths = Module._nodeModulePaths(dir);
  module._compile(out.outputFiles[0].text, filename);
  return module.exports;
}

module.exports = ValidatePolicy;
