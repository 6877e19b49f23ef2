/**
 * Where credentials may go. Every request the janitor makes carries them (an OMS call a token or an AK/SK signature,
 * an IAM token request a password), so every host is checked: loopback (the emulator), hosts under Huawei Cloud's
 * official API domains, and hosts an operator lists in OMS_JANITOR_ALLOWED_HOSTS, outside the policy (whoever can
 * edit a policy file must not be able to send the company's credentials to a host of their choosing).
 *
 * The official domains are the ones Huawei Cloud's own endpoint tables and SDK region lists use (docs/behaviour.md
 * "Where credentials go" cites them): `myhuaweicloud.com` (international and Chinese mainland regions, IAM's global
 * endpoint), `myhuaweicloud.cn` (second endpoints of Chinese mainland regions) and `myhuaweicloud.eu` (the European
 * site, eu-west-101).
 */

import { LOOPBACK_HOSTS } from './endpoint.js';
import { InvalidInput } from '../errors.js';

export const OFFICIAL_API_DOMAINS: readonly string[] = ['myhuaweicloud.com', 'myhuaweicloud.cn', 'myhuaweicloud.eu'];

export const ALLOWED_HOSTS_ENV = 'OMS_JANITOR_ALLOWED_HOSTS';


// A host name as an operator writes it: labels of letters, digits and hyphens, or `*.` before such a name.
const HOST_ENTRY = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** OMS_JANITOR_ALLOWED_HOSTS is malformed: the run stops before any request (CLI exit 2, Lambda invocation error). */
export class AllowedHostsError extends InvalidInput {
  override name = 'AllowedHostsError';
  readonly field = ALLOWED_HOSTS_ENV;
}

/**
 * Inside AWS Lambda's own runtime (AWS_EXECUTION_ENV `AWS_Lambda_…`, which the runtime sets and `serverless invoke
 * local` and the tests do not): loopback there is the sandbox, never the emulator.
 */
export function inLambdaRuntime(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.AWS_EXECUTION_ENV?.startsWith('AWS_Lambda_') === true;
}

export class HostAllowList {
  readonly #exact: ReadonlySet<string>;
  /** Loopback may receive credentials (the emulator); not inside AWS Lambda's runtime (see inLambdaRuntime). */
  readonly #loopback: boolean;
  /** Suffixes with their leading dot: `.myhuaweicloud.com` matches `oms.x.myhuaweicloud.com`, not the bare domain. */
  readonly #suffixes: readonly string[];
  /** The operator's entries, for messages. */
  readonly extra: readonly string[];

  private constructor(extra: readonly string[], loopback = true) {
    this.extra = extra;
    this.#loopback = loopback;
    this.#exact = new Set(extra.filter((e) => !e.startsWith('*.')));
    this.#suffixes = [...OFFICIAL_API_DOMAINS.map((d) => `.${d}`), ...extra.filter((e) => e.startsWith('*.')).map((e) => e.slice(1))];
  }

  /** Loopback and the official domains only. */
  static official(): HostAllowList {
    return new HostAllowList([]);
  }

  /**
   * The official list plus OMS_JANITOR_ALLOWED_HOSTS (comma-separated host names, `*.example.com` for subdomains of
   * example.com). An entry that is not a host name (a URL, a port, a bare `*`) is an error, not ignored: an operator
   * who meant to allow a host must not find out at run time that nothing was allowed, or that too much was.
   */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): HostAllowList {
    return HostAllowList.#parse(env, !inLambdaRuntime(env));
  }

  static #parse(env: Readonly<Record<string, string | undefined>>, loopback: boolean): HostAllowList {
    const raw = env[ALLOWED_HOSTS_ENV] ?? '';
    const entries = raw
      .split(',')
      .map((e) => e.trim().toLowerCase().replace(/\.$/, ''))
      .filter((e) => e !== '');
    entries.forEach((entry, index) => {
      if (!HOST_ENTRY.test(entry)) {
        throw new AllowedHostsError(
          `${ALLOWED_HOSTS_ENV}: entry ${index + 1} ${JSON.stringify(entry.slice(0, 80))} is not a host name ` +
            '(expected names such as oms.example.com or *.example.com, comma-separated; no scheme, port or path)',
        );
      }
    });
    return new HostAllowList(entries, loopback);
  }

  /** `host` as URL.hostname gives it (lowercase; IPv6 in brackets). */
  allows(host: string): boolean {
    const name = host.toLowerCase().replace(/\.$/, '');
    if ((this.#loopback && LOOPBACK_HOSTS.has(name)) || this.#exact.has(name)) return true;
    return this.#suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
  }

  /** undefined when `url`'s host may receive credentials; else why not, naming the host (for `<field>: <why>`). */
  refusal(url: string): string | undefined {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      return `${JSON.stringify(url.slice(0, 200))} is not a URL`;
    }
    if (this.allows(host)) return undefined;
    const extra = this.extra.length > 0 ? `, nor listed in ${ALLOWED_HOSTS_ENV} (${this.extra.join(', ')})` : '';
    if (!this.#loopback && LOOPBACK_HOSTS.has(host.toLowerCase())) {
      return `host ${JSON.stringify(host)} is loopback, and inside AWS Lambda that is the function's own sandbox (an extension could listen there), never the OMS emulator: credentials are not sent there`;
    }
    return (
      `host ${JSON.stringify(host)} is not loopback or under Huawei Cloud's API domains (${OFFICIAL_API_DOMAINS.join(', ')})${extra}; ` +
      `credentials are only sent there. To allow it, an operator sets ${ALLOWED_HOSTS_ENV}=${host} outside the policy`
    );
  }
}
