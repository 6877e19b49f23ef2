import { describe, expect, it } from '@jest/globals';
import { KIND_MODELS, KINDS, handlingOf, statusValue, waitLabelOf } from '../../lib/oms/kinds.js';

describe('the kind model: what each state gets', () => {
  it('gives every status a handling, every wait state a label, and derives the rest from them', () => {
    for (const kind of KINDS) {
      const model = KIND_MODELS[kind];
      for (const name of Object.keys(model.statuses)) {
        const handling = model.handling[name];
        expect([kind, name, handling]).toEqual([kind, name, expect.stringMatching(/^(delete|pause|wait|finished|deleting)$/)]);
        expect([kind, name, waitLabelOf(kind, statusValue(kind, name)!) !== undefined]).toEqual([kind, name, handling === 'wait']);
      }
      expect(model.ruleStatuses).toEqual(Object.keys(model.statuses).filter((name) => model.handling[name] !== 'deleting'));
      // A busy state a rule may name needs stopFirst; every state OMS will not delete as it is is busy.
      for (const name of model.ruleStatuses) {
        if (['pause', 'wait'].includes(model.handling[name]!)) expect([kind, name, model.inProgress.includes(name)]).toEqual([kind, name, true]);
      }
    }
  });

  it('pauses only a migrating task, a monitoring group and a synchronizing sync task; waits out a pausing item and a group being created', () => {
    const by = (handling: string) => KINDS.flatMap((kind) => Object.keys(KIND_MODELS[kind].statuses).filter((name) => KIND_MODELS[kind].handling[name] === handling).map((name) => `${kind}:${name}`));
    expect(by('pause')).toEqual(['task:migrating', 'taskGroup:monitoring', 'syncTask:synchronizing']);
    expect(by('wait')).toEqual(['task:pausing', 'taskGroup:executing', 'taskGroup:pausing']);
    expect(waitLabelOf('taskGroup', 1)).toBe('creating');
    expect(handlingOf('task', 1)).toBe('delete');
    expect(handlingOf('task', 6)).toBe('delete');
    expect(handlingOf('taskGroup', 0)).toBe('delete');
    expect(handlingOf('task', 0)).toBeUndefined();
    expect(handlingOf('taskGroup', 42)).toBeUndefined();
  });
});
