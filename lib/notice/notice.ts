import { z } from 'zod';
import type { ArchiveStore } from '../archive/store.js';
import { PreconditionFailed } from '../archive/store.js';
import type { Kind } from '../oms/kinds.js';
import { KINDS } from '../oms/kinds.js';
import type { Candidate, PlannedItems, Policy, Target } from '../policy/types.js';
import { buildManifest, parseManifest, plannedByTarget, type Manifest, type ManifestTask } from '../purge/manifest.js';
import { InvalidInput } from '../errors.js';

/**
 * The notice window (docs/behaviour.md "Notice window"): a run announces what the policy selects, and deletes an item
 * only after it was announced for the window, unchanged since. The pending notice lives in the archive root; one run
 * at a time may consume it (a claim, written conditionally, with a lease).
 */
export const NOTICE_KEY = 'pending/notice.json';
export const NOTICE_KIND = 'oms-task-janitor/notice';
/** How long a run's claim on the notice holds another run off: longer than a Lambda run (15 min) can take. */
export const NOTICE_LEASE_MS = 30 * 60_000;

/** When one announced item was first announced, and after when it may go. */
export interface NoticeItem {
  target: string;
  kind: Kind;
  id: string;
  announcedAt: string;
  deleteAfter: string;
}

export interface Notice {
  kind: typeof NOTICE_KIND;
  version: 1;
  updatedAt: string;
  /** The run that wrote it. */
  runId: string;
  windowMs: number;
  /** A run that is consuming it now (until `until`); absent when none is. */
  claim?: { runId: string; at: string; until: string };
  /** The announced items as listed when announced (or last seen unchanged), exactly as a manifest holds them. */
  manifest: Manifest;
  items: NoticeItem[];
}

/** Another run holds the notice: this run must not consume it (nothing was done). */
export class NoticeBusy extends Error {
  override name = 'NoticeBusy';
}

const iso = z.string().refine((t) => Number.isFinite(Date.parse(t)), 'expected an ISO 8601 time');
const schema = z.strictObject({
  kind: z.literal(NOTICE_KIND),
  version: z.literal(1),
  updatedAt: iso,
  runId: z.string().min(1),
  windowMs: z.number().int().nonnegative(),
  claim: z.strictObject({ runId: z.string().min(1), at: iso, until: iso }).optional(),
  manifest: z.unknown(),
  items: z.array(z.strictObject({ target: z.string().min(1), kind: z.enum(KINDS), id: z.string().min(1), announcedAt: iso, deleteAfter: iso })),
});

