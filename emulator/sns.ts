import { randomUUID } from 'node:crypto';
import type { Exchange } from './http-util.js';
import { headerValue, send } from './http-util.js';
import type { PublishedMessage, SnsFault } from './types.js';

/**
 * Amazon SNS as @aws-sdk/client-sns speaks it: the AWS query protocol (a form-encoded POST to `/` with
 * `Action=Publish&Version=2010-03-31&…`, XML answers). Only Publish is served, with the checks SNS makes that a
 * janitor could fail: the subject's rules, the 256 KiB limit, a JSON message structure with a `default` entry.
 */
const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** SNS's limit for a message (attributes aside): 262,144 bytes. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:([A-Za-z0-9_-]{1,256})$/;
// "ASCII text that begins with a letter, number, or punctuation mark; must not include line breaks or control
// characters; and must be less than 100 characters long" (the Publish API reference).
const SUBJECT = /^[\x21-\x7e][\x20-\x7e]{0,98}$/;

/** True for a form-encoded POST to `/`: an AWS query call (Secrets Manager's JSON calls carry X-Amz-Target instead). */
export function isSnsRequest(ex: Exchange): boolean {
  const type = headerValue(ex.req, 'content-type') ?? '';
  return ex.req.method === 'POST' && ex.url.pathname === '/' && type.startsWith('application/x-www-form-urlencoded');
}

/** Topics that refuse Publish, the fault to inject, and every message accepted. */
export class SnsTopics {
  private readonly denied: Set<string>;
  fault: SnsFault | undefined;

  constructor(denied: readonly string[] = []) {
    this.denied = new Set(denied);
  }

  /** Denied by ARN or by topic name. */
  isDenied(topicArn: string, name: string): boolean {
    return this.denied.has(topicArn) || this.denied.has(name);
  }
}

function sendQueryError(ex: Exchange, status: number, code: string, message: string): void {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  const body = `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${ex.requestId}</RequestId></ErrorResponse>`;
  send(ex, status, body, 'text/xml', { 'x-amzn-RequestId': ex.requestId });
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue} into a map; undefined when malformed. */
function attributesOf(form: URLSearchParams): PublishedMessage['attributes'] | undefined {
  const out: PublishedMessage['attributes'] = {};
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const name = form.get(`MessageAttributes.entry.${n}.Name`) ?? '';
    const dataType = form.get(`MessageAttributes.entry.${n}.Value.DataType`) ?? '';
    const value = form.get(`MessageAttributes.entry.${n}.Value.StringValue`);
    if (name === '' || !/^(String|Number)(\..+)?$/.test(dataType) || value === null) return undefined;
    out[name] = { DataType: dataType, StringValue: value };
  }
  return out;
}

/**
 * Publish: the message is recorded in `published` and answered with a MessageId; a denied topic answers 403
 * AuthorizationError; the injected fault (an error answer, or no answer at all) comes first.
 */
export function handleSns(ex: Exchange, topics: SnsTopics, published: PublishedMessage[]): void {
  const fault = topics.fault;
  if (fault?.kind === 'hang') return; // never answered: the client's own deadline must end it
  if (fault?.kind === 'error') return sendQueryError(ex, fault.status, fault.code, fault.message);
  const form = new URLSearchParams(ex.body.toString('utf8'));
  const action = form.get('Action') ?? '';
  if (action !== 'Publish') return sendQueryError(ex, 400, 'InvalidAction', `The emulator does not implement ${action || 'this action'}.`);
  const topicArn = form.get('TopicArn') ?? '';
  const topic = TOPIC_ARN.exec(topicArn);
  if (!topic) return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: TopicArn');
  if (topics.isDenied(topicArn, topic[1] ?? '')) {
    return sendQueryError(ex, 403, 'AuthorizationError', `User: arn:aws:sts::123456789012:assumed-role/janitor is not authorized to perform: SNS:Publish on resource: ${topicArn}`);
  }
  const message = form.get('Message') ?? '';
  if (message === '') return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: Empty message');
  if (Buffer.byteLength(message, 'utf8') > MAX_MESSAGE_BYTES) return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: Message too long');
  const subject = form.get('Subject');
  if (subject !== null && !SUBJECT.test(subject)) return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: Subject');
  const structure = form.get('MessageStructure') ?? undefined;
  let byProtocol: Record<string, string> | undefined;
  if (structure === 'json') {
    try {
      byProtocol = JSON.parse(message) as Record<string, string>;
    } catch {
      return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
    }
    if (byProtocol === null || typeof byProtocol !== 'object' || typeof byProtocol.default !== 'string' || Object.values(byProtocol).some((v) => typeof v !== 'string')) {
      return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
    }
  } else if (structure !== undefined) {
    return sendQueryError(ex, 400, 'InvalidParameter', 'Invalid parameter: MessageStructure');
  }
  const attributes = attributesOf(form);
  if (!attributes) return sendQueryError(ex, 400, 'ParameterValueInvalid', 'The message attribute has an invalid name, type or value.');
  const messageId = randomUUID();
  published.push({ topicArn, ...(subject !== null ? { subject } : {}), message, ...(structure ? { messageStructure: structure } : {}), ...(byProtocol ? { byProtocol } : {}), attributes, messageId });
  const body = `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${ex.requestId}</RequestId></ResponseMetadata></PublishResponse>`;
  send(ex, 200, body, 'text/xml', { 'x-amzn-RequestId': ex.requestId });
}
