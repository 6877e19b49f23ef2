/**
 * `serverless package` for every stage, offline (no AWS credentials, no network): the CloudFormation template and the
 * zip that `serverless deploy` would upload, asserted as a reviewer would read them. The stages are packaged in
 * parallel, each in its own copy of the service (tests/deploy/sandbox.ts), once for the whole file.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PolicyError, parsePolicy } from '../../lib/policy/load.js';
import { PLACEHOLDER_ID, ROOT, type SlsResult, sandbox, serverless, withRealLookingIds } from './sandbox.js';
import { readZip } from './zip.js';

jest.setTimeout(180_000);

type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown>; Outputs?: Record<string, unknown> };
type Resource = { Type: string; Condition?: string; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: Record<string, any> };
interface Packaged {
  templateText: string;
  template: Template;
  zip: Map<string, Buffer>;
  zipBytes: number;
}

const STAGES = ['dev', 'staging', 'prod'] as const;
type Stage = (typeof STAGES)[number];
/** prod again, with the optional params set: the KMS policy and both e-mail subscriptions switch on, reports always, no fan-out. */
const KMS_KEY = 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const WITH_OPTIONS = 'prod+options';
/** prod (fanned out) with its fan-out numbers from the command line, where --param gives strings. */
const FAN_OUT = 'prod+fanOutParams';

/** heartbeatHours: hours in a row without a finished run before the no-runs alarm fires (only with the schedule on). */
const EXPECTED: Record<Stage, { schedule: string; enabled: boolean; memory: number; retentionDays: number; logLevel: string; heartbeatHours: number; fanOut: boolean }> = {
  dev: { schedule: 'rate(1 day)', enabled: false, memory: 256, retentionDays: 7, logLevel: 'DEBUG', heartbeatHours: 25, fanOut: false },
  staging: { schedule: 'cron(0 3 * * ? *)', enabled: true, memory: 256, retentionDays: 14, logLevel: 'INFO', heartbeatHours: 25, fanOut: false },
  prod: { schedule: 'cron(15 0/6 * * ? *)', enabled: true, memory: 512, retentionDays: 400, logLevel: 'INFO', heartbeatHours: 7, fanOut: true },
};

/**
 * A stage added the way serverless.yml's params comment says: a block with only the params that have no default.
 * Everything else comes from params.default.
 */
const NEW_STAGE = 'uat';
const NEW_STAGE_BLOCK = [`  ${NEW_STAGE}:`, `    secretName: oms-janitor/${NEW_STAGE}`, '    policyFile: policies/staging.yaml', '    heartbeatHours: 25'];

async function shippedPolicy(stage: Stage): Promise<string> {
  return readFile(join(ROOT, 'policies', `${stage}.yaml`), 'utf8');
}

const packaged = new Map<string, Packaged>();
const cleanups: (() => Promise<void>)[] = [];
/** `serverless package --stage qa`: a stage serverless.yml does not know. */
let unknownStage: SlsResult;

/**
 * Packages a stage in its own sandbox. Packaging checks the stage's policy and refuses placeholder project ids, so the
 * sandbox's policies get real-looking ids first (`asShipped` keeps them: the refusal has a test of its own).
 */
async function packageStage(stage: string, extra: string[] = [], editServerlessYml?: (text: string) => string): Promise<Packaged> {
  const service = await sandbox({ realLookingIds: true });
  cleanups.push(service.remove);
  if (editServerlessYml) {
    const file = join(service.dir, 'serverless.yml');
    await writeFile(file, editServerlessYml(await readFile(file, 'utf8')));
  }
  const out = join(service.dir, 'artifact');
  const run = await serverless(service.dir, ['package', '--stage', stage, '--package', out, ...extra]);
  if (run.code !== 0) throw new Error(`serverless package --stage ${stage} exited ${run.code}\n${run.stdout}\n${run.stderr}`);
  const templateText = await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8');
  const zipBuffer = await readFile(join(out, 'purge.zip'));
  return { templateText, template: JSON.parse(templateText) as Template, zip: readZip(zipBuffer), zipBytes: zipBuffer.length };
}

async function packageUnknownStage(): Promise<SlsResult> {
  const service = await sandbox();
  cleanups.push(service.remove);
  return serverless(service.dir, ['package', '--stage', 'qa', '--package', join(service.dir, 'artifact')]);
}

beforeAll(async () => {
  const runs: [string, Promise<Packaged>][] = [
    ...STAGES.map((stage): [string, Promise<Packaged>] => [stage, packageStage(stage)]),
    // scheduleEnabled from the command line is the string 'true' (docs/operations.md switches dev's schedule on so).
    [
      WITH_OPTIONS,
      packageStage('prod', [`--param=kmsKeyArn=${KMS_KEY}`, '--param=alarmEmail=ops@example.com', '--param=scheduleEnabled=true', '--param=reportEmail=reports@example.com', '--param=report=always', '--param=archive=false', '--param=archiveDays=30', '--param=fanOut=false']),
    ],
    [NEW_STAGE, packageStage(NEW_STAGE, [], addNewStageBlock)],
    [FAN_OUT, packageStage('prod', ['--param=fanOutConcurrency=5', '--param=maxRounds=3'])],
  ];
  // All at once, and all awaited together: a rejection is reported as soon as it happens, never left unhandled
  // while an earlier run is still being awaited.
  const [results, qa] = await Promise.all([Promise.all(runs.map(([, run]) => run)), packageUnknownStage()]);
  runs.forEach(([name], i) => packaged.set(name, results[i]!));
  unknownStage = qa;
});

afterAll(async () => {
  await Promise.all(cleanups.map((remove) => remove()));
});

