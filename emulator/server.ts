import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AkLockout } from './aksk-lockout.js';
import { authenticate } from './auth.js';
import type { OmsAuthDeps } from './auth.js';
import { FaultInjector } from './faults.js';
import type { Exchange } from './http-util.js';
import { newRequestId, readBody, sendError } from './http-util.js';
import { DEFAULT_IAM_TOKEN_TTL_MS, IamTokenStore, handleIamToken } from './iam.js';
import { createKindStores } from './kind-store.js';
import { KINDS, callKey } from './kinds.js';
import { handleOms, matchOmsRoute } from './oms.js';
import type { OmsRoute, OmsState } from './oms.js';
import { SecretStore, handleSecretsManager, isSecretsManagerRequest } from './secrets-manager.js';
import { SnsTopics, handleSns, isSnsRequest } from './sns.js';
import { S3Buckets, handleS3, isS3Request } from './s3.js';
import { DELETE_IN_PROGRESS, PAUSE_NOT_PAUSABLE, bump, countRefusedOnArrival, createStats, resetStats } from './stats.js';
import { TaskFaults } from './task-faults.js';
import type { Emulator, EmulatorOptions } from './types.js';

export const DEFAULT_STOP_DELAY_MS = 200;
/** The largest S3 object the emulator takes in one PutObject. */
const S3_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Starts the emulator: OMS, IAM, Secrets Manager and SNS (Publish) on one loopback HTTP server. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const now = options.now ?? Date.now;
  const stats = createStats();
  const stores = createKindStores(now, options.stopDelayMs ?? DEFAULT_STOP_DELAY_MS, options.pauseSettleMs ?? 0, options.createDelayMs);
  for (const [projectId, tasks] of Object.entries(options.projects ?? {})) stores.task.set(projectId, tasks);
  for (const [projectId, groups] of Object.entries(options.taskGroups ?? {})) stores.taskGroup.set(projectId, groups);
  for (const [projectId, syncTasks] of Object.entries(options.syncTasks ?? {})) stores.syncTask.set(projectId, syncTasks);
  const oms: OmsState = { stores, offsetCap: options.offsetCap, groupDeleteRemovesMembers: options.groupDeleteRemovesMembers ?? false };
  // Routes this region has not published answer 404 APIGW.0101 like any unknown path.
  const unpublished = new Set(options.syncStopUnsupported === true ? [callKey(KINDS.syncTask, 'stop')] : []);
  const iam = new IamTokenStore(now, options.iamTokenTtlMs ?? DEFAULT_IAM_TOKEN_TTL_MS, options.iamTokenMaxUses);
  const faults = new FaultInjector(options.seed ?? 1, now);
  faults.set(options.faults ?? {});
  const taskFaults = new TaskFaults();
  const secrets = new SecretStore(options.secrets, options.deniedSecrets);
  const topics = new SnsTopics(options.deniedTopics);
  const s3 = new S3Buckets(options.buckets, options.deniedBuckets);
  const accounts = options.accounts ?? [];
  const authDeps: OmsAuthDeps = {
    requireAuth: options.requireAuth ?? true,
    accountOfProject: new Map(accounts.flatMap((a) => a.projects.map((p) => [p, a.name] as const))),
    accountOfCredential: new Map(accounts.flatMap((a) => [...(a.tokens ?? []), ...(a.aks ?? [])].map((c) => [c, a.name] as const))),
    tokens: new Set(options.tokens ?? []),
    credentials: new Map((options.akskCredentials ?? []).map((c) => [c.ak, c])),
    iam,
    lockout: new AkLockout(now, stats.lockedAks),
    now,
  };
  const users = options.users ?? [];

  async function answerOms(ex: Exchange, route: OmsRoute): Promise<void> {
    bump(stats.calls, callKey(KINDS[route.kind], route.route));
    // Judged at arrival, before latency and faults: what the janitor sent, whatever became of it.
    if (route.route === 'delete' && route.id !== undefined) countRefusedOnArrival(stats, DELETE_IN_PROGRESS, stores[route.kind].deleteRefused(route.projectId, route.id));
    if (route.route === 'stop' && route.id !== undefined) countRefusedOnArrival(stats, PAUSE_NOT_PAUSABLE, stores[route.kind].stopRefused(route.projectId, route.id));
    const fault = faults.pick(route.route);
    const latencyMs = faults.latencyMs;
    if (latencyMs > 0) {
      bump(stats.faultsInjected, 'latency');
      await faults.delay(latencyMs);
    }
    if (fault !== undefined) return faults.apply(ex, fault);
    const auth = authenticate(ex, route.projectId, authDeps);
    if (!auth.ok) {
      bump(stats.calls, 'unauthorized');
      return sendError(ex, 401, auth.errorCode, auth.errorMsg);
    }
    if (route.id !== undefined) {
      const taskFault = taskFaults.take(route.kind, route.projectId, route.id, ex.req.method ?? '');
      if (taskFault !== undefined) {
        bump(stats.faultsInjected, 'task-fault');
        return sendError(ex, taskFault.status, taskFault.errorCode, taskFault.errorMsg, taskFault.headers);
      }
    }
    handleOms(ex, route, oms);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.total += 1;
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const route = matchOmsRoute(req.method ?? '', url.pathname, unpublished);
    if (route !== undefined) {
      trackInFlight(res);
      bump(stats.perSecond, String(Math.floor(now() / 1000)));
    }
    const ex: Exchange = { req, res, url, body: Buffer.alloc(0), requestId: newRequestId(), stats };
    try {
      // S3 objects (a run's archive) may be larger than any OMS, IAM or AWS API call's body.
      ex.body = await readBody(req, route === undefined && isS3Request(ex) ? S3_MAX_BODY_BYTES : undefined);
    } catch (error) {
      return sendError(ex, 400, 'APIGW.0201', `Request body refused: ${(error as Error).message}`);
    }
    if (route !== undefined) return answerOms(ex, route);
    if (req.method === 'POST' && /^\/v3\/auth\/tokens\/?$/.test(url.pathname)) {
      bump(stats.calls, 'iam-token');
      return handleIamToken(ex, users, iam, now);
    }
    if (isSecretsManagerRequest(ex)) {
      bump(stats.calls, req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue' ? 'secrets-get' : 'secrets-other');
      return handleSecretsManager(ex, secrets);
    }
    if (isSnsRequest(ex)) {
      bump(stats.calls, 'sns-publish');
      return handleSns(ex, topics, stats.published);
    }
    if (isS3Request(ex)) return handleS3(ex, s3);
    bump(stats.calls, 'unknown-route');
    sendError(ex, 404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.');
  }

  /** Counts an OMS request from arrival until it is answered or its socket goes away (reset, stall, client abort). */
  function trackInFlight(res: ServerResponse): void {
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      stats.inFlight -= 1;
    };
    res.once('finish', end);
    res.once('close', end);
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      const ex: Exchange = { req, res, url: new URL('http://emulator.invalid/'), body: Buffer.alloc(0), requestId: newRequestId(), stats };
      sendError(ex, 500, 'EMULATOR.0001', `Emulator bug: ${(error as Error).message}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    stats,
    resetStats: () => resetStats(stats),
    setFaults: (f) => faults.set(f),
    setTasks: (projectId, tasks) => stores.task.set(projectId, tasks),
    tasks: (projectId) => stores.task.snapshot(projectId),
    setTaskGroups: (projectId, groups) => stores.taskGroup.set(projectId, groups),
    taskGroups: (projectId) => stores.taskGroup.snapshot(projectId),
    setSyncTasks: (projectId, syncTasks) => stores.syncTask.set(projectId, syncTasks),
    syncTasks: (projectId) => stores.syncTask.snapshot(projectId),
    setGroupDeleteRemovesMembers: (value) => (oms.groupDeleteRemovesMembers = value),
    setTaskFault: (projectId, taskId, fault, kind = 'task') => taskFaults.set(kind, projectId, taskId, fault),
    expireIamTokens: () => iam.expireAll(),
    issuedIamTokens: () => iam.issuedTokens(),
    setSecret: (id, value) => secrets.set(id, value),
    setSnsFault: (fault) => (topics.fault = fault),
    setS3Fault: (fault) => (s3.fault = fault),
    s3Objects: (bucket) => s3.objects(bucket),
    close: () =>
      new Promise<void>((resolve) => {
        faults.clearTimers();
        server.close(() => resolve());
        // Stalled and keep-alive sockets would hold close() open: end them now so test runs finish promptly.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
