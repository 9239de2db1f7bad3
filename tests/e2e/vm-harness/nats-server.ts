// The NATS server for tests lives in tests/e2e/support (suites without VMs use it too: a suite
// importing vm-harness runs in the VM lane of scripts/test-lanes).
export { freePort, NatsServer } from '../support/nats-server.ts';