/** serverless.yml with NEW_STAGE's block added as the first stage of `params`, right after `default`. */
function addNewStageBlock(text: string): string {
  const at = text.indexOf('\n  dev:\n');
  if (at < 0) throw new Error('serverless.yml: no `  dev:` block under params');
  return `${text.slice(0, at)}\n${NEW_STAGE_BLOCK.join('\n')}${text.slice(at)}`;
}

function get(name: string): Packaged {
  const p = packaged.get(name);
  if (!p) throw new Error(`${name} was not packaged`);
  return p;
}

/** The one resource of a type (or the one with that logical id). */
function resource(t: Template, typeOrId: string): Resource {
  if (t.Resources[typeOrId]) return t.Resources[typeOrId]!;
  const found = Object.values(t.Resources).filter((r) => r.Type === typeOrId);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const sub = (text: string) => ({ 'Fn::Sub': text });
const logGroupArn = (stage: string, tail: string) =>
  sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/oms-task-janitor-${stage}*${tail}`);

/** Every statement of the function's role, exactly: an added action, resource or `*` fails here. */
function expectedRoleStatements(stage: string) {
  return [
    // The framework's logging statements, scoped to this function's log group.
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource'], Resource: [logGroupArn(stage, ':*')] },
    { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: [logGroupArn(stage, ':*:*')] },
    // Ours: read this stage's secret and the secrets under its name (other accounts' targets), nothing else (Secrets
    // Manager appends -XXXXXX to the name in the ARN).
    {
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [
        sub(`arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:oms-janitor/${stage}-??????`),
        sub(`arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:oms-janitor/${stage}/*`),
      ],
    },
    // The run report: publish to this stage's report topic, and only that.
    { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'ReportTopic' } },
    // The archive: objects of this stage's bucket written and read, the bucket listed; no delete, no settings.
    { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: sub(`arn:\${AWS::Partition}:s3:::${archiveBucket(stage)}/*`) },
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: sub(`arn:\${AWS::Partition}:s3:::${archiveBucket(stage)}`) },
  ];
}

/** The stage's archive bucket name, as CloudFormation substitutes it. */
const archiveBucket = (stage: string) => `oms-task-janitor-${stage}-archive-\${AWS::AccountId}-\${AWS::Region}`;

describe.each(STAGES)('stage %s', (stage) => {
  const expected = EXPECTED[stage];

  test('the function: runtime, arm64, bundle handler, one run at a time (fanOutConcurrency with fan-out), timeout, memory, no retries', () => {
    const t = get(stage).template;
    const fn = resource(t, 'AWS::Lambda::Function').Properties;
    expect(fn).toMatchObject({
      FunctionName: `oms-task-janitor-${stage}-purge`,
      Handler: 'functions/purge.handler', // Lambda's Node.js runtime finds functions/purge.cjs for it
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: expected.fanOut ? 10 : 1,
      Timeout: 900,
      MemorySize: expected.memory,
      Role: { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] },
    });
    expect(resource(t, 'AWS::Lambda::EventInvokeConfig').Properties).toMatchObject({
      FunctionName: { Ref: 'PurgeLambdaFunction' },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
    });
  });

  test('the environment: secret id, policy file inside the artifact, stage, cache, Powertools, report mode and topic', () => {
    const fn = resource(get(stage).template, 'AWS::Lambda::Function').Properties;
    expect(fn.Environment.Variables).toEqual({
      STAGE: stage,
      OMS_CREDENTIALS_SECRET_ID: `oms-janitor/${stage}`,
      POLICY_FILE: `policies/${stage}.yaml`,
      SECRET_CACHE_SECONDS: '300',
      POWERTOOLS_SERVICE_NAME: 'oms-task-janitor',
      POWERTOOLS_METRICS_NAMESPACE: 'OmsTaskJanitor',
      POWERTOOLS_LOG_LEVEL: expected.logLevel,
      NODE_OPTIONS: `--max-old-space-size=${stage === 'prod' ? 256 : 128} --max-semi-space-size=4 --expose-gc`,
      OMS_JANITOR_ALLOWED_HOSTS: '', // no host beyond loopback and Huawei Cloud's API domains unless a stage says so
      REPORT_MODE: 'changes', // the stage param `report`, default changes
      REPORT_TOPIC: `oms-task-janitor-${stage}-reports`, // a name, completed into an ARN from the function's own
      // The stage's bucket; {account} and {region} are completed from the function's ARN, like the topic.
      ARCHIVE_ROOT: `s3://oms-task-janitor-${stage}-archive-{account}-{region}`,
      NOTICE_WINDOW: '0', // the stage param `notice`: off unless a stage sets a duration
      MAX_ROUNDS: '20', // a fanned-out target's rounds, at most (the fan-out lock's lease)
      FAN_OUT_CONCURRENCY: '10', // targets at once in a fanned-out execution
    });
  });

  test('the archive bucket: versioned, encrypted, never public, TLS only, expiring after archiveDays, kept with the stack gone', () => {
    const t = get(stage).template;
    const bucket = resource(t, 'ArchiveBucket');
    expect(bucket).toMatchObject({ Condition: 'ArchiveOn', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(t.Conditions?.ArchiveOn).toEqual({ 'Fn::Equals': ['archive-true', 'archive-true'] });
    const p = bucket.Properties;
    // The name ARCHIVE_ROOT gives, once {account} and {region} are completed; within S3's 63 characters.
    expect(p.BucketName).toEqual(sub(archiveBucket(stage)));
    expect(`oms-task-janitor-${stage}-archive-123456789012-ap-southeast-1`.length).toBeLessThanOrEqual(63);
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { 'Fn::If': ['HasKmsKey', { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: '' }, BucketKeyEnabled: true }, { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    ]);
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(p.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(p.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-archived-runs', Status: 'Enabled', ExpirationInDays: 400, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    const policy = resource(t, 'ArchiveBucketPolicy');
    expect(policy.Condition).toBe('ArchiveOn');
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'TlsOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['ArchiveBucket', 'Arn'] }, sub('${ArchiveBucket.Arn}/*')],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  test('the schedule: expression, enabled state, and the input that marks the run as scheduled', () => {
    const t = get(stage).template;
    const rule = resource(t, 'PurgeEventsRuleSchedule1').Properties;
    expect(rule.ScheduleExpression).toBe(expected.schedule);
    // With fan-out the schedule starts the state machine (FanOutSchedule), and the function's own rule is off.
    expect(rule.State).toBe(expected.enabled && !expected.fanOut ? 'ENABLED' : 'DISABLED');
    if (expected.fanOut) expect(resource(t, 'FanOutSchedule').Properties).toMatchObject({ ScheduleExpression: expected.schedule, State: expected.enabled ? 'ENABLED' : 'DISABLED', Targets: [{ Input: '{"scheduled": true}' }] });
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['PurgeLambdaFunction', 'Arn'] });
    expect(JSON.parse(rule.Targets[0].Input)).toEqual({ scheduled: true });
    expect(resource(t, 'AWS::Lambda::Permission').Properties).toMatchObject({ Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' });
  });

  test('logs: the log group keeps the stage retention, and outlives the stack (remove, replacement)', () => {
    const logGroup = resource(get(stage).template, 'AWS::Logs::LogGroup');
    expect(logGroup.Properties).toEqual({
      LogGroupName: `/aws/lambda/oms-task-janitor-${stage}-purge`,
      RetentionInDays: expected.retentionDays,
    });
    // serverless.yml's resources.extensions.PurgeLogGroup: the framework's own log group, not a second one.
    expect(get(stage).template.Resources.PurgeLogGroup).toBe(logGroup);
    expect(logGroup).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('least privilege: the role allows exactly logging and this stage\'s secret; KMS only under its condition', () => {
    const t = get(stage).template;
    const role = resource(t, 'IamRoleLambdaExecution');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toHaveLength(1);
    expect(role.Properties.Policies[0].PolicyDocument.Statement).toEqual(expectedRoleStatements(stage));
    // No kmsKeyArn param: the KMS policy is in the template but its condition is false ('' equals '').
    expect(resource(t, 'KmsDecryptPolicy').Condition).toBe('HasKmsKey');
    expect(t.Conditions?.HasKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });

  test('alarms: function errors, failed deletions, targets not cleaned, and no runs when scheduled; all to the stage topic', () => {
    const t = get(stage).template;
    expect(resource(t, 'AlarmTopic').Properties.TopicName).toBe(`oms-task-janitor-${stage}-alarms`);
    expect(resource(t, 'AlarmEmailSubscription').Condition).toBe('HasAlarmEmail');
    expect(t.Conditions?.HasAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });

    const alarmResources = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const alarms = alarmResources.map((r) => r.Properties);
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual(
      ['archive-failed', 'fan-out-failed', 'function-errors', 'no-runs', 'reports-failed', 'targets-not-cleaned', 'tasks-failed'].map((name) => `oms-task-janitor-${stage}-${name}`),
    );
    // The fan-out alarm exists only with fan-out on (its state machine's condition).
    expect(alarmResources.find((r) => r.Properties.AlarmName.endsWith('-fan-out-failed'))!.Condition).toBe('FanOutOn');
    for (const alarm of alarms) expect(alarm).toMatchObject({ AlarmActions: [{ Ref: 'AlarmTopic' }], OKActions: [{ Ref: 'AlarmTopic' }], Threshold: 1 });
    const byName = (suffix: string) => alarms.find((a) => a.AlarmName.endsWith(suffix))!;

    // Failure alarms: an hour without a run keeps the state ('ignore'), so a fired alarm stays in ALARM until a run
    // publishes 0 (every run publishes TasksFailed, TargetsStopped, TargetsRefused; Lambda publishes Errors).
    for (const suffix of ['function-errors', 'tasks-failed', 'targets-not-cleaned', 'reports-failed', 'archive-failed']) {
      expect(byName(suffix)).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'ignore' });
    }
    expect(byName('function-errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'PurgeLambdaFunction' } }],
      Statistic: 'Sum',
      Period: 3600,
    });
    // The dimensions Powertools puts on every metric of functions/purge.ts (tests/deploy/invoke-local.test.ts reads
    // them from the real EMF output): service and stage, nothing more.
    const dimensions = [{ Name: 'service', Value: 'oms-task-janitor' }, { Name: 'stage', Value: stage }];
    // Failures of every kind: the sum of the three Failed metrics that every run publishes.
    const failed = byName('tasks-failed').Metrics as { Id: string; Expression?: string; ReturnData: boolean; MetricStat?: { Metric: Record<string, unknown>; Period: number; Stat: string } }[];
    expect(failed.filter((m) => m.MetricStat).map((m) => m.MetricStat)).toEqual(
      ['TasksFailed', 'TaskGroupsFailed', 'SyncTasksFailed'].map((name) => ({ Metric: { Namespace: 'OmsTaskJanitor', MetricName: name, Dimensions: dimensions }, Period: 3600, Stat: 'Sum' })),
    );
    expect(failed.filter((m) => m.ReturnData)).toEqual([expect.objectContaining({ Id: 'failed', Expression: 'tasks + groups + sync' })]);
    const metrics = byName('targets-not-cleaned').Metrics as { Id: string; Expression?: string; ReturnData: boolean; MetricStat?: { Metric: Record<string, unknown>; Period: number; Stat: string } }[];
    expect(metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat)).toEqual([
      { Metric: { Namespace: 'OmsTaskJanitor', MetricName: 'TargetsStopped', Dimensions: dimensions }, Period: 3600, Stat: 'Sum' },
      { Metric: { Namespace: 'OmsTaskJanitor', MetricName: 'TargetsRefused', Dimensions: dimensions }, Period: 3600, Stat: 'Sum' },
    ]);
    // No FILL(…, 0): a filled 0 in an hour without a run would clear the alarm by itself.
    expect(metrics.filter((m) => m.ReturnData)).toEqual([expect.objectContaining({ Id: 'notCleaned', Expression: 'stopped + refused' })]);
    // A report that could not be sent (every run publishes ReportsFailed, 0 included).
    expect(byName('reports-failed')).toMatchObject({ Namespace: 'OmsTaskJanitor', MetricName: 'ReportsFailed', Dimensions: dimensions, Statistic: 'Sum', Period: 3600 });
    // An archive that could not be written (every run publishes ArchiveFailed, 0 included; a failed plan publishes 1).
    expect(byName('archive-failed')).toMatchObject({ Namespace: 'OmsTaskJanitor', MetricName: 'ArchiveFailed', Dimensions: dimensions, Statistic: 'Sum', Period: 3600 });

    // The heartbeat: RunDuration (one sample per finished run) missing for heartbeatHours hours in a row. Hourly
    // periods keep Period x EvaluationPeriods within CloudWatch's 7 days; a missing hour counts as breaching.
    const noRuns = alarmResources.find((r) => r.Properties.AlarmName.endsWith('-no-runs'))!;
    expect(noRuns.Condition).toBe('ScheduleEnabled');
    expect(noRuns.Properties).toMatchObject({
      Namespace: 'OmsTaskJanitor',
      MetricName: 'RunDuration',
      Dimensions: dimensions,
      Statistic: 'SampleCount',
      Period: 3600,
      EvaluationPeriods: expected.heartbeatHours,
      DatapointsToAlarm: expected.heartbeatHours,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(noRuns.Properties.Period * noRuns.Properties.EvaluationPeriods).toBeLessThanOrEqual(7 * 24 * 3600);
    // Created only when the schedule is on: dev (schedule disabled) gets no heartbeat alarm.
    const enabled = `schedule-${expected.enabled}`;
    expect(t.Conditions?.ScheduleEnabled).toEqual({ 'Fn::Equals': [enabled, 'schedule-true'] });
  });

  test('the artifact: the .cjs bundle and this stage\'s policy only, which the real loader accepts once its project ids are real', async () => {
    const { zip, zipBytes } = get(stage);
    expect([...zip.keys()].sort()).toEqual(['functions/purge.cjs', `policies/${stage}.yaml`]);
    const shipped = zip.get(`policies/${stage}.yaml`)!.toString('utf8');
    // The file as packaged: the shipped one, its placeholders (if still there) given real-looking ids, as a team does
    // before it deploys (packaging refuses placeholders); everything else in the file must be valid as shipped.
    expect(shipped).toBe(withRealLookingIds(await shippedPolicy(stage)));
    const policy = parsePolicy(shipped, `policies/${stage}.yaml`);
    expect(policy.dryRun).toBe(stage === 'dev');
    // Budget from issue 4: bench/bundle-size.ts measures it together with the cold import time.
    expect(zipBytes).toBeLessThan(300 * 1024);
  });

  test('the shipped policy as it is: placeholder project ids are refused, each named; real ids load', async () => {
    const shipped = await shippedPolicy(stage);
    const placeholders = new Set(shipped.match(PLACEHOLDER_ID) ?? []);
    if (placeholders.size === 0) {
      // Real ids filled in (a team's own fork): the file loads as it is.
      expect(() => parsePolicy(shipped, `policies/${stage}.yaml`)).not.toThrow();
      return;
    }
    // Which targets hold a placeholder, read from the same file with real-looking ids in their place.
    const replaced = new Set([...placeholders].map((id) => withRealLookingIds(id)));
    const targets = parsePolicy(withRealLookingIds(shipped), `policies/${stage}.yaml`).targets;
    const expectedPaths = targets.flatMap((t, i) => (replaced.has(t.projectId) ? [`targets[${i}].projectId`] : []));
    expect(expectedPaths.length).toBeGreaterThan(0);

    let error: unknown;
    try {
      parsePolicy(shipped, `policies/${stage}.yaml`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const issues = (error as PolicyError).issues;
    expect(issues.map((issue) => issue.path)).toEqual(expectedPaths);
    for (const issue of issues) expect(issue.message).toMatch(/placeholder/);
    expect((error as PolicyError).message).toContain(`${expectedPaths[0]}: `);
    expect((error as PolicyError).message).toContain('looks like a placeholder');
  });

  test('the bundle is CommonJS with only Node built-ins and the runtime\'s AWS SDK left as requires', () => {
    const bundle = get(stage).zip.get('functions/purge.cjs')!.toString('utf8');
    expect(bundle).not.toMatch(/^\s*(import|export)\s/m);
    const required = new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
    const notBuiltIn = [...required].filter((name) => !name.startsWith('node:') && !['process', 'buffer', 'util', 'crypto', 'fs', 'os', 'path', 'stream', 'http', 'https', 'url', 'zlib', 'events', 'child_process', 'net', 'tls'].includes(name));
    // Each loaded lazily, on the first secret read, the first report and the first archive write (never at cold import).
    expect(notBuiltIn.sort()).toEqual(['@aws-sdk/client-s3', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sns']);
  });

  test('the run report: a topic of its own (not the alarm topic), sns:Publish on it alone, its name in the environment', () => {
    const t = get(stage).template;
    const topics = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
    expect(topics.map(([id]) => id).sort()).toEqual(['AlarmTopic', 'ReportTopic']);
    const report = resource(t, 'ReportTopic');
    expect(report).toEqual({ Type: 'AWS::SNS::Topic', Properties: { TopicName: `oms-task-janitor-${stage}-reports`, DisplayName: `OMS Task Janitor reports (${stage})` } });
    // The function completes this name into the topic's ARN: it must be the name of exactly this topic.
    expect(resource(t, 'AWS::Lambda::Function').Properties.Environment.Variables.REPORT_TOPIC).toBe(report.Properties.TopicName);
    // The one SNS permission of the role: Publish on the report topic (the statements are asserted whole above).
    const statements = resource(t, 'IamRoleLambdaExecution').Properties.Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];
    expect(statements.filter((st) => st.Action.some((a) => a.startsWith('sns:')))).toEqual([{ Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'ReportTopic' } }]);
    // No alarm notifies the report topic, and the e-mail subscription exists only with reportEmail.
    expect(JSON.stringify(Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm'))).not.toContain('ReportTopic');
    expect(resource(t, 'ReportEmailSubscription')).toMatchObject({ Condition: 'HasReportEmail', Properties: { TopicArn: { Ref: 'ReportTopic' }, Protocol: 'email' } });
    expect(t.Conditions?.HasReportEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(t.Outputs?.ReportTopicArn).toMatchObject({ Value: { Ref: 'ReportTopic' } });
  });

  test('the template is fully resolved: no framework variables, no AWS account id, no ${aws:...}', () => {
    const text = get(stage).templateText;
    expect(text).not.toMatch(/\$\{(aws|param|sls|self|opt|env|file):/);
    expect(text).not.toMatch(/(?<![\d.])\d{12}(?![\d.])/); // account ids are 12 digits; ARNs use ${AWS::AccountId}
    expect(text).toContain('${AWS::AccountId}');
  });
});

describe('prod with kmsKeyArn, alarmEmail, reportEmail and report params', () => {
  test('kms:Decrypt on that key only, only through Secrets Manager, attached to the function role', () => {
    const t = get(WITH_OPTIONS).template;
    expect(t.Conditions?.HasKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [KMS_KEY, ''] }] });
    const kms = resource(t, 'KmsDecryptPolicy');
    expect(kms).toMatchObject({ Type: 'AWS::IAM::Policy', Condition: 'HasKmsKey' });
    expect(kms.Properties.Roles).toEqual([{ Ref: 'IamRoleLambdaExecution' }]);
    expect(kms.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: KMS_KEY,
        Condition: { StringEquals: { 'kms:ViaService': sub('secretsmanager.${AWS::Region}.amazonaws.com') } },
      },
      // The archive bucket, encrypted with the same key: data keys for writes, decrypt for reads, through S3 only.
      {
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: KMS_KEY,
        Condition: { StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') } },
      },
    ]);
    // The archive bucket uses the stage's key.
    expect(resource(t, 'ArchiveBucket').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]['Fn::If'][1].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY });
    // The role itself is unchanged.
    expect(resource(t, 'IamRoleLambdaExecution').Properties.Policies[0].PolicyDocument.Statement).toEqual(expectedRoleStatements('prod'));
  });

  test('archive=false: no bucket (its condition is false) and no ARCHIVE_ROOT; archiveDays reaches the lifecycle rule', () => {
    const t = get(WITH_OPTIONS).template;
    expect(t.Conditions?.ArchiveOn).toEqual({ 'Fn::Equals': ['archive-false', 'archive-true'] });
    expect(resource(t, 'ArchiveBucket').Condition).toBe('ArchiveOn');
    expect(resource(t, 'AWS::Lambda::Function').Properties.Environment.Variables.ARCHIVE_ROOT).toBe('');
    // From --param a string, which CloudFormation reads as the integer it spells.
    expect(Number(resource(t, 'ArchiveBucket').Properties.LifecycleConfiguration.Rules[0].ExpirationInDays)).toBe(30);
  });

  test('the e-mail subscription is switched on', () => {
    const t = get(WITH_OPTIONS).template;
    expect(t.Conditions?.HasAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['ops@example.com', ''] }] });
    expect(resource(t, 'AlarmEmailSubscription').Properties).toEqual({ TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('reportEmail subscribes to the report topic; report=always reaches the environment', () => {
    const t = get(WITH_OPTIONS).template;
    expect(t.Conditions?.HasReportEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['reports@example.com', ''] }] });
    expect(resource(t, 'ReportEmailSubscription').Properties).toEqual({ TopicArn: { Ref: 'ReportTopic' }, Protocol: 'email', Endpoint: 'reports@example.com' });
    expect(resource(t, 'AWS::Lambda::Function').Properties.Environment.Variables).toMatchObject({ REPORT_MODE: 'always', REPORT_TOPIC: 'oms-task-janitor-prod-reports' });
  });
});

test('prod keeps its logs for an audit: more than a year, in a retention CloudWatch accepts', () => {
  const days = resource(get('prod').template, 'AWS::Logs::LogGroup').Properties.RetentionInDays as number;
  expect(days).toBe(400);
  expect(days).toBeGreaterThan(365);
  // PutRetentionPolicy accepts only these (osls validates logRetentionInDays against the same list).
  expect([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]).toContain(days);
});

test('a new stage block with only secretName, policyFile and heartbeatHours inherits everything else from params.default', () => {
  const t = get(NEW_STAGE).template;
  const fn = resource(t, 'AWS::Lambda::Function').Properties;
  expect(fn).toMatchObject({ FunctionName: `oms-task-janitor-${NEW_STAGE}-purge`, MemorySize: 256, ReservedConcurrentExecutions: 1, Timeout: 900 });
  expect(fn.Environment.Variables).toMatchObject({
    STAGE: NEW_STAGE,
    OMS_CREDENTIALS_SECRET_ID: `oms-janitor/${NEW_STAGE}`,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    REPORT_MODE: 'changes',
    REPORT_TOPIC: `oms-task-janitor-${NEW_STAGE}-reports`,
  });
  expect(resource(t, 'AWS::Logs::LogGroup')).toMatchObject({ DeletionPolicy: 'Retain', Properties: { RetentionInDays: 30 } });
  // The default schedule, switched off: the stage runs only when invoked until its block says scheduleEnabled: true,
  // and without a schedule there is no no-runs alarm (its condition is false).
  const rule = resource(t, 'PurgeEventsRuleSchedule1').Properties;
  expect(rule).toMatchObject({ ScheduleExpression: 'cron(0 3 * * ? *)', State: 'DISABLED' });
  expect(t.Conditions?.ScheduleEnabled).toEqual({ 'Fn::Equals': ['schedule-false', 'schedule-true'] });
  expect(t.Conditions?.HasAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  expect(t.Conditions?.HasKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
});

test('every stage protects at least what prod protects (names, ids, group tasks)', async () => {
  const policyOf = async (stage: Stage) => parsePolicy(withRealLookingIds(await shippedPolicy(stage)), `policies/${stage}.yaml`);
  const prod = (await policyOf('prod')).protect;
  for (const stage of STAGES) {
    const protect = (await policyOf(stage)).protect;
    expect({ stage, names: protect.names }).toEqual({ stage, names: expect.arrayContaining(prod.names) });
    expect({ stage, taskIds: protect.taskIds }).toEqual({ stage, taskIds: expect.arrayContaining(prod.taskIds) });
    if (prod.groupTasks) expect({ stage, groupTasks: protect.groupTasks }).toEqual({ stage, groupTasks: true });
  }
});

test('a stage whose policy still holds placeholder project ids does not package: each placeholder is named, with its line', async () => {
  const shipped = await shippedPolicy('prod');
  const placeholders = [...new Set(shipped.match(PLACEHOLDER_ID) ?? [])];
  const service = await sandbox();
  cleanups.push(service.remove);
  if (placeholders.length === 0) {
    // Real ids are in (a team that forked this): make one a placeholder again, so the check is still exercised.
    const file = join(service.dir, 'policies', 'prod.yaml');
    await writeFile(file, shipped.replace(/projectId: *[0-9a-fA-F]{32}/, 'projectId: 00000000000000000000000000000de1'));
  }
  const run = await serverless(service.dir, ['package', '--stage', 'prod', '--package', join(service.dir, 'artifact')]);
  expect(run.code).not.toBe(0);
  expect(run.stdout + run.stderr).toMatch(/The stage's policy cannot run: invalid policy .*prod\.yaml/);
  expect(run.stdout + run.stderr).toMatch(/targets\[0\]\.projectId: .*looks like a placeholder .*\(line \d+\)/);
});

test('packaging judges the policy in the environment the function will have: loopback and a secret outside the stage prefix are refused', async () => {
  const service = await sandbox({ realLookingIds: true });
  cleanups.push(service.remove);
  const file = join(service.dir, 'policies', 'prod.yaml');
  const shipped = await readFile(file, 'utf8');
  // Inside Lambda loopback is the sandbox, never the emulator (the packaging machine's environment does not matter).
  await writeFile(file, shipped.replace(/(region: cn-north-4 +#[^\n]*)/, '$1\n    endpoint: http://127.0.0.1:8790'));
  const loopback = await serverless(service.dir, ['package', '--stage', 'prod', '--package', join(service.dir, 'a1')]);
  expect(loopback.code).not.toBe(0);
  expect(loopback.stdout + loopback.stderr).toMatch(/targets\[0\]\.endpoint: host "127\.0\.0\.1" is loopback, and inside AWS Lambda/);
  // A target's own secret must be under the stage's secret name, as the function checks at cold start.
  await writeFile(file, shipped.replace(/(region: cn-north-4 +#[^\n]*)/, '$1\n    credentials: { secretId: oms-janitor/staging/other }'));
  const secret = await serverless(service.dir, ['package', '--stage', 'prod', '--package', join(service.dir, 'a2')]);
  expect(secret.code).not.toBe(0);
  expect(secret.stdout + secret.stderr).toMatch(/targets\[0\]\.credentials\.secretId: "oms-janitor\/staging\/other" is not under this stage's prefix/);
});

test('an unknown stage does not package: the params without a default are named', () => {
  expect(unknownStage.code).not.toBe(0);
  const output = `${unknownStage.stdout}\n${unknownStage.stderr}`;
  for (const param of ['secretName', 'policyFile', 'heartbeatHours']) {
    expect(output).toContain(`Cannot resolve variable at "custom.requiredStageParams.${param}": Value not found at "param" source`);
  }
});

test('--param="scheduleEnabled=true" (a string) enables the schedule and the heartbeat like the YAML boolean', () => {
  const t = get(WITH_OPTIONS).template;
  expect(resource(t, 'PurgeEventsRuleSchedule1').Properties.State).toBe('ENABLED');
  // The condition compares prefixed strings, so 'true' from the command line and true from serverless.yml agree.
  expect(t.Conditions?.ScheduleEnabled).toEqual({ 'Fn::Equals': ['schedule-true', 'schedule-true'] });
  // --param="fanOut=false" (a string) switches prod's fan-out off like the YAML boolean.
  expect(t.Conditions?.FanOutOn).toEqual({ 'Fn::Equals': ['fanout-false', 'fanout-true'] });
  expect(resource(t, 'AWS::Lambda::Function').Properties.ReservedConcurrentExecutions).toBe(1);
});

test('no IAM statement anywhere in any template grants a * action', () => {
  for (const [name, { template }] of packaged) {
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Type !== 'AWS::IAM::Role' && r.Type !== 'AWS::IAM::Policy') continue;
      const documents = r.Type === 'AWS::IAM::Role' ? (r.Properties.Policies as { PolicyDocument: any }[]).map((p) => p.PolicyDocument) : [r.Properties.PolicyDocument];
      for (const statement of documents.flatMap((d) => d.Statement as { Action: string | string[] }[])) {
        for (const action of [statement.Action].flat()) expect(`${name} ${id} ${action}`).not.toMatch(/\*/);
      }
    }
  }
});

test('the dashboard: one per stage, every widget in this stage and region, naming only metrics the handler writes', async () => {
  const t = get('prod').template;
  const dashboard = resource(t, 'AWS::CloudWatch::Dashboard');
  expect(dashboard.Properties.DashboardName).toBe('oms-task-janitor-prod');
  const body = JSON.parse((dashboard.Properties.DashboardBody['Fn::Sub'] as string).replaceAll('${AWS::Region}', 'ap-southeast-1')) as {
    widgets: { properties: { region: string; metrics: unknown[][] } }[];
  };
  const named = new Set<string>();
  for (const widget of body.widgets) {
    expect(widget.properties.region).toBe('ap-southeast-1');
    for (const m of widget.properties.metrics) {
      expect(m.slice(0, 1).concat(m.slice(2, 6))).toEqual(['OmsTaskJanitor', 'service', 'oms-task-janitor', 'stage', 'prod']);
      named.add(m[1] as string);
    }
  }
  // The EMF the real handler writes on a real run (against the emulator), every metric of the run included.
  const { startEmulator } = await import('../../emulator/index.js');
  const emu = await startEmulator({ tokens: ['t0k3n-dashboard'], secrets: { 'oms-janitor/prod': JSON.stringify({ type: 'token', token: 't0k3n-dashboard' }) }, projects: { p1: [] } });
  const saved = { ...process.env };
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => out.push(String(chunk)) > 0) as never);
  try {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'janitor-dashboard-'));
    await writeFile(join(dir, 'policy.yaml'), `version: 1\ntargets:\n  - { name: main, projectId: ${'2c0689c860ad4728a497c91ec0844383'}, region: cn-north-4, endpoint: "${emu.url}" }\nrules: [{ name: r, statuses: [failed], olderThan: 30d }]\n`);
    Object.assign(process.env, { POLICY_FILE: join(dir, 'policy.yaml'), STAGE: 'prod', OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod', AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', REPORT_MODE: 'off' });
    const { handler } = (await import('../../functions/purge.js')) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
    await handler({ dryRun: false }, { awsRequestId: 'dash-1', functionName: 'oms-task-janitor-prod-purge', getRemainingTimeInMillis: () => 600_000 });
  } finally {
    spy.mockRestore();
    process.env = saved;
    await emu.close();
  }
  const emf = out.join('').split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } });
  const written = new Set(emf.flatMap((e) => e._aws.CloudWatchMetrics.flatMap((c) => c.Metrics.map((m) => m.Name))));
  // With exactly the dimensions the dashboard names: service and stage.
  for (const e of emf) for (const c of e._aws.CloudWatchMetrics as unknown as { Dimensions: string[][] }[]) expect(c.Dimensions.map((d) => [...d].sort())).toEqual([['service', 'stage']]);
  expect(written.size).toBeGreaterThan(10);
  expect([...named].filter((name) => !written.has(name))).toEqual([]);
  // And it shows what the issue asks for: deletions per kind, failures, deferred and refused, duration, retries and
  // throttles, report and archive failures, the pending notice.
  for (const name of ['TasksDeleted', 'TaskGroupsDeleted', 'SyncTasksDeleted', 'TasksFailed', 'TasksDeferred', 'TaskGroupsDeferred', 'SyncTasksDeferred', 'TargetsRefused', 'RunDuration', 'HttpRetries', 'Throttled', 'ReportsFailed', 'ArchiveFailed', 'NoticePending']) {
    expect(named.has(name)).toBe(true);
  }
});

