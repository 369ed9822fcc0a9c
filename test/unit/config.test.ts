import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.ts';

describe('loadConfig', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 4000,
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/vigil',
      redisUrl: 'redis://127.0.0.1:6379',
      kafkaBrokers: ['127.0.0.1:9092'],
      adminKey: undefined,
      maxEventBytes: 1024 * 1024,
    });
  });

  it('reads every setting', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@db:5432/x',
      REDIS_URL: 'redis://cache:6380',
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      VIGIL_ADMIN_KEY: 'a-long-enough-admin-secret',
      VIGIL_MAX_EVENT_BYTES: '2048',
    });
    expect(config).toMatchObject({ port: 8080, kafkaBrokers: ['k1:9092', 'k2:9093'], adminKey: 'a-long-enough-admin-secret', maxEventBytes: 2048 });
  });

  it('lists every bad value at once, one message each', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x/y', REDIS_URL: 'not a url', KAFKA_BROKERS: 'nohost', VIGIL_ADMIN_KEY: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/PORT must be an integer/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL must use postgresql: or postgres:/);
    expect(problems.join('\n')).toMatch(/REDIS_URL is not a URL/);
    expect(problems.join('\n')).toMatch(/KAFKA_BROKERS entry "nohost" is not host:port/);
    expect(problems.join('\n')).toMatch(/VIGIL_ADMIN_KEY must be at least 16 characters/);
  });
});
