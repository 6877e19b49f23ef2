/**
 * A policy file checked as a run loads it, plus its warnings: what `oms-janitor validate` prints and what packaging a
 * stage runs (build/validate-policy.cjs bundles this file), so that a placeholder project id or a typo fails the
 * package instead of every invocation after the deploy.
 */
import { checkStagePrefix } from '../auth/resolve.js';
import { HostAllowList } from '../http/allowed-hosts.js';
import { loadPolicyFile } from './load.js';
import type { Policy } from './types.js';
import { policyWarnings, type PolicyWarning } from './warnings.js';

export interface CheckedPolicy {
  policy: Policy;
  sha256: string;
  warnings: PolicyWarning[];
}

/**
 * Throws PolicyError (naming every problem and its line), or CredentialsError for a target secret outside the
 * stage's prefix, when the policy could not run. `env` is the environment it will run with: the allow-list
 * (OMS_JANITOR_ALLOWED_HOSTS), whether it runs in AWS Lambda (loopback refused there), and the stage's secret
 * (OMS_CREDENTIALS_SECRET_ID), under which every target's own secret must be, as the function checks at cold start.
 */
export async function checkPolicyFile(file: string, env: NodeJS.ProcessEnv): Promise<CheckedPolicy> {
  const { policy, sha256 } = await loadPolicyFile(file, { allowedHosts: HostAllowList.fromEnv(env) });
  if (env.AWS_EXECUTION_ENV !== undefined) checkStagePrefix(policy.targets, env.OMS_CREDENTIALS_SECRET_ID);
  return { policy, sha256, warnings: policyWarnings(policy) };
}
