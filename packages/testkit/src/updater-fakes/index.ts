export { CallLog } from './call-log.ts';
export { FakeAgentClient } from './fake-agent-client.ts';
export { FakeCloud } from './fake-cloud.ts';
export { FakeClock } from './fake-clock.ts';
export { FakeInstanceStateStore } from './fake-instance-state-store.ts';
