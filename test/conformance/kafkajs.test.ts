import { KafkajsConsumer } from '../../src/stream/kafkajs-consumer.ts';
import { KafkajsTransport } from '../../src/stream/kafkajs-transport.ts';
import { reportingConsumer } from '../../src/stream/worker-startup.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { TEST_KAFKA_BROKERS } from '../support/env.ts';
import { describeEventTransport } from './event-transport.ts';

/** The ports of src/stream/transport.ts as production opens them: kafkajs on the real broker. */
const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'conformance');
const kafkajsConsumer = (groupId: string) => new KafkajsConsumer({ brokers: TEST_KAFKA_BROKERS, groupId, clientId: 'vigil-conformance', log });

describeEventTransport('kafkajs', async () => ({
  transport: new KafkajsTransport(TEST_KAFKA_BROKERS, 'vigil-conformance', log),
  consumer: kafkajsConsumer,
}));

// The worker's consumer reports its start to readiness around kafkajs: it must keep every promise above.
describeEventTransport('kafkajs, as the worker wraps it (reportingConsumer)', async () => ({
  transport: new KafkajsTransport(TEST_KAFKA_BROKERS, 'vigil-conformance', log),
  consumer: (groupId) => reportingConsumer(kafkajsConsumer(groupId), { pending: () => undefined, ready: () => undefined }),
}));
