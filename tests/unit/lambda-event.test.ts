import { describe, expect, it } from '@jest/globals';
import { parseLambdaEvent } from '../../lib/purge/event.js';

const envelope = {
  version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012',
  time: '2026-11-28T03:00:00Z', region: 'ap-southeast-1', resources: ['arn:aws:events:…:rule/x'], detail: {},
};

describe('Lambda events', () => {
  it('scheduled: the schedule input {"scheduled": true}, or the bare EventBridge envelope', () => {
    expect(parseLambdaEvent({ scheduled: true })).toEqual({ kind: 'scheduled', choices: {} });
    expect(parseLambdaEvent(envelope)).toEqual({ kind: 'scheduled', choices: {} });
  });

  it('an envelope with a manual field added is not scheduled: it is refused, nothing runs', () => {
    expect(() => parseLambdaEvent({ ...envelope, dryRun: true })).toThrow(/event\.(version|id|detail-type|source|account|time|region|resources|detail): unknown field/);
    expect(() => parseLambdaEvent({ scheduled: true, dryRun: false })).toThrow(/event\.scheduled: unknown field/);
  });

  it('an envelope whose detail is not empty is refused naming event.detail, whatever the detail says', () => {
    for (const detail of [{ dryRun: true }, { dryRun: false }, { anything: 1 }, 'x', [], null]) {
      expect(() => parseLambdaEvent({ ...envelope, detail })).toThrow(/^event\.detail: .*nothing was done/);
    }
    const { detail: _omitted, ...withoutDetail } = envelope;
    expect(parseLambdaEvent(withoutDetail)).toEqual({ kind: 'scheduled', choices: {} });
  });

  it('"force" is true (every kind), a kind, or a list of kinds; anything else is refused naming event.force', () => {
    expect(parseLambdaEvent({ force: 'syncTask' })).toMatchObject({ choices: { force: ['syncTask'] } });
    expect(parseLambdaEvent({ force: ['taskGroup', 'syncTask'] })).toMatchObject({ choices: { force: ['taskGroup', 'syncTask'] } });
    expect(parseLambdaEvent({ force: true })).toMatchObject({ choices: { force: true } });
    expect(() => parseLambdaEvent({ force: 'groups' })).toThrow(/event\.force/);
    expect(() => parseLambdaEvent({ force: [] })).toThrow(/event\.force/);
  });

  it('manual events are dry runs unless "dryRun": false', () => {
    expect(parseLambdaEvent({})).toEqual({ kind: 'manual', choices: { dryRun: true } });
    expect(parseLambdaEvent(null)).toEqual({ kind: 'manual', choices: { dryRun: true } });
    expect(parseLambdaEvent({ dryRun: true })).toEqual({ kind: 'manual', choices: { dryRun: true } });
    expect(parseLambdaEvent({ dryRun: false })).toEqual({ kind: 'manual', choices: { dryRun: false } });
    expect(parseLambdaEvent({ dryRun: false, targets: ['a'], taskIds: ['1'], stopFirst: true, force: true })).toEqual({
      kind: 'manual',
      choices: { dryRun: false, targets: ['a'], taskIds: ['1'], stopFirst: true, force: true },
    });
  });

  it.each([
    [{ dryrun: false }, /event\.dryrun: unknown field/],
    [{ dryRun: 'false' }, /event\.dryRun: expected boolean/],
    [{ taskIds: [191297407830872] }, /event\.taskIds\[0\]: expected string/],
    [{ targets: 'beijing4' }, /event\.targets: expected array/],
    ['purge', /event: expected object/],
  ])('refuses %j naming the field', (event, message) => {
    expect(() => parseLambdaEvent(event)).toThrow(message);
  });

  it('{"manifest": {...}} is a manual apply, a dry run unless "dryRun": false; with targets, taskIds, stopFirst or force it is refused', () => {
    const manifest = { kind: 'oms-task-janitor/manifest' };
    expect(parseLambdaEvent({ manifest })).toEqual({ kind: 'manual', choices: { dryRun: true }, manifest });
    expect(parseLambdaEvent({ manifest, dryRun: false })).toEqual({ kind: 'manual', choices: { dryRun: false }, manifest });
    for (const [field, value] of [['targets', ['main']], ['taskIds', ['1']], ['stopFirst', true], ['force', true]] as const) {
      expect(() => parseLambdaEvent({ manifest, [field]: value })).toThrow(new RegExp(`event\\.${field}: cannot be combined with a manifest`));
    }
    expect(() => parseLambdaEvent({ manifest: [] })).toThrow(/event\.manifest: expected the JSON object/);
    expect(() => parseLambdaEvent({ manifest, manifests: {} })).toThrow(/event\.manifests: unknown field/);
  });
});