/** The pending notice and its version tag, or none. A notice that is not one (hand-edited, cut short) is an error. */
export async function readNotice(store: ArchiveStore): Promise<{ notice?: Notice; etag?: string }> {
  const found = await store.getTagged(NOTICE_KEY);
  if (found === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(found.body.toString('utf8'));
  } catch {
    throw new NoticeError(`${store.root}/${NOTICE_KEY} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new NoticeError(`${store.root}/${NOTICE_KEY}: ${parsed.error.issues[0]!.path.join('.') || '(the file)'}: ${parsed.error.issues[0]!.message}`);
  const manifest = parseManifest(parsed.data.manifest, `${store.root}/${NOTICE_KEY} manifest`);
  return { notice: { ...parsed.data, manifest } as Notice, etag: found.etag };
}

/** The pending notice cannot be used (not JSON, not a notice). Nothing was done. */
export class NoticeError extends InvalidInput {
  override name = 'NoticeError';
}

/**
 * Claims the notice for this run before anything is listed: a conditional write of the notice as read (or of an empty
 * one), marked with this run and a lease. A claim another run holds, still within its lease, or a write that loses
 * the race, is NoticeBusy. Resolves to what the run works from and the tag its final write must match.
 */
export async function claimNotice(
  store: ArchiveStore,
  run: { runId: string; nowMs: number; windowMs: number; policy: Policy; policySha256: string },
): Promise<{ previous: Notice | undefined; claimed: Notice; etag: string }> {
  const { notice, etag } = await readNotice(store);
  if (notice?.claim && notice.claim.runId !== run.runId && Date.parse(notice.claim.until) > run.nowMs) {
    throw new NoticeBusy(`the pending notice is being consumed by run ${notice.claim.runId} (since ${notice.claim.at}, until ${notice.claim.until} at the latest): this run did nothing`);
  }
  const claimed: Notice = {
    ...(notice ?? emptyNotice(run)),
    claim: { runId: run.runId, at: new Date(run.nowMs).toISOString(), until: new Date(run.nowMs + NOTICE_LEASE_MS).toISOString() },
  };
  try {
    const tag = await store.putIf(NOTICE_KEY, encode(claimed), 'application/json', etag === undefined ? { ifNoneMatch: true } : { ifMatch: etag });
    return { previous: notice, claimed, etag: tag };
  } catch (error) {
    if (error instanceof PreconditionFailed) throw new NoticeBusy(`another run holds or changed the pending notice (${error.message}): this run did nothing`);
    throw error;
  }
}

/**
 * Extends this run's claim by another lease (a long CLI run, still consuming the notice). Resolves to the new tag;
 * NoticeBusy when the notice changed meanwhile (another run took it over after the lease ran out).
 */
export async function renewClaim(store: ArchiveStore, claimed: Notice, etag: string, nowMs: number): Promise<string> {
  const renewed: Notice = { ...claimed, claim: { ...claimed.claim!, until: new Date(nowMs + NOTICE_LEASE_MS).toISOString() } };
  try {
    return await store.putIf(NOTICE_KEY, encode(renewed), 'application/json', { ifMatch: etag });
  } catch (error) {
    if (error instanceof PreconditionFailed) throw new NoticeBusy('another run took the pending notice over during this run');
    throw error;
  }
}

/** The announced items whose time has come, as a manifest's items by target: what the run may delete. */
export function dueItems(notice: Notice | undefined, nowMs: number, policy: Policy): ReadonlyMap<string, PlannedItems> {
  if (notice === undefined) return new Map();
  const due = new Set(notice.items.filter((i) => Date.parse(i.deleteAfter) <= nowMs).map((i) => itemKey(i.target, i.kind, i.id)));
  // Announced for a target that now points elsewhere (another project or endpoint), or is gone: never due.
  const same = new Set(
    notice.manifest.targets.filter((t) => policy.targets.some((p) => p.name === t.name && p.projectId === t.projectId && p.endpoint === t.endpoint)).map((t) => t.name),
  );
  const tasks = notice.manifest.tasks.filter((t) => same.has(t.target) && due.has(itemKey(t.target, t.kind ?? 'task', entryId(t))));
  const planned = plannedByTarget({ ...notice.manifest, targets: notice.manifest.targets.filter((t) => same.has(t.name)), tasks });
  return planned;
}

/**
 * The next notice: what the rules select now in the run's targets, minus what the run deleted. An item announced
 * before and listed unchanged keeps its `announcedAt` and `deleteAfter`; a new one, or one that changed since it was
 * announced (people were told about what it was), gets `deleteAfter` = now + the window. Targets outside the run
 * keep their announced items as they were. Returns the notice and what is new in it.
 */
export function nextNotice(
  previous: Notice | undefined,
  announced: readonly { target: Target; candidate: Candidate }[],
  run: { runId: string; nowMs: number; windowMs: number; policy: Policy; policySha256: string; judged: ReadonlySet<string> },
): { notice: Notice; added: number } {
  const now = new Date(run.nowMs).toISOString();
  const manifest = buildManifest(run.nowMs, run.policySha256, run.policy, announced.map(({ target, candidate }) => ({ target: target.name, candidate })));
  const before = new Map((previous?.manifest.tasks ?? []).map((t) => [itemKey(t.target, t.kind ?? 'task', entryId(t)), t]));
  const timesBefore = new Map((previous?.items ?? []).map((i) => [itemKey(i.target, i.kind, i.id), i]));
  let added = 0;
  const items: NoticeItem[] = manifest.tasks.map((entry) => {
    const key = itemKey(entry.target, entry.kind ?? 'task', entryId(entry));
    const old = before.get(key);
    const times = timesBefore.get(key);
    // Unchanged: its announcement stands; a longer window than it was announced with moves its time later, never
    // earlier (people were told when it goes at the earliest).
    if (old !== undefined && times !== undefined && sameListing(old, entry)) {
      const later = Math.max(Date.parse(times.deleteAfter), Date.parse(times.announcedAt) + run.windowMs);
      return { ...times, deleteAfter: new Date(later).toISOString() };
    }
    added += 1;
    return { target: entry.target, kind: entry.kind ?? 'task', id: entryId(entry), announcedAt: now, deleteAfter: new Date(run.nowMs + run.windowMs).toISOString() };
  });
  // What this run did not judge (a target outside a manual run's `targets`, a listing that failed, a stopped target)
  // keeps its announcements as they were, as long as its target still names the same project and endpoint.
  const samePlace = new Set(
    (previous?.manifest.targets ?? []).filter((t) => run.policy.targets.some((p) => p.name === t.name && p.projectId === t.projectId && p.endpoint === t.endpoint)).map((t) => t.name),
  );
  const stays = (target: string, kind: Kind) => samePlace.has(target) && !run.judged.has(`${target}\u0000${kind}`);
  const kept = (previous?.manifest.tasks ?? []).filter((t) => stays(t.target, t.kind ?? 'task'));
  const keptItems = (previous?.items ?? []).filter((i) => stays(i.target, i.kind));
  return {
    notice: {
      kind: NOTICE_KIND,
      version: 1,
      updatedAt: now,
      runId: run.runId,
      windowMs: run.windowMs,
      manifest: { ...manifest, tasks: [...kept, ...manifest.tasks] },
      items: [...keptItems, ...items],
    },
    added,
  };
}

/** Writes the next notice in place of the one this run claimed; another run's write in between is NoticeBusy. */
export async function writeNotice(store: ArchiveStore, notice: Notice, claimedEtag: string): Promise<void> {
  try {
    await store.putIf(NOTICE_KEY, encode(notice), 'application/json', { ifMatch: claimedEtag });
  } catch (error) {
    if (error instanceof PreconditionFailed) throw new NoticeBusy('another run replaced the pending notice during this run: this run\'s announcement was not written (the next run announces again)');
    throw error;
  }
}

/** The earliest deleteAfter of a notice's items, or undefined. */
export function nextDeletion(notice: Notice): string | undefined {
  return notice.items.map((i) => i.deleteAfter).sort()[0];
}

/** A notice that announces nothing (the first run of a window, or one given back unclaimed). */
export function emptyNotice(run: { runId: string; nowMs: number; windowMs: number; policy: Policy; policySha256: string }): Notice {
  return {
    kind: NOTICE_KIND,
    version: 1,
    updatedAt: new Date(run.nowMs).toISOString(),
    runId: run.runId,
    windowMs: run.windowMs,
    manifest: buildManifest(run.nowMs, run.policySha256, run.policy, []),
    items: [],
  };
}

function encode(notice: Notice): Buffer {
  return Buffer.from(`${JSON.stringify(notice, null, 2)}\n`);
}

/** Listed the same as when announced: everything rules match on, status and last activity (not the rule). */
function sameListing(a: ManifestTask, b: ManifestTask): boolean {
  const strip = ({ rule: _r, action: _a, ...rest }: ManifestTask) => JSON.stringify(rest);
  return strip(a) === strip(b);
}

function entryId(t: ManifestTask): string {
  return (t.kind ?? 'task') === 'task' ? t.taskId! : t.id!;
}

function itemKey(target: string, kind: Kind, id: string): string {
  return `${target}\u0000${kind}\u0000${id}`;
}

/**
 * A real run without a notice window that finds a pending notice (the CLI pointed at a stage's archive without
 * `--notice`, a stage whose window was switched off): it deletes what the policy selects, announced or not, and says
 * so. The pending notice is left as it is.
 */
export async function warnIfNoticeIgnored(store: ArchiveStore, log: { warn(message: string, fields?: Record<string, unknown>): void }): Promise<void> {
  try {
    const { notice } = await readNotice(store);
    if (notice && notice.items.length > 0) {
      log.warn('pending notice ignored', { key: NOTICE_KEY, pending: notice.items.length, reason: 'this run has no notice window (CLI --notice, stage param notice): it deletes what the policy selects, announced or not' });
    }
  } catch {
    // Unreadable: nothing to say about it here (a run under a window reports it).
  }
}
