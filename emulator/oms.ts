import type { Exchange } from './http-util.js';
import { send, sendError } from './http-util.js';
import type { KindStores } from './kind-store.js';
import { KINDS, KIND_NAMES, callKey, parseIntText } from './kinds.js';
import type { Kind, KindName } from './kinds.js';
import { record } from './stats.js';
import type { FaultRoute } from './types.js';

export interface OmsRoute {
  kind: KindName;
  route: FaultRoute;
  projectId: string;
  /** As in the path (decoded); validated against the kind's id shape by the handler, after auth. */
  id?: string;
}

/** What the OMS handlers read beside the stores: options, some switchable at run time. */
export interface OmsState {
  stores: KindStores;
  offsetCap: number | undefined;
  groupDeleteRemovesMembers: boolean;
}

interface KindPaths {
  list: RegExp;
  one: RegExp;
  stop: RegExp;
}

const PATHS = Object.fromEntries(
  KIND_NAMES.map((name) => {
    const base = `^/v2/([^/]+)/${KINDS[name].collection}`;
    return [name, { list: new RegExp(`${base}/?$`), one: new RegExp(`${base}/([^/]+)/?$`), stop: new RegExp(`${base}/([^/]+)/stop/?$`) }];
  }),
) as Record<KindName, KindPaths>;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The OMS route of a request, or undefined (the caller answers 404 APIGW.0101). `unpublished` holds stats.calls keys
 * of routes this region does not have ('syncTask.stop'): they do not match, as on a gateway without them.
 */
export function matchOmsRoute(method: string, pathname: string, unpublished: ReadonlySet<string> = new Set()): OmsRoute | undefined {
  for (const name of KIND_NAMES) {
    const route = matchKind(name, method, pathname);
    if (route !== undefined) return unpublished.has(callKey(KINDS[name], route.route)) ? undefined : route;
  }
  return undefined;
}

function matchKind(kind: KindName, method: string, pathname: string): OmsRoute | undefined {
  const paths = PATHS[kind];
  let m: RegExpExecArray | null;
  if (method === 'GET' && (m = paths.list.exec(pathname))) return { kind, route: 'list', projectId: decode(m[1] ?? '') };
  if (method === KINDS[kind].stopMethod && (m = paths.stop.exec(pathname))) {
    return { kind, route: 'stop', projectId: decode(m[1] ?? ''), id: decode(m[2] ?? '') };
  }
  m = paths.one.exec(pathname);
  if (m && (method === 'GET' || method === 'DELETE')) {
    return { kind, route: method === 'GET' ? 'show' : 'delete', projectId: decode(m[1] ?? ''), id: decode(m[2] ?? '') };
  }
  return undefined;
}

/** Answers an authenticated OMS call of any kind. */
export function handleOms(ex: Exchange, r: OmsRoute, state: OmsState): void {
  const kind = KINDS[r.kind];
  const store = state.stores[r.kind];
  if (r.route === 'list') return handleList(ex, kind, r.projectId, state);
  const id = r.id ?? '';
  if (!kind.idPattern.test(id)) return sendError(ex, 400, 'OMS.0054', kind.invalidIdMsg);
  switch (r.route) {
    case 'show': {
      for (const name of kind.showRequires) {
        if (!/^[0-9]+$/.test(ex.url.searchParams.get(name) ?? '')) {
          return sendError(ex, 400, 'OMS.0064', `Invalid parameter: ${name} is required (Unix ms).`);
        }
      }
      const json = store.show(r.projectId, id);
      return json === undefined ? sendError(ex, kind.notFoundStatus, 'OMS.1009', kind.notFoundMsg) : send(ex, 200, json);
    }
    case 'stop': {
      const outcome = store.stop(r.projectId, id);
      if (outcome === 'missing') return sendError(ex, kind.notFoundStatus, 'OMS.1009', kind.notFoundMsg);
      if (outcome === 'not-migrating') return sendError(ex, 400, 'OMS.0066', kind.notStoppableMsg);
      record(ex.stats[kind.stoppedStat], r.projectId, id);
      return send(ex, 200, '');
    }
    case 'delete': {
      const outcome = store.delete(r.projectId, id);
      if (outcome === 'missing') return sendError(ex, kind.notFoundStatus, 'OMS.1009', kind.notFoundMsg);
      if (outcome === 'in-progress') return sendError(ex, 400, 'OMS.0063', kind.inProgressMsg);
      record(ex.stats[kind.deletedStat], r.projectId, id);
      if (kind.ownsMembers && state.groupDeleteRemovesMembers) {
        for (const taskId of state.stores.task.removeGroupMembers(r.projectId, id)) record(ex.stats.membersRemoved, r.projectId, taskId);
      }
      return send(ex, 200, '');
    }
  }
}

/** An integer parameter: the default when absent, null when present but not a whole number in range. */
function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number | null {
  const text = params.get(name);
  return text === null ? fallback : parseIntText(text, min, max);
}

function handleList(ex: Exchange, kind: Kind, projectId: string, state: OmsState): void {
  const params = ex.url.searchParams;
  const limit = intParam(params, 'limit', 10, 1, 100);
  if (limit === null) return sendError(ex, 400, 'OMS.0064', 'Invalid parameter: limit must be 1..100.');
  const offset = intParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (offset === null) return sendError(ex, 400, 'OMS.0064', 'Invalid parameter: offset must be >= 0.');
  const cap = Math.min(kind.maxOffset, state.offsetCap ?? Number.MAX_SAFE_INTEGER);
  if (offset > cap) return sendError(ex, 400, 'OMS.0064', `Invalid parameter: offset must be at most ${cap}.`);
  const statusText = params.get('status');
  const status = statusText === null ? undefined : kind.parseStatusParam(statusText);
  if (status === null) return sendError(ex, 400, 'OMS.0064', 'Invalid parameter: status.');
  const groupId = kind.filtersByGroupId ? (params.get('group_id') ?? undefined) : undefined;
  const page = state.stores[kind.name].list(projectId, { limit, offset, status, groupId });
  send(ex, 200, `{${JSON.stringify(kind.listKey)}:[${page.items.join(',')}],"count":${page.count}}`);
}
