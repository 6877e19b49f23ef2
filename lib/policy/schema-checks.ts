/**
 * Checks across the items of a list (unique names, stopFirst for in-progress statuses, one target per project).
 * They are attached to the lists with `when: () => true` so they are reported together with every other issue:
 * zod skips an object's own refinements once a field inside it has failed. Items may therefore be partly invalid
 * here, so they are read defensively.
 */
import type { z } from 'zod';
import { KIND_MODELS, isKind, type Kind } from '../oms/kinds.js';
import { defaultEndpoint, normaliseEndpoint } from '../http/endpoint.js';
import { show } from './schema-fields.js';

type ListCheck = (items: unknown[], ctx: z.core.$RefinementCtx<unknown[]>) => void;

/** Run even when an item failed: see above. That includes a list that is missing or not a list at all. */
export const ALWAYS = { when: () => true };

/** `list` is the list's field name in the file (`targets`, `rules`), used to point at the first occurrence. */
export function uniqueNames(list: string): ListCheck {
  return (items, ctx) => {
    if (!Array.isArray(items)) return;
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const name = (item as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, index);
      else {
        const message = `duplicate name ${show(name)} (also ${list}[${first}])`;
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message });
      }
    });
  };
}

/** The kind a raw rule item is about: `task` when absent, undefined when it names no kind (reported on its field). */
function kindOf(rule: unknown): Kind | undefined {
  const kind = (rule as { kind?: unknown } | null)?.kind;
  if (kind === undefined) return 'task';
  return isKind(kind) ? kind : undefined;
}

/** Each status a rule names must be one of its kind's (a task group has no `migrating`, a sync task no `failed`). */
export const statusesOfKind: ListCheck = (rules, ctx) => {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule, index) => {
    const kind = kindOf(rule);
    const statuses = (rule as { statuses?: unknown } | null)?.statuses;
    if (kind === undefined || !Array.isArray(statuses)) return;
    const model = KIND_MODELS[kind];
    statuses.forEach((status, j) => {
      if (typeof status !== 'string' || model.ruleStatuses.includes(status)) return;
      const message = model.deleting.includes(status)
        ? `${show(status)} means a delete is already under way: such ${model.noun}s are never selected`
        : `expected a ${model.noun} status name (${model.ruleStatuses.join(', ')}), got ${show(status)}`;
      ctx.addIssue({ code: 'custom', path: [index, 'statuses', j], message });
    });
  });
};

/**
 * Patterns match fields a kind has: a task has a name; task groups and sync tasks have none, and are matched by
 * description and buckets. A pattern on a field the kind lacks would never match, so it is refused instead.
 */
export const fieldsOfKind: ListCheck = (rules, ctx) => {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule, index) => {
    const kind = kindOf(rule);
    if (kind === undefined || rule === null || typeof rule !== 'object') return;
    const given = (field: string) => (rule as Record<string, unknown>)[field] !== undefined;
    const noun = KIND_MODELS[kind].noun;
    if (kind === 'task') {
      for (const field of ['descriptionPattern', 'sourceBucketPattern', 'destinationBucketPattern']) {
        if (given(field)) ctx.addIssue({ code: 'custom', path: [index, field], message: 'is for kind taskGroup or syncTask; a task rule matches names with namePattern' });
      }
    } else if (given('namePattern')) {
      const message = `a ${noun} has no name: match it with descriptionPattern, sourceBucketPattern or destinationBucketPattern`;
      ctx.addIssue({ code: 'custom', path: [index, 'namePattern'], message });
    }
  });
};

/** OMS refuses to delete a task (group, sync task) in progress, so a rule that names such a status must pause first. */
export const stopFirstForInProgress: ListCheck = (rules, ctx) => {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule, index) => {
    const r = rule as { statuses?: unknown; stopFirst?: unknown } | null;
    const kind = kindOf(rule);
    if (kind === undefined) return;
    const statuses: unknown[] = Array.isArray(r?.statuses) ? r.statuses : [];
    const inProgress = KIND_MODELS[kind].inProgress.filter((s) => statuses.includes(s));
    if (inProgress.length === 0 || r?.stopFirst === true) return;
    ctx.addIssue({
      code: 'custom',
      path: [index, 'stopFirst'],
      message:
        `statuses include ${inProgress.join(', ')}, which OMS cannot delete while in progress: ` +
        `set stopFirst: true (${kind === 'syncTask' ? 'stop, wait until stopped' : 'pause, wait until paused'}, then delete) or remove ` +
        (inProgress.length === 1 ? 'it' : 'them'),
    });
  });
};

/**
 * `noProgressFor` is about items in progress whose counters can be watched: every status the rule names must be in
 * progress (a finished item makes no progress to wait for), and the kind's listing must carry counters (a sync
 * task's does not).
 */
export const progressOnlyInProgress: ListCheck = (rules, ctx) => {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule, index) => {
    const r = rule as { statuses?: unknown; noProgressFor?: unknown } | null;
    const kind = kindOf(rule);
    if (kind === undefined || r?.noProgressFor === undefined) return;
    const model = KIND_MODELS[kind];
    if (model.progressFields.length === 0) {
      ctx.addIssue({ code: 'custom', path: [index, 'noProgressFor'], message: `a ${model.noun} listing carries no progress counters, so its progress cannot be watched; use olderThan` });
      return;
    }
    const statuses: unknown[] = Array.isArray(r.statuses) ? r.statuses : [];
    const idle = statuses.filter((s) => typeof s === 'string' && model.statuses[s] !== undefined && !model.inProgress.includes(s));
    if (idle.length > 0) {
      ctx.addIssue({ code: 'custom', path: [index, 'noProgressFor'], message: `is about items in progress; ${idle.join(', ')} make no progress: put them in a rule of their own` });
    }
  });
};

/**
 * Two targets on one project would list, count and delete the same tasks twice. Compared on the endpoint the policy
 * ends up with (normalised, or the region's default when omitted) and the project id, from the raw items too: the
 * check must not rely on zod having run the items' transforms before it.
 */
export const uniqueProjects: ListCheck = (targets, ctx) => {
  if (!Array.isArray(targets)) return;
  const seen = new Map<string, number>();
  targets.forEach((target, index) => {
    const t = target as { projectId?: unknown; endpoint?: unknown; region?: unknown } | null;
    if (typeof t?.projectId !== 'string') return;
    const endpoint = resolvedEndpoint(t.endpoint, t.region);
    // An endpoint that cannot be resolved is reported on its own field; there is nothing to compare.
    if (endpoint === undefined) return;
    const key = `${endpoint} ${t.projectId}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else {
      const message = `same project and endpoint as targets[${first}]`;
      ctx.addIssue({ code: 'custom', path: [index, 'projectId'], message });
    }
  });
};

/** The normalised endpoint a target item stands for, or undefined when it has none (invalid or mistyped). */
function resolvedEndpoint(endpoint: unknown, region: unknown): string | undefined {
  let text: string;
  if (typeof endpoint === 'string') text = endpoint;
  else if (endpoint === undefined && typeof region === 'string') text = defaultEndpoint(region);
  else return undefined;
  const result = normaliseEndpoint(text);
  return result.ok ? result.endpoint : undefined;
}
