/**
 * What a valid policy may still get wrong without anyone noticing: protections that reach none of the kinds its rules
 * delete. Pure, like `select`; `oms-janitor validate` prints these, and packaging a stage prints them too.
 */
import { KIND_MODELS, KINDS, type Kind } from '../oms/kinds.js';
import type { Policy } from './types.js';

export interface PolicyWarning {
  /** The policy field the warning is about (`protect.names`, `rules[2]`). */
  field: string;
  message: string;
}

/** Which `protect` lists reach which kind (lib/policy/protection.ts). */
const REACHES: Record<keyof Omit<Policy['protect'], 'groupTasks'>, readonly Kind[]> = {
  names: ['task'],
  taskIds: ['task'],
  taskGroupIds: ['taskGroup'],
  syncTaskIds: ['syncTask'],
  descriptions: ['taskGroup', 'syncTask'],
  buckets: ['taskGroup', 'syncTask'],
};

export function policyWarnings(policy: Pick<Policy, 'rules' | 'protect'>): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  const ruled = new Set(policy.rules.map((rule) => rule.kind));
  const given = (Object.keys(REACHES) as (keyof typeof REACHES)[]).filter((list) => policy.protect[list].length > 0);
  // A protection list given for kinds no rule deletes protects nothing (a group-only list in a tasks-only policy).
  // Task names and ids also keep the groups and sync tasks holding such a task (lib/purge/engine.ts membersHeld).
  for (const list of given) {
    const reached = list === 'names' || list === 'taskIds' ? KINDS : REACHES[list];
    if (!reached.some((kind) => ruled.has(kind))) {
      warnings.push({ field: `protect.${list}`, message: `protects only ${nouns(REACHES[list])}, and no rule deletes any: it has no effect` });
    }
  }
  // A kind that rules delete while every protection given reaches other kinds only: protect.names does not keep a
  // task group or a sync task by its own fields (only one holding a protected member task).
  for (const kind of KINDS) {
    if (kind === 'task' || !ruled.has(kind) || given.length === 0) continue;
    if (given.some((list) => REACHES[list].includes(kind))) continue;
    const first = policy.rules.findIndex((rule) => rule.kind === kind);
    warnings.push({
      field: `rules[${first}]`,
      message:
        `deletes ${nouns([kind])}, which no protection of this policy reaches by their own id, description or buckets ` +
        `(${given.map((list) => `protect.${list}`).join(', ')} ${given.length === 1 ? 'applies' : 'apply'} to ${nouns([...new Set(given.flatMap((list) => REACHES[list]))])}` +
        `${given.some((list) => list === 'names' || list === 'taskIds') ? `, and keeps ${nouns([kind])} only when they hold a protected member task` : ''}); ` +
        `protect ${nouns([kind])} with ${kind === 'taskGroup' ? 'protect.taskGroupIds' : 'protect.syncTaskIds'}, protect.descriptions or protect.buckets`,
    });
  }
  // Progress is remembered in the archive root: a run without one judges no rule with noProgressFor.
  policy.rules.forEach((rule, i) => {
    if (rule.noProgressFor === undefined) return;
    warnings.push({
      field: `rules[${i}].noProgressFor`,
      message: 'is judged only by runs with an archive (CLI --archive ROOT, plan included; in Lambda, stage param archive: true, the default), where progress is kept between runs; elsewhere this rule selects nothing',
    });
  });
  return warnings;
}

function nouns(kinds: readonly Kind[]): string {
  return kinds.map((kind) => (kind === 'task' ? 'migration tasks' : `${KIND_MODELS[kind].noun}s`)).join(' and ');
}
