import { functionHome } from '../aws/function-arn.js';
import { InputError } from '../purge/request.js';

/**
 * When a run sends its report (the stage param `report`, in the function's environment as REPORT_MODE):
 * - `changes`: after a real run that deleted, failed, deferred or refused anything, or stopped a target;
 * - `always`: after every run that returns a summary, dry runs and clean runs included;
 * - `off`: never (the SNS client is not even loaded).
 */
export const REPORT_MODES = ['changes', 'always', 'off'] as const;
export type ReportMode = (typeof REPORT_MODES)[number];

export interface ReportSettings {
  mode: ReportMode;
  /** The topic: its name (the ARN is completed from the function's own ARN) or its full ARN. Empty when `off`. */
  topic: string;
}

// SNS topic names: 1..256 letters, digits, `_` and `-` (`.fifo` for FIFO topics, which need a group id: not ours).
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * REPORT_MODE and REPORT_TOPIC, checked once at cold start; a bad value is an InputError naming the variable (and
 * the stage param it comes from). REPORT_MODE unset means `off`: serverless.yml always sets it (the param's default
 * is `changes`), so only a handler run outside the deployment (tests, a bare `node`) goes without reports.
 */
export function parseReportSettings(env: Record<string, string | undefined>): ReportSettings {
  const modeText = (env.REPORT_MODE ?? '').trim();
  const mode = modeText === '' ? 'off' : modeText;
  if (!isReportMode(mode)) {
    throw new InputError('REPORT_MODE', `${JSON.stringify(modeText)} is not one of ${REPORT_MODES.join(', ')} (the stage param \`report\` in serverless.yml)`);
  }
  if (mode === 'off') return { mode, topic: '' };
  const topic = (env.REPORT_TOPIC ?? '').trim();
  if (topic === '') {
    throw new InputError('REPORT_TOPIC', `is not set: name the SNS topic for run reports (serverless.yml sets it), or set REPORT_MODE=off`);
  }
  if (!TOPIC_NAME.test(topic) && !TOPIC_ARN.test(topic)) {
    throw new InputError('REPORT_TOPIC', `${JSON.stringify(topic)} is neither an SNS topic name nor a topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
  }
  return { mode, topic };
}

function isReportMode(value: string): value is ReportMode {
  return (REPORT_MODES as readonly string[]).includes(value);
}

/**
 * The topic's ARN. A name is completed with the partition, region and account of the function's own ARN: the stack
 * creates the topic beside the function, and the name is what serverless.yml can pass without an AWS call (a `Ref`
 * in the environment would make `serverless invoke local` ask CloudFormation for it). Undefined when a name comes
 * without a function ARN (outside Lambda, where REPORT_TOPIC must then be the ARN).
 */
export function topicArnFor(topic: string, invokedFunctionArn: string | undefined): string | undefined {
  if (topic.startsWith('arn:')) return topic;
  const home = functionHome(invokedFunctionArn);
  if (!home) return undefined;
  return `arn:${home.partition}:sns:${home.region}:${home.account}:${topic}`;
}
