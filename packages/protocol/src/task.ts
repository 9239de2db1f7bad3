import { z } from 'zod';

/** Task states exactly as BOSH's director reports them (reference §1.3). */
export const TaskState = {
  queued: 'queued',
  processing: 'processing',
  cancelling: 'cancelling',
  cancelled: 'cancelled',
  done: 'done',
  error: 'error',
  timeout: 'timeout',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
export const TaskStateSchema = z.enum([
  'queued',
  'processing',
  'cancelling',
  'cancelled',
  'done',
  'error',
  'timeout',
]);

/** `GET /tasks/<id>`: ids and times are JSON numbers (unix seconds), as the CLI insists. */
export const TaskJson = z.object({
  id: z.number().int(),
  state: TaskStateSchema,
  description: z.string(),
  timestamp: z.number().int().nullable(),
  started_at: z.number().int().nullable(),
  result: z.string().nullable(),
  user: z.string(),
  deployment: z.string().nullable(),
  context_id: z.string(),
});
export type TaskJson = z.infer<typeof TaskJson>;

export const TaskOutputType = z.enum(['event', 'result', 'debug', 'cpi']);
export type TaskOutputType = z.infer<typeof TaskOutputType>;

/** One line of a task's event log (reference §1.3). Every line is one JSON object. */
export const StageEventLine = z.object({
  time: z.number().int(),
  stage: z.string(),
  tags: z.array(z.string()),
  total: z.number().int().nullable(),
  task: z.string(),
  index: z.number().int(),
  state: z.enum(['started', 'in_progress', 'finished', 'failed']),
  progress: z.number().int(),
  data: z.object({ status: z.string().optional(), error: z.string().optional() }).optional(),
});
export const ErrorEventLine = z.object({
  time: z.number().int(),
  error: z.object({ code: z.number().int(), message: z.string() }),
});
export const MessageEventLine = z.object({
  time: z.number().int(),
  type: z.enum(['warning', 'deprecation']),
  message: z.string(),
});
export const EventLine = z.union([StageEventLine, ErrorEventLine, MessageEventLine]);
export type StageEventLine = z.infer<typeof StageEventLine>;
export type ErrorEventLine = z.infer<typeof ErrorEventLine>;
export type EventLine = z.infer<typeof EventLine>;

/** `POST /tasks/cancel` body. */
export const CancelTasksBody = z.object({
  types: z.array(z.string()).optional(),
  states: z.array(z.enum(['queued', 'processing'])).optional(),
  deployment: z.string().optional(),
});
