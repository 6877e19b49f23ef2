/**
 * The regions OMS is offered in, from Huawei's Python SDK (huaweicloud-sdk-python-v3, huaweicloud-sdk-oms,
 * huaweicloudsdkoms/v2/region/oms_region.py, last changed 2025-05-15): 21 regions, each at
 * https://oms.{region}.myhuaweicloud.com. A policy target without an `endpoint` must name one of them; a region
 * this list lacks (a new one) is still reached with an explicit `endpoint`.
 */
import { closest, distance } from 'fastest-levenshtein';

export const OMS_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'cn-east-2',
  'cn-east-3',
  'cn-east-4',
  'cn-north-1',
  'cn-north-4',
  'cn-north-9',
  'cn-north-12',
  'cn-south-1',
  'cn-south-4',
  'cn-southwest-2',
  'la-north-2',
  'la-south-2',
  'me-east-1',
  'sa-brazil-1',
  'tr-west-1',
];

const KNOWN = new Set(OMS_REGIONS);

export function isOmsRegion(region: string): boolean {
  return KNOWN.has(region);
}

/** The known region nearest to a mistyped one (`cn-north4` -> `cn-north-4`), or undefined when none is close. */
export function nearestOmsRegion(region: string): string | undefined {
  const best = closest(region, OMS_REGIONS as string[]);
  // Up to 2 edits (a dropped or doubled dash, a digit off by one, a swapped pair); farther is another name, and
  // suggesting it (eu-west-0 -> tr-west-1) would mislead.
  return distance(region, best) <= 2 ? best : undefined;
}
