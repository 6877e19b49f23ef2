import type { ArchiveStore } from '../archive/store.js';
import type { Kind } from '../oms/kinds.js';
import type { Candidate, Target } from '../policy/types.js';
import { runPurge, type EngineDeps, type PurgeRequest } from '../purge/engine.js';
import type { NoticeSummary, RunSummary } from '../purge/summary.js';
import { NOTICE_LEASE_MS, NoticeBusy, claimNotice, dueItems, emptyNotice, nextDeletion, nextNotice, renewClaim, writeNotice, type Notice } from './notice.js';

/** How many announced ids (with names) the summary and the run report list. */
export const NOTICE_IDS_LISTED = 50;

/**
 * A real run under a notice window, for the CLI and the Lambda handler alike: claims the pending notice, deletes the
 * announced items that are due (judged exactly as a manifest's: unchanged since announced, still selected by the
 * current policy), then announces what the rules select now and was not just deleted. Never deletes anything that
 * was not announced. The summary says what is pending (`notice`).
 */
export async function runUnderNotice(
  store: ArchiveStore,
  request: PurgeRequest,
  deps: EngineDeps & { runId: string },
  notice: { windowMs: number; policySha256: string },
): Promise<RunSummary> {
  const { policy } = request;
  const nowMs = (deps.clock ?? Date.now)();
  const base = { runId: deps.runId, nowMs, windowMs: notice.windowMs, policy, policySha256: notice.policySha256 };
  const claim = await claimNotice(store, base);
  const { previous } = claim;
  let etag = claim.etag;
  const announced: { target: Target; candidate: Candidate }[] = [];
  const judged = new Set<string>();
  const deleted = new Set<string>();
  // The claim is renewed while the run lasts (a CLI run has no time limit); if another run took the notice over, this
  // one starts nothing more (its remaining items are deferred) and writes no notice.
  let lost = false;
  const renewing = setInterval(() => {
    renewClaim(store, claim.claimed, etag, (deps.clock ?? Date.now)()).then(
      (tag) => (etag = tag),
      (error: unknown) => {
        lost = true;
        deps.log.error('notice claim lost', { reason: error instanceof Error ? error.message : String(error), effect: 'no new item is started; the notice is not written by this run' });
      },
    );
  }, NOTICE_LEASE_MS / 3);
  renewing.unref();
  const remaining = deps.remainingTimeMs;
  let summary: RunSummary;
  try {
    summary = await runPurge(
      { ...request, plannedByTarget: dueItems(previous, nowMs, policy), notice: true },
      {
        ...deps,
        remainingTimeMs: () => (lost ? 0 : (remaining?.() ?? Number.POSITIVE_INFINITY)),
        onAnnounce: (target, kind, selected) => {
          judged.add(`${target.name}\u0000${kind}`);
          for (const candidate of selected) announced.push({ target, candidate });
        },
        onOutcome: (target, candidate, outcome) => {
          if (outcome.kind === 'deleted') deleted.add(key(target.name, candidate.item.kind, candidate.item.id));
          deps.onOutcome?.(target, candidate, outcome);
        },
      },
    );
  } catch (error) {
    clearInterval(renewing);
    // Nothing of the notice was consumed in a way a later run cannot redo: give it back unclaimed.
    if (!lost) await writeNotice(store, release(previous, base), etag).catch(() => undefined);
    throw error;
  }
  clearInterval(renewing);
  const next = nextNotice(
    previous,
    announced.filter(({ target, candidate }) => !deleted.has(key(target.name, candidate.item.kind, candidate.item.id))),
    { ...base, judged },
  );
  let written = !lost;
  if (!lost) {
    try {
      await writeNotice(store, next.notice, etag);
      deps.log.info('notice written', { pending: next.notice.items.length, added: next.added, nextDeletion: nextDeletion(next.notice) ?? null, windowMs: notice.windowMs });
    } catch (error) {
      written = false;
      deps.log.error('notice not written', { reason: error instanceof Error ? error.message : String(error), busy: error instanceof NoticeBusy });
    }
  }
  return { ...summary, notice: noticeSummary(next.notice, next.added, written) };
}

/** The summary's `notice`: what is pending, per target and kind, and the first ids with names. */
export function noticeSummary(notice: Notice, added: number, written: boolean): NoticeSummary {
  const groups = new Map<string, { target: string; kind: Kind; count: number; nextDeletion: string }>();
  for (const item of notice.items) {
    const k = `${item.target}\u0000${item.kind}`;
    const g = groups.get(k) ?? groups.set(k, { target: item.target, kind: item.kind, count: 0, nextDeletion: item.deleteAfter }).get(k)!;
    g.count += 1;
    if (item.deleteAfter < g.nextDeletion) g.nextDeletion = item.deleteAfter;
  }
  const times = new Map(notice.items.map((i) => [key(i.target, i.kind, i.id), i.deleteAfter]));
  const first = [...notice.manifest.tasks]
    .map((t) => {
      const kind = t.kind ?? 'task';
      const id = kind === 'task' ? t.taskId! : t.id!;
      return { target: t.target, kind, id, name: t.name ?? t.description ?? '', deleteAfter: times.get(key(t.target, kind, id)) ?? '' };
    })
    .sort((a, b) => a.deleteAfter.localeCompare(b.deleteAfter))
    .slice(0, NOTICE_IDS_LISTED);
  return {
    windowMs: notice.windowMs,
    pending: notice.items.length,
    added,
    written,
    ...(nextDeletion(notice) ? { nextDeletion: nextDeletion(notice)! } : {}),
    byTarget: [...groups.values()],
    first,
  };
}

/** The notice as it was before this run claimed it (an empty one if there was none). */
function release(previous: Notice | undefined, run: Parameters<typeof emptyNotice>[0]): Notice {
  if (previous === undefined) return emptyNotice(run);
  const { claim: _claim, ...rest } = previous;
  return rest;
}

function key(target: string, kind: Kind, id: string): string {
  return `${target}\u0000${kind}\u0000${id}`;
}
