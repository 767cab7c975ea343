import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const valid = { DATABASE_URL: 'mysql://app:pw@127.0.0.1:3306/app', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadConfig', () => {
  it('fills documented defaults from a minimal environment', () => {
    const c = loadConfig(valid);
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      RELEASE: 'dev',
      APP_ENV: 'development',
      TRUST_PROXY: false,
    });
    expect(c.SENTRY_DSN).toBeUndefined();
  });

  it('names every missing or malformed key at once', () => {
    try {
      loadConfig({ PORT: '70000', REDIS_URL: 'http://x', TRUST_PROXY: 'yes' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const keys = (e as ConfigError).problems.map((p) => p.split(':')[0]).sort();
      expect(keys).toEqual(['DATABASE_URL', 'PORT', 'REDIS_URL', 'TRUST_PROXY']);
    }
  });

  it('rejects a database URL without a database name, and a release id with spaces', () => {
    expect(() => loadConfig({ ...valid, DATABASE_URL: 'mysql://app:pw@db:3306' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ ...valid, RELEASE: 'v 1' })).toThrow(/RELEASE/);
  });

  it('treats an empty SENTRY_DSN as unset, and parses booleans strictly', () => {
    expect(loadConfig({ ...valid, SENTRY_DSN: '' }).SENTRY_DSN).toBeUndefined();
    expect(loadConfig({ ...valid, TRUST_PROXY: '1' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ ...valid, TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
  });
});
