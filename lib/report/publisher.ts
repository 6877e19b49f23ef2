import type { SNSClient } from '@aws-sdk/client-sns';

type SnsSdk = typeof import('@aws-sdk/client-sns');
let sdk: Promise<SnsSdk> | undefined;

/**
 * The SDK module is loaded on the first report, not when this module is imported, exactly as the Secrets Manager
 * client is (lib/auth/secret-source.ts says why): cold import stays as it was, and a run that sends no report never
 * loads it. In the bundle this is a lazy `require` of the Lambda runtime's SDK (serverless.yml: @aws-sdk/* external).
 */
function loadSdk(): Promise<SnsSdk> {
  sdk ??= import('@aws-sdk/client-sns');
  return sdk;
}

let defaultClient: SNSClient | undefined;

/** Built on first use, then shared for the life of the process (warm invocations reuse its connections). */
export async function defaultSnsClient(): Promise<SNSClient> {
  const { SNSClient } = await loadSdk();
  defaultClient ??= new SNSClient({});
  return defaultClient;
}

export interface ReportMessage {
  topicArn: string;
  subject: string;
  /** The plain text: e-mail, SQS, Lambda and every protocol not named in `byProtocol`. */
  text: string;
  /** Messages for particular protocols (`https`: the Chatbot rendition). */
  byProtocol: Record<string, string>;
  /** String message attributes (stage, outcome). */
  attributes: Record<string, string>;
}

/** The Message parameter: one JSON document, `default` plus one entry per protocol (MessageStructure json). */
export function messageDocument(message: Pick<ReportMessage, 'text' | 'byProtocol'>): string {
  return JSON.stringify({ default: message.text, ...message.byProtocol });
}

/** Publishes the report; resolves to the SNS message id. `signal` ends it (the SDK sets no timeout of its own). */
export async function publishReport(client: Pick<SNSClient, 'send'>, message: ReportMessage, signal: AbortSignal): Promise<string> {
  const { PublishCommand } = await loadSdk();
  const command = new PublishCommand({
    TopicArn: message.topicArn,
    Subject: message.subject,
    Message: messageDocument(message),
    MessageStructure: 'json',
    MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
  });
  const answer = await client.send(command, { abortSignal: signal });
  return answer.MessageId ?? '';
}
