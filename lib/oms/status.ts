/** OMS task status codes, as the API reports them (see shared/oms-api.md). Any other code is unknown. */
export const STATUS_CODES = {
  waiting: 1,
  migrating: 2,
  paused: 3,
  failed: 4,
  succeeded: 5,
  retrying: 6,
  pausing: 7,
} as const;

export type StatusName = keyof typeof STATUS_CODES;
export type StatusCode = (typeof STATUS_CODES)[StatusName];

export const STATUS_NAMES = Object.keys(STATUS_CODES) as StatusName[];

/** Statuses that OMS refuses to delete: the task must be paused first. */
export const IN_PROGRESS_STATUSES: readonly StatusName[] = ['waiting', 'migrating', 'retrying', 'pausing'];

const NAME_BY_CODE = new Map<number, StatusName>(STATUS_NAMES.map((name) => [STATUS_CODES[name], name]));

/** The name of a known status code, or undefined for anything else (0 "pending", 42, null). */
export function statusName(code: number | null): StatusName | undefined {
  return code === null ? undefined : NAME_BY_CODE.get(code);
}

export function isInProgress(code: number | null): boolean {
  const name = statusName(code);
  return name !== undefined && IN_PROGRESS_STATUSES.includes(name);
}
