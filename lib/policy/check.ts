/**
 * A policy file checked as a run loads it, plus its warnings: what `oms-janitor validate` prints and what packaging a
 * stage runs (build/validate-policy.cjs bundles this file), so that a placeholder project id or a typo fails the
 * package instead of every invocation after the deploy.
 */
import { HostAllowList } from '../http/allowed-hosts.js';
import { loadPolicyFile } from './load.js';
import type { Policy } from './types.js';
import { policyWarnings, type PolicyWarning } from './warnings.js';

export interface CheckedPolicy {
  policy: Policy;
  sha256: string;
  warnings: PolicyWarning[];
}

/** Throws PolicyError (naming every problem and its line) when the policy could not run; `env` gives the allow-list. */
export async function checkPolicyFile(file: string, env: NodeJS.ProcessEnv): Promise<CheckedPolicy> {
  const { policy, sha256 } = await loadPolicyFile(file, { allowedHosts: HostAllowList.fromEnv(env) });
  return { policy, sha256, warnings: policyWarnings(policy) };
}
