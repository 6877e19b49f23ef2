/**
 * The partition, region and account of a Lambda function's own ARN (context.invokedFunctionArn). serverless.yml passes
 * names (a topic's, a bucket's) that the function completes with these: a `Ref` in the environment would make
 * `serverless invoke local` ask CloudFormation, and `${aws:accountId}` would need AWS credentials to package.
 */
const FUNCTION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/;

export interface FunctionHome {
  partition: string;
  region: string;
  account: string;
}

/** Undefined outside Lambda (no ARN, or not a function's). */
export function functionHome(invokedFunctionArn: string | undefined): FunctionHome | undefined {
  const match = FUNCTION_ARN.exec(invokedFunctionArn ?? '');
  if (!match) return undefined;
  return { partition: match[1]!, region: match[2]!, account: match[3]! };
}
