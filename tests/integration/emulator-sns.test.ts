import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { startEmulator } from '../../emulator/index.js';
import type { Emulator } from '../../emulator/index.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:oms-task-janitor-test-reports';

describe('SNS Publish, spoken to by the real SDK client (AWS query protocol)', () => {
  let emu: Emulator;
  let client: SNSClient;

  beforeAll(async () => {
    emu = await startEmulator({ deniedTopics: ['denied-topic'] });
    client = new SNSClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await emu.close();
  });
  beforeEach(() => {
    emu.resetStats();
    emu.setSnsFault(undefined);
  });

  const publish = (input: Partial<PublishCommandInput>) => client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hello', ...input }));
  const failure = (input: Partial<PublishCommandInput>) => publish(input).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);

  it('records subject, message, attributes and topic, and answers a MessageId', async () => {
    const out = await publish({
      Subject: 'OMS Task Janitor test: 1 deleted',
      Message: JSON.stringify({ default: 'line 1\nline 2', https: '{"version":"1.0"}' }),
      MessageStructure: 'json',
      MessageAttributes: { stage: { DataType: 'String', StringValue: 'test' }, outcome: { DataType: 'String', StringValue: 'changes' } },
    });
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(emu.stats.published).toEqual([
      {
        topicArn: TOPIC,
        subject: 'OMS Task Janitor test: 1 deleted',
        message: JSON.stringify({ default: 'line 1\nline 2', https: '{"version":"1.0"}' }),
        messageStructure: 'json',
        byProtocol: { default: 'line 1\nline 2', https: '{"version":"1.0"}' },
        attributes: { stage: { DataType: 'String', StringValue: 'test' }, outcome: { DataType: 'String', StringValue: 'changes' } },
        messageId: out.MessageId,
      },
    ]);
    expect(emu.stats.calls['sns-publish']).toBe(1);
  });

  it.each([
    ['a subject with a line break', { Subject: 'two\nlines' }, 'Invalid parameter: Subject'],
    ['a subject of 100 characters', { Subject: 'x'.repeat(100) }, 'Invalid parameter: Subject'],
    ['a subject that is not ASCII', { Subject: 'caf\u00e9' }, 'Invalid parameter: Subject'],
    ['a subject starting with a space', { Subject: ' x' }, 'Invalid parameter: Subject'],
    ['a message over 256 KiB', { Message: 'x'.repeat(256 * 1024 + 1) }, 'Invalid parameter: Message too long'],
    ['a JSON structure without default', { Message: '{"email":"x"}', MessageStructure: 'json' }, 'No default entry'],
    ['a topic that is not an ARN', { TopicArn: 'oms-task-janitor-test-reports' }, 'Invalid parameter: TopicArn'],
  ])('refuses %s (400 InvalidParameter), as SNS does, and records nothing', async (_what, input, message) => {
    const error = await failure(input);
    expect(error).toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect(error!.message).toContain(message);
    expect(emu.stats.published).toEqual([]);
  });

  it('accepts a subject of 99 printable ASCII characters', async () => {
    await publish({ Subject: `OMS ${'x'.repeat(95)}` });
    expect(emu.stats.published.map((m) => m.subject?.length)).toEqual([99]);
  });

  it('answers 403 AuthorizationError for a denied topic', async () => {
    const error = await failure({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:denied-topic' });
    expect(error).toMatchObject({ name: 'AuthorizationErrorException', $metadata: { httpStatusCode: 403 } });
    expect(error!.message).toContain('not authorized to perform: SNS:Publish');
    expect(emu.stats.published).toEqual([]);
  });

  it('an injected error answers every Publish; a hang answers none until the client gives up', async () => {
    emu.setSnsFault({ kind: 'error', status: 500, code: 'InternalError', message: 'emulated outage' });
    expect(await failure({})).toMatchObject({ name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } });
    emu.setSnsFault({ kind: 'hang' });
    const started = Date.now();
    const error = await client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'x' }), { abortSignal: AbortSignal.timeout(300) }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(emu.stats.calls['sns-publish']).toBe(2);
    expect(emu.stats.published).toEqual([]);
    emu.setSnsFault(undefined);
    await publish({});
    expect(emu.stats.published).toHaveLength(1);
  });
});
