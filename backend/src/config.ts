import { z } from 'zod';

// The whole runtime configuration, read once from the environment. Every key is documented in
// .env.example; a missing or malformed key stops the start with a message naming it.
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const schema = z.object({
  APP_ENV: z.enum(['development', 'test', 'twin', 'dev', 'staging', 'prod']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(3000, 1, 65535),
  RELEASE: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits and . _ : - only, at most 128')
    .default('dev'),
  DATABASE_URL: z
    .string({ error: 'is required (mysql://user:password@host:port/database)' })
    .url()
    .refine(
      (u) => /^mysql:\/\/[^/]+\/[A-Za-z0-9_]+$/.test(u),
      'must look like mysql://user:password@host:port/database',
    ),
  DATABASE_POOL_MAX: int(5, 1, 100),
  REDIS_URL: z
    .string({ error: 'is required (redis://[:password@]host:port[/db])' })
    .url()
    .refine((u) => u.startsWith('redis://'), 'must start with redis://'),
  SENTRY_DSN: z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  BODY_LIMIT_BYTES: int(64 * 1024, 256),
  RATE_LIMIT_MAX: int(120, 1),
  RATE_LIMIT_WINDOW_SECONDS: int(60, 1),
  CACHE_TTL_SECONDS: int(60, 1),
  DRAIN_TIMEOUT_MS: int(10_000, 0, 120_000),
  DEPENDENCY_TIMEOUT_MS: int(1_000, 50, 30_000),
  KILL_SWITCH_FILE: z.string().min(1).default('/var/lib/app/kill-switch'),
  KILL_SWITCH_POLL_MS: int(250, 50, 1_000),
  TRUST_PROXY: bool(false),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every bad key. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
}
