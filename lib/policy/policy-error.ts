import { InvalidInput } from '../errors.js';

/** One problem in a policy file: where (a field path such as `rules[1].olderThan`; '' for the whole file) and what. */
export interface PolicyIssue {
  path: string;
  message: string;
  /** 1-based line in the file, when the problem can be placed on one. */
  line?: number;
}

/**
 * A policy that cannot be used: unreadable, not YAML, or not a valid policy. Carries every issue found, not just
 * the first, so one edit can fix them all; the message lists them too, for callers that only print `message`.
 */
export class PolicyError extends InvalidInput {
  override readonly name = 'PolicyError';
  readonly issues: PolicyIssue[];
  /** The file name (or other label) the policy came from. */
  readonly source: string;

  constructor(source: string, issues: PolicyIssue[], options?: { cause?: unknown }) {
    super(formatMessage(source, issues), options);
    this.source = source;
    this.issues = issues;
  }
}

function formatMessage(source: string, issues: PolicyIssue[]): string {
  const lines = issues.map((issue) => {
    const where = issue.path === '' ? '' : `${issue.path}: `;
    const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
    return `  - ${where}${issue.message}${line}`;
  });
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return `invalid policy ${source}, ${count}:\n${lines.join('\n')}`;
}
