import { allKindsTotals, kindRows, type RunSummary } from '../purge/summary.js';
import type { CollectedOutcomes } from './collector.js';
import type { RenderedReport, ReportContext } from './render.js';
import { cell } from './text.js';

/**
 * AWS Chatbot (Amazon Q Developer in chat applications) shows only messages in its custom-notification schema
 * (version 1.0, source custom) and drops plain text. Chatbot subscribes to a topic over HTTPS, so the report carries
 * this rendition as the message for the `https` protocol; e-mail, SQS and Lambda subscribers get the plain text.
 */
export interface ChatbotNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: { textType: 'client-markdown'; title: string; description: string; nextSteps: string[]; keywords: string[] };
  metadata: { summary: string; eventType: string; additionalContext: Record<string, string> };
}

/** A chat message is read at a glance: the targets and the first failures, the rest is in the e-mail and the logs. */
export const MAX_CHAT_DESCRIPTION_CHARS = 3000;
export const MAX_CHAT_FAILURES = 5;

export function chatbotNotification(summary: RunSummary, collected: CollectedOutcomes, rendered: RenderedReport, ctx: ReportContext): ChatbotNotification {
  // Backticks would end the code block: a server's message must not turn into chat markup.
  const safe = (text: string, maxChars: number) => cell(ctx.redact(text), maxChars).replace(/`/g, "'");
  // Every kind counts, as in the subject: a target's line adds up its tasks, task groups and sync tasks.
  const lines = summary.targets.slice(0, 10).map((t) => {
    const rows = kindRows(t);
    const sum = (key: 'deleted' | 'failed' | 'deferred') => rows.reduce((n, r) => n + r[key], 0);
    const refused = rows.some((r) => r.refused) ? ', refused' : '';
    const stopped = rows.some((r) => r.error !== undefined) ? ', stopped' : '';
    return `${safe(t.name, 40)}: ${sum('deleted')} deleted, ${sum('failed')} failed, ${sum('deferred')} deferred${refused}${stopped}`;
  });
  if (summary.targets.length > 10) lines.push(`… and ${summary.targets.length - 10} more targets`);
  const failures = collected.failures
    .slice(0, MAX_CHAT_FAILURES)
    .map((f) => `${safe(f.kind, 20)} ${safe(f.id, 40)} (${safe(f.status, 20)}) ${f.httpStatus || '-'} ${safe(f.code || f.reason, 40)}: ${safe(f.message, 120)}`);
  const more = allKindsTotals(summary).failed - failures.length;
  if (failures.length > 0 && more > 0) failures.push(`… and ${more} more failures (the e-mail report and the logs list them)`);
  const block = (body: string[]) => (body.length === 0 ? '' : `\n\`\`\`\n${body.join('\n')}\n\`\`\``);
  let description = `Outcome *${rendered.outcome}*, run \`${safe(summary.runId, 100)}\`${summary.dryRun ? ' (dry run)' : ''}.${block(lines)}${block(failures)}`;
  if (description.length > MAX_CHAT_DESCRIPTION_CHARS) {
    const cut = `${description.slice(0, MAX_CHAT_DESCRIPTION_CHARS - 6)}\n…`;
    // Cut inside a code block: close it, or the chat shows the rest of the message as code.
    description = cut.split('```').length % 2 === 0 ? `${cut}\n\`\`\`` : cut;
  }
  return {
    version: '1.0',
    source: 'custom',
    id: safe(summary.runId, 100),
    content: {
      textType: 'client-markdown',
      title: rendered.subject,
      description: ctx.redact(description),
      nextSteps: [`Logs Insights on ${safe(ctx.logGroup, 512)}: filter function_request_id = "${safe(summary.runId, 100)}"`],
      keywords: [rendered.attributes.stage, rendered.outcome],
    },
    metadata: {
      summary: rendered.subject,
      eventType: `oms-task-janitor-${rendered.outcome}`,
      additionalContext: { stage: rendered.attributes.stage, outcome: rendered.outcome, runId: safe(summary.runId, 100) },
    },
  };
}
