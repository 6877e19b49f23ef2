import type { Exchange } from './http-util.js';
import { send, sendError } from './http-util.js';
import { record } from './stats.js';
import type { TaskStore } from './task-store.js';
import type { FaultRoute } from './types.js';

export interface OmsRoute {
  route: FaultRoute;
  projectId: string;
  /** As in the path (decoded); validated as digits by the handler, after auth. */
  taskId?: string;
}

const LIST = /^\/v2\/([^/]+)\/tasks\/?$/;
const ONE = /^\/v2\/([^/]+)\/tasks\/([^/]+)\/?$/;
const STOP = /^\/v2\/([^/]+)\/tasks\/([^/]+)\/stop\/?$/;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The OMS task route of a request, or undefined (the caller answers 404 APIGW.0101). */
export function matchOmsRoute(method: string, pathname: string): OmsRoute | undefined {
  let m: RegExpExecArray | null;
  if (method === 'GET' && (m = LIST.exec(pathname))) return { route: 'list', projectId: decode(m[1] ?? '') };
  if (method === 'POST' && (m = STOP.exec(pathname))) {
    return { route: 'stop', projectId: decode(m[1] ?? ''), taskId: decode(m[2] ?? '') };
  }
  m = ONE.exec(pathname);
  if (m && (method === 'GET' || method === 'DELETE')) {
    return { route: method === 'GET' ? 'show' : 'delete', projectId: decode(m[1] ?? ''), taskId: decode(m[2] ?? '') };
  }
  return undefined;
}

const NOT_FOUND = 'No resources found: the task does not exist.';

/** Answers an authenticated OMS call. */
export function handleOms(ex: Exchange, r: OmsRoute, store: TaskStore, offsetCap: number | undefined): void {
  if (r.route === 'list') return handleList(ex, r.projectId, store, offsetCap);
  const taskId = r.taskId ?? '';
  if (!/^[0-9]+$/.test(taskId)) return sendError(ex, 400, 'OMS.0054', 'Invalid task ID.');
  switch (r.route) {
    case 'show': {
      const json = store.show(r.projectId, taskId);
      return json === undefined ? sendError(ex, 400, 'OMS.1009', NOT_FOUND) : send(ex, 200, json);
    }
    case 'stop': {
      const outcome = store.stop(r.projectId, taskId);
      if (outcome === 'missing') return sendError(ex, 400, 'OMS.1009', NOT_FOUND);
      if (outcome === 'not-migrating') return sendError(ex, 400, 'OMS.0066', 'Pause failed: the task is not migrating.');
      record(ex.stats.stopped, r.projectId, taskId);
      return send(ex, 200, '');
    }
    case 'delete': {
      const outcome = store.delete(r.projectId, taskId);
      if (outcome === 'missing') return sendError(ex, 400, 'OMS.1009', NOT_FOUND);
      if (outcome === 'in-progress') {
        return sendError(ex, 400, 'OMS.0063', 'The task is in progress. Pause it before deleting it.');
      }
      record(ex.stats.deleted, r.projectId, taskId);
      return send(ex, 200, '');
    }
  }
}

/** An integer parameter: the default when absent, undefined when present but not a whole number in range. */
function intParam(params: URLSearchParams, name: string, fallback: number | undefined, min: number, max: number): number | undefined | null {
  const text = params.get(name);
  if (text === null) return fallback;
  if (!/^-?[0-9]{1,12}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

function handleList(ex: Exchange, projectId: string, store: TaskStore, offsetCap: number | undefined): void {
  const params = ex.url.searchParams;
  const limit = intParam(params, 'limit', 10, 1, 100);
  if (limit === null || limit === undefined) return sendError(ex, 400, 'OMS.0064', 'Invalid parameter: limit must be 1..100.');
  const offset = intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (offset === null || offset === undefined) return sendError(ex, 400, 'OMS.0064', 'Invalid parameter: offset must be >= 0.');
  if (offsetCap !== undefined && offset > offsetCap) {
    return sendError(ex, 400, 'OMS.0064', `Invalid parameter: offset must be at most ${offsetCap}.`);
  }
  const status = intParam(params, 'status', undefined, 0, 99);
  if (status === null) return sendError(ex, 400, 'OMS.0064', 'Invalid parameter: status.');
  const groupId = params.get('group_id') ?? undefined;
  const page = store.list(projectId, { limit, offset, status, groupId });
  send(ex, 200, `{"tasks":[${page.tasks.join(',')}],"count":${page.count}}`);
}
