import { randomBytes } from 'node:crypto';
import type { Exchange } from './http-util.js';
import { send } from './http-util.js';
import type { IamUser } from './types.js';

export const DEFAULT_IAM_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

interface IssuedToken {
  projectId: string;
  expiresAtMs: number;
  uses: number;
  revoked: boolean;
}

export type TokenCheck = 'ok' | 'unknown' | 'expired' | 'wrong-project';

/** Tokens handed out by POST /v3/auth/tokens, and the rules that make them stop working. */
export class IamTokenStore {
  private readonly issued = new Map<string, IssuedToken>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs: number,
    private readonly maxUses: number | undefined,
  ) {}

  issue(projectId: string): { token: string; expiresAtMs: number } {
    // Real tokens are long base64 blobs starting MII; the length matters to header-size handling, not the content.
    const token = `MII${randomBytes(48).toString('base64url')}`;
    const expiresAtMs = this.now() + this.ttlMs;
    this.issued.set(token, { projectId, expiresAtMs, uses: 0, revoked: false });
    return { token, expiresAtMs };
  }

  /** Checks one OMS call with this token; a successful check spends one use. */
  use(token: string, projectId: string): TokenCheck {
    const t = this.issued.get(token);
    if (!t) return 'unknown';
    if (t.projectId !== projectId) return 'wrong-project';
    if (t.revoked || this.now() >= t.expiresAtMs) return 'expired';
    if (this.maxUses !== undefined && t.uses >= this.maxUses) return 'expired';
    t.uses += 1;
    return 'ok';
  }

  /** Every token handed out so far (tests check that none of them reaches a log line). */
  issuedTokens(): string[] {
    return [...this.issued.keys()];
  }

  expireAll(): void {
    for (const t of this.issued.values()) t.revoked = true;
  }
}

/** IAM formats expires_at with microseconds: 2020-01-04T09:05:22.701000Z. */
export function iamTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

interface PasswordRequest {
  domain: string;
  username: string;
  password: string;
  projectId: string;
}

/** The password request of oms-api.md, or a message naming what is wrong with it. */
export function parsePasswordRequest(body: Buffer): PasswordRequest | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'The request body is not valid JSON.';
  }
  const get = (o: unknown, key: string): unknown =>
    o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>)[key] : undefined;
  const identity = get(get(json, 'auth'), 'identity');
  const methods = get(identity, 'methods');
  if (!Array.isArray(methods) || !methods.includes('password')) return 'auth.identity.methods must include password.';
  const user = get(get(identity, 'password'), 'user');
  const username = get(user, 'name');
  const password = get(user, 'password');
  const domain = get(get(user, 'domain'), 'name');
  const projectId = get(get(get(get(json, 'auth'), 'scope'), 'project'), 'id');
  if (typeof username !== 'string' || username === '') return 'auth.identity.password.user.name is required.';
  if (typeof password !== 'string') return 'auth.identity.password.user.password is required.';
  if (typeof domain !== 'string' || domain === '') return 'auth.identity.password.user.domain.name is required.';
  if (typeof projectId !== 'string' || projectId === '') return 'auth.scope.project.id is required.';
  return { domain, username, password, projectId };
}

/** Keystone-style error body, as IAM answers token requests. */
function sendIamError(ex: Exchange, status: number, title: string, message: string): void {
  send(ex, status, JSON.stringify({ error: { code: status, message, title } }));
}

/** POST /v3/auth/tokens */
export function handleIamToken(ex: Exchange, users: readonly IamUser[], store: IamTokenStore, now: () => number): void {
  const parsed = parsePasswordRequest(ex.body);
  if (typeof parsed === 'string') return sendIamError(ex, 400, 'Bad Request', parsed);
  const user = users.find(
    (u) => u.domain === parsed.domain && u.username === parsed.username && u.password === parsed.password,
  );
  if (!user) return sendIamError(ex, 401, 'Unauthorized', 'The username or password is wrong.');
  const { token, expiresAtMs } = store.issue(parsed.projectId);
  const domain = { id: `d-${parsed.domain}`, name: parsed.domain };
  const body = {
    token: {
      expires_at: iamTimestamp(expiresAtMs),
      issued_at: iamTimestamp(now()),
      methods: ['password'],
      project: { id: parsed.projectId, name: 'cn-north-4', domain },
      user: { id: `u-${parsed.username}`, name: parsed.username, domain, password_expires_at: '' },
      roles: [{ id: '0', name: 'op_gated_oms' }],
      catalog: [],
    },
  };
  send(ex, 201, JSON.stringify(body), 'application/json;charset=UTF-8', { 'X-Subject-Token': token });
}
