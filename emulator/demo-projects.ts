/** The demo's two projects: project id -> a label a policy would use as the target name. */
export const DEMO_PROJECTS = {
  beijing4: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  shanghai1: 'f9e8d7c6b5a4938271605f4e3d2c1b0a',
} as const;

export interface DemoSite {
  region: string;
  dstBucket: string;
}

const SITES: Record<string, DemoSite> = {
  [DEMO_PROJECTS.beijing4]: { region: 'cn-north-4', dstBucket: 'obs-acme-bj4' },
  [DEMO_PROJECTS.shanghai1]: { region: 'cn-east-3', dstBucket: 'obs-acme-sh1' },
};

/** Where a demo project migrates to: shared by its tasks, task groups and sync tasks. */
export function demoSite(projectId: string): DemoSite {
  const site = SITES[projectId];
  if (site === undefined) throw new RangeError(`${projectId} is not a demo project`);
  return site;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
