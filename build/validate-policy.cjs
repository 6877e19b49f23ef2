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
    const provider = this.serverless.service.provider;
    const environment = provider.environment ?? {};
    const relative = environment.POLICY_FILE;
    if (typeof relative !== 'string' || relative === '') throw new this.serverless.classes.Error('POLICY_FILE is not set: the stage needs a policyFile param');
    const file = path.resolve(dir, relative);
    // The function reads the policy from its own package: a file outside the service would not be shipped.
    if (path.relative(dir, file).startsWith('..') || path.isAbsolute(path.relative(dir, file))) {
      throw new this.serverless.classes.Error(`The stage's policyFile ${relative} is outside the service directory: it would not be in the package`);
    }
    const { checkPolicyFile } = loadChecker(dir);
    // The environment the function will have (the stage's OMS_JANITOR_ALLOWED_HOSTS and secret), inside Lambda's
    // runtime (loopback refused), not the packaging machine's.
    const runtime = typeof provider.runtime === 'string' ? provider.runtime : 'nodejs22.x';
    const env = { ...stringsOf(environment), AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}` };
    let checked;
    try {
      checked = await checkPolicyFile(file, env);
    } catch (error) {
      if (error && ['PolicyError', 'CredentialsError', 'AllowedHostsError'].includes(error.name)) {
        throw new this.serverless.classes.Error(`The stage's policy cannot run: ${error.message}`);
      }
      throw error;
    }
    for (const w of checked.warnings) this.log.warning(`policy ${relative}: ${w.field}: ${w.message}`);
    this.log.notice(`policy ${relative}: valid (${checked.policy.targets.length} target(s), ${checked.policy.rules.length} rule(s))`);
  }
}

/** The string values of the function's environment (CloudFormation references, which packaging cannot know, left out). */
function stringsOf(environment) {
  return Object.fromEntries(Object.entries(environment).filter(([, value]) => typeof value === 'string'));
}

/** lib/policy/check.ts as CommonJS, bundled in memory and loaded from the service directory. */
function loadChecker(dir) {
  const entry = path.join(dir, 'lib', 'policy', 'check.ts');
  const out = buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent', external: ['@aws-sdk/*'] });
  const filename = path.join(dir, '.validate-policy.cjs');
  const module = new Module(filename, null);
  module.filename = filename;
  module.paths = Module._nodeModulePaths(dir);
  module._compile(out.outputFiles[0].text, filename);
  return module.exports;
}

module.exports = ValidatePolicy;
