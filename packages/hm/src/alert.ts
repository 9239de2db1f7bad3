import { randomUUID } from 'node:crypto';
import type { HmAlert } from '@refit/protocol';
import type { AlertDraft } from './analyze-fleet.ts';

/** Gives a draft its id and wire shape (`HmAlert`, snake_case). */
export function toAlert(draft: AlertDraft, id: string = randomUUID()): HmAlert {
  const alert: HmAlert = {
    kind: 'alert',
    id,
    severity: draft.severity,
    category: draft.category,
    title: draft.title,
    summary: draft.summary ?? draft.title,
    source: draft.source,
    deployment: draft.deployment,
    created_at: draft.createdAt,
  };
  if (draft.job !== undefined) alert.job = draft.job;
  if (draft.instanceId !== undefined) alert.instance_id = draft.instanceId;
  if (draft.agentId !== undefined) alert.agent_id = draft.agentId;
  if (draft.jobsToInstanceIds !== undefined) {
    alert.jobs_to_instance_ids = Object.fromEntries(
      Object.entries(draft.jobsToInstanceIds).map(([job, ids]) => [job, [...ids]]),
    );
  }
  return alert;
}

/** Somewhere alerts go. `deliver` never blocks and never throws. */
export interface AlertSink {
  deliver(alert: HmAlert): void;
}
