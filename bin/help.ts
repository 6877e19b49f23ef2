export const HELP = `oms-janitor: delete finished and stale Huawei Cloud OMS migration tasks, task groups and sync tasks by a
retention policy.

Usage:
  oms-janitor plan  --policy FILE [--json] [--target NAME]... [--out MANIFEST [--accept-over-limit TARGET[:KIND]]...]
                    [--secret-id ID]
  oms-janitor apply --policy FILE --manifest MANIFEST [--no-dry-run] [--json] [--max-age DURATION] [--archive ROOT]
                    [--secret-id ID]
  oms-janitor purge --policy FILE [--no-dry-run] [--json] [--target NAME]... [--task-id ID]...
                    [--stop-first] [--force [KIND]] [--archive ROOT [--notice DURATION]] [--secret-id ID]
  oms-janitor validate --policy FILE [--json]
  oms-janitor archive list --archive ROOT [--since DURATION] [--json]
  oms-janitor archive show --archive ROOT RUN_ID [--json]
  oms-janitor emulator [--port N] [--seed N] [--latency MS]

Commands:
  plan       Show what a run would delete, as a table (target, kind, id, name, status, age, rule, action). Never
             changes anything.
             With --out, also write that list as a JSON manifest to review and then apply.
  apply      Delete the manifest's items that are still listed unchanged (same name or description and buckets,
             status and last activity) and that the current policy still selects as they are now (a manifest never
             widens the policy); a changed one is skipped (changed-since-plan), one no rule selects now is left
             alone (no-rule-now), a new one is never touched. A dry run unless --no-dry-run.
  purge      Run the policy. A dry run unless --no-dry-run.
  validate   Check a policy offline, as a run would load it (no credentials, no request), and warn about
             protections that reach none of the kinds the rules delete. Exit 0 valid, 2 invalid.
  archive    What real runs archived: the runs (list), and what one run deleted, with each item's record (show).
  emulator   Start the local OMS emulator with demo data (token: demo-token), for trying the tool. It listens on
             127.0.0.1:8790 (the port policies/example.yaml names); --port 0 picks a free one.

Options:
  --policy FILE      Retention policy (YAML or JSON).
  --no-dry-run       Really pause and delete. Without it nothing is changed. A policy with dryRun: true stays dry.
  --dry-run          The default, said explicitly.
  --json             Print the run summary as one JSON document on stdout.
  --target NAME      Only this target of the policy (repeatable).
  --task-id ID       Purge exactly these listed migration tasks (repeatable; never a task group or sync task):
                     rules' ages are ignored, protection still applies, in-progress tasks only with --stop-first.
  --stop-first       With --task-id: in-progress tasks too (a migrating one is paused, waited for, then
                     deleted; a waiting or retrying one deleted as it is; a pausing one waited for).
  --force [KIND]     Do not refuse a target whose selection exceeds limits.maxDeletePercent: every kind, or
                     only KIND (task, taskGroup, syncTask; repeatable: --force taskGroup --force syncTask).
  --out MANIFEST     plan: write the manifest (JSON) to this file.
  --notice DURATION  purge --archive: delete only what an earlier run announced at least DURATION ago (unchanged,
                     still selected), and announce the rest (ROOT/pending/notice.json). Dry runs leave it alone.
  --archive ROOT     purge/apply --no-dry-run: archive the run (a directory or s3://BUCKET/PREFIX): each item's
                     record before the first pause or delete (the run changes nothing if it cannot), then the
                     outcomes and the summary. See \`oms-janitor archive --help\`. plan and dry runs only read its
                     progress record (rules with noProgressFor).
  --accept-over-limit TARGET[:KIND]
                     plan --out: put TARGET's selection (of KIND, or every kind) in the manifest although it is over
                     limits.maxDeletePercent, and record who accepted it (OMS_JANITOR_OPERATOR, else user@host) and
                     when; apply lets exactly those items past the limit. Repeatable.
  --manifest FILE    apply: the manifest that plan --out wrote.
  --max-age DURATION apply: refuse a manifest older than this (default 7d; <number><m|h|d|w>).
  --secret-id ID     Read credentials from this AWS Secrets Manager secret.
  -y, --yes          purge/apply --no-dry-run on a terminal: do not ask for the count first.
  --log-level LEVEL  DEBUG, INFO, WARN or ERROR. Default INFO (WARN when stderr is a terminal).
  -h, --help         This text; oms-janitor COMMAND --help for one command's.
  --version          The version.

Credentials, first found wins: --secret-id (or OMS_CREDENTIALS_SECRET_ID); CLOUD_SDK_AK + CLOUD_SDK_SK (AK/SK
signing); OMS_AUTH_TOKEN (an IAM token). Empty variables count as unset.

Credentials go only to loopback and Huawei Cloud's API hosts (*.myhuaweicloud.com, .cn, .eu); to allow another
host, set OMS_JANITOR_ALLOWED_HOSTS (comma-separated names, *.example.com for subdomains).

Output: logs are JSON lines on stderr; the summary (or the plan table) goes to stdout.
Exit status: 0 done (dry runs included); 1 a deletion failed, or a target (or one kind in it) was refused or
stopped; 2 bad input
(policy, arguments, credentials, manifest) detected before any change.
`;