describe('fan-out on Step Functions (on for prod)', () => {
  const FUNCTION_ARN = 'arn:aws:lambda:ap-southeast-1:123456789012:function:oms-task-janitor-prod-purge';

  test('off by default: no state machine, one run at a time, the function scheduled itself', () => {
    const t = get('staging').template;
    expect(t.Conditions?.FanOutOn).toEqual({ 'Fn::Equals': ['fanout-false', 'fanout-true'] });
    expect(resource(t, 'PurgeStateMachine').Condition).toBe('FanOutOn');
    expect(resource(t, 'AWS::Lambda::Function').Properties.ReservedConcurrentExecutions).toBe(1);
    expect(resource(t, 'PurgeEventsRuleSchedule1').Properties.State).toBe('ENABLED');
  });

  test('the fan-out numbers from --param (strings) reach the function as numbers it checks, and the definition carries none', () => {
    const t = get(FAN_OUT).template;
    const fn = resource(t, 'AWS::Lambda::Function').Properties;
    expect(fn.Environment.Variables).toMatchObject({ FAN_OUT_CONCURRENCY: '5', MAX_ROUNDS: '3' });
    expect(Number(fn.ReservedConcurrentExecutions)).toBe(5);
    const definition = JSON.stringify(resource(t, 'PurgeStateMachine').Properties.Definition);
    expect(definition).toContain('"MaxConcurrencyPath":"$.listed.concurrency"');
    expect(definition).not.toMatch(/"MaxConcurrency"|Numeric/);
  });

  test('a valid ASL definition (asl-validator) whose tasks invoke only the purge function; the schedule starts it instead of the function', async () => {
    const t = get('prod').template;
    expect(t.Conditions?.FanOutOn).toEqual({ 'Fn::Equals': ['fanout-true', 'fanout-true'] });
    const machine = resource(t, 'PurgeStateMachine');
    expect(machine.Properties).toMatchObject({ StateMachineName: 'oms-task-janitor-prod', StateMachineType: 'STANDARD', RoleArn: { 'Fn::GetAtt': ['StateMachineRole', 'Arn'] }, DefinitionSubstitutions: { PurgeFunctionArn: { 'Fn::GetAtt': ['PurgeLambdaFunction', 'Arn'] } } });
    const definition = JSON.parse(JSON.stringify(machine.Properties.Definition).replaceAll('${PurgeFunctionArn}', FUNCTION_ARN)) as Record<string, unknown>;
    const { default: validator } = await import('asl-validator');
    const verdict = validator(definition);
    expect(verdict.errors).toEqual([]);
    expect(verdict.isValid).toBe(true);
    // Every Task state, at any depth, invokes the purge function through lambda:invoke, and nothing else.
    const tasks: Record<string, unknown>[] = [];
    const walk = (states: Record<string, Record<string, unknown>>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task') tasks.push(state);
        const inner = (state.ItemProcessor as { States?: Record<string, Record<string, unknown>> } | undefined)?.States;
        if (inner) walk(inner);
      }
    };
    walk(definition.States as Record<string, Record<string, unknown>>);
    expect(tasks.map((task) => [task.Resource, (task.Parameters as { FunctionName: string }).FunctionName])).toEqual([
      ['arn:aws:states:::lambda:invoke', FUNCTION_ARN], // Targets
      ['arn:aws:states:::lambda:invoke', FUNCTION_ARN], // PlanTarget
      ['arn:aws:states:::lambda:invoke', FUNCTION_ARN], // Run
      ['arn:aws:states:::lambda:invoke', FUNCTION_ARN], // Merge
    ]);
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(states.PerTarget).toMatchObject({ Type: 'Map', MaxConcurrencyPath: '$.listed.concurrency' });
    expect(states.Targets).toMatchObject({ ResultSelector: { 'concurrency.$': '$.Payload.concurrency' } });
    // A second execution while one runs: the first step says so, and the machine ends at once.
    expect(states.AlreadyRunning).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.listed.busy', IsNull: true, Next: 'Plan' }], Default: 'AnotherExecutionRunning' });
    // Every target plans before any runs (the run cap is split over them), its results kept beside the state.
    expect(states.Plan).toMatchObject({ Type: 'Map', ItemsPath: '$.listed.targets', ResultPath: '$.planned', Next: 'PerTarget' });
    expect(states.AnotherExecutionRunning).toMatchObject({ Type: 'Succeed' });
    // A target whose invocation stopped with work left runs again (the function says so while rounds remain).
    const inner = (states.PerTarget!.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(inner.WorkLeft).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.more', BooleanEquals: true, Next: 'Run' }], Default: 'TargetDone' });
    // Every lambda:invoke retries Lambda's own transient errors and throttling (not the function's errors).
    const retry = [
      { ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 30, MaxAttempts: 35, BackoffRate: 1 },
      { ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
    ];
    for (const task of tasks) expect(task.Retry).toEqual(retry);
    // The targets' results are small ({target} or {target, error}): what they did is in their ledgers.
    expect(inner.TargetDone).toMatchObject({ Type: 'Pass', Parameters: { 'target.$': '$.target' } });
    expect(Object.keys(inner.TargetFailed!.Parameters as object)).toEqual(['target.$', 'error.$']);
    const planStates = (states.Plan!.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(planStates.PlanFailed).toMatchObject({ Type: 'Pass', Parameters: { planned: 'failed' } });
    // An execution that fails or times out reaches the stage's alarm topic.
    expect(resource(t, 'FanOutFailedAlarm').Properties).toMatchObject({ AlarmActions: [{ Ref: 'AlarmTopic' }], Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(JSON.stringify(resource(t, 'FanOutFailedAlarm').Properties.Metrics)).toContain('"MetricName":"ExecutionsFailed","Dimensions":[{"Name":"StateMachineArn","Value":{"Ref":"PurgeStateMachine"}}]');
    // The state machine's role: invoke the purge function (and its versions), nothing else.
    expect(resource(t, 'StateMachineRole').Properties.Policies).toEqual([
      { PolicyName: 'invoke-purge', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [{ 'Fn::GetAtt': ['PurgeLambdaFunction', 'Arn'] }, { 'Fn::Sub': '${PurgeLambdaFunction.Arn}:*' }] }] } },
    ]);
    // The function's own permissions are unchanged; it runs fanOutConcurrency invocations at once.
    expect(resource(t, 'IamRoleLambdaExecution').Properties.Policies[0].PolicyDocument.Statement).toEqual(expectedRoleStatements('prod'));
    expect(resource(t, 'AWS::Lambda::Function').Properties.ReservedConcurrentExecutions).toBe(10);
    // The schedule starts the state machine (with the scheduled input); the function's own rule is off.
    expect(resource(t, 'PurgeEventsRuleSchedule1').Properties.State).toBe('DISABLED');
    expect(resource(t, 'FanOutSchedule').Properties).toMatchObject({ ScheduleExpression: 'cron(15 0/6 * * ? *)', State: 'ENABLED', Targets: [{ Arn: { Ref: 'PurgeStateMachine' }, RoleArn: { 'Fn::GetAtt': ['FanOutScheduleRole', 'Arn'] }, Input: '{"scheduled": true}' }] });
    expect(resource(t, 'FanOutScheduleRole').Properties.Policies[0].PolicyDocument.Statement).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'PurgeStateMachine' } }]);
  });
});