const CREDENTIALS = `Credentials, first found wins: --secret-id (or OMS_CREDENTIALS_SECRET_ID); CLOUD_SDK_AK + CLOUD_SDK_SK;
OMS_AUTH_TOKEN. Logs are JSON lines on stderr (--log-level DEBUG|INFO|WARN|ERROR).
`;

/** `oms-janitor archive --help`. */
export const ARCHIVE_HELP = `oms-janitor archive list --archive ROOT [--since DURATION] [--json]
oms-janitor archive show --archive ROOT RUN_ID [--json]

What real runs archived (purge/apply --archive ROOT, and every real Lambda run into the stage's bucket): the runs,
and what one run deleted, each item with its record as OMS listed it and what became of it.

  --archive ROOT     A directory, or s3://BUCKET/PREFIX (AWS credentials and region from the environment).
  --since DURATION   list: runs of the last DURATION only (<number><m|h|d|w>, by the run's day).
  --json             One JSON document: the runs, or the run with its items, records and outcomes.

Exit: 0 done; 1 the archive could not be read or has no such run; 2 bad input.
`;

/** `oms-janitor COMMAND --help`: one command, its options, and what it exits with. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  plan: `oms-janitor plan --policy FILE [--json] [--target NAME]... [--out MANIFEST [--accept-over-limit TARGET[:KIND]]...]
                 [--secret-id ID]

Show what a run of the policy would delete, as a table (target, kind, id, name, status, age, rule, action). Never
changes anything. ACTION says what would be sent: delete, pause then delete, or wait (creating/pausing).

  --policy FILE      Retention policy (YAML or JSON).
  --json             The run summary as one JSON document, with a \`plan\` array of the rows.
  --target NAME      Only this target (repeatable).
  --out MANIFEST     Also write the list as a JSON manifest to review, then \`oms-janitor apply\`.
  --accept-over-limit TARGET[:KIND]
                     With --out: a selection over limits.maxDeletePercent goes into the manifest anyway, with who
                     accepted it (OMS_JANITOR_OPERATOR, else user@host) and when; apply lets exactly those items
                     through. Without it, the manifest says what it left out (leftOut). Repeatable.
  --secret-id ID     Read credentials from this AWS Secrets Manager secret.

${CREDENTIALS}Exit: 0 done; 1 a target or kind was refused, stopped or not listed; 2 bad input.
`,
  apply: `oms-janitor apply --policy FILE --manifest MANIFEST [--no-dry-run] [--json] [--max-age DURATION] [--archive ROOT]
                  [--secret-id ID]

Delete the manifest's items that are still listed unchanged and that the current policy still selects as they are
now (a manifest never widens the policy: one no rule selects is left alone, no-rule-now). A dry run unless
--no-dry-run.

  --manifest FILE    The manifest that \`oms-janitor plan --out\` wrote.
  --no-dry-run       Really pause and delete.
  --max-age DURATION Refuse a manifest older than this (default 7d; <number><m|h|d|w>).
  --json             The run summary as one JSON document.
  --secret-id ID     Read credentials from this AWS Secrets Manager secret.
  -y, --yes          On a terminal, do not ask for the count before deleting.
  --archive ROOT     Archive the run (a directory or s3://BUCKET/PREFIX); nothing is changed if it cannot be.

${CREDENTIALS}Exit: 0 done; 1 something failed, or a target or kind was refused or stopped, or not confirmed; 2 bad input.
`,
  purge: `oms-janitor purge --policy FILE [--no-dry-run] [--json] [--target NAME]... [--task-id ID]... [--stop-first]
                  [--force [KIND]] [--archive ROOT [--notice DURATION]] [--secret-id ID]

Run the policy. A dry run unless --no-dry-run (a policy with dryRun: true stays dry).

  --no-dry-run       Really pause and delete.
  --target NAME      Only this target (repeatable).
  --task-id ID       Exactly these listed migration tasks (repeatable): ages ignored, protection still applies.
  --stop-first       With --task-id: in-progress tasks too (a migrating one is paused first).
  --force [KIND]     Let a target through that limits.maxDeletePercent refuses: every kind, or only KIND.
  --json             The run summary as one JSON document.
  --secret-id ID     Read credentials from this AWS Secrets Manager secret.
  -y, --yes          On a terminal, do not ask for the count before deleting.
  --archive ROOT     Archive the run (a directory or s3://BUCKET/PREFIX); nothing is changed if it cannot be.

${CREDENTIALS}Exit: 0 done; 1 something failed, or a target or kind was refused or stopped, or not confirmed; 2 bad input.
`,
  archive: ARCHIVE_HELP,
  validate: `oms-janitor validate --policy FILE [--json]

Check a policy offline, exactly as a run loads it (schema, placeholder project ids, regions, the allowed hosts), and
warn about protections that reach none of the kinds the rules delete. No credentials, no request.

Exit: 0 valid (warnings included); 2 invalid (every problem named, with its line).
`,
};
