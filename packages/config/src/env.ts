// Typed environment variables: each reader knows its variable's name, default and allowed values, so a bad value
// can be reported as one line a person can act on.
import { z } from 'zod';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface Var<T> {
  /** The default as written in .env.example and docker-compose.yml ('' when there is none). */
  readonly defaultText: string;
  /** What values are allowed, in words, for error messages and docs. */
  readonly allowed: string;
  /** A secret: error messages say how long the value is, never what it is. */
  readonly secret?: boolean;
  parse(raw: string | undefined): T;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

function make<T>(defaultText: string, allowed: string, schema: z.ZodType<T>): Var<T> {
  return {
    defaultText,
    allowed,
    parse(raw) {
      const text = raw === undefined || raw.trim() === '' ? defaultText : raw.trim();
      const result = schema.safeParse(text);
      if (!result.success) throw new Error(allowed);
      return result.data;
    },
  };
}

const intText = z
  .string()
  .regex(/^[+-]?\d+$/)
  .transform(Number);

export function int(defaultValue: number, opts: { min?: number; max?: number } = {}): Var<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  const range =
    opts.min !== undefined && opts.max !== undefined
      ? `an integer from ${min} to ${max}`
      : opts.min !== undefined
        ? `an integer ≥ ${min}`
        : opts.max !== undefined
          ? `an integer ≤ ${max}`
          : 'an integer';
  return make(String(defaultValue), range, intText.pipe(z.number().int().min(min).max(max)));
}

export function num(defaultValue: number, opts: { min?: number; max?: number } = {}): Var<number> {
  const { min = -Infinity, max = Infinity } = opts;
  return make(
    String(defaultValue),
    `a number${opts.min !== undefined ? ` ≥ ${min}` : ''}${opts.max !== undefined ? ` ≤ ${max}` : ''}`,
    z
      .string()
      .regex(/^[+-]?(\d+\.?\d*|\.\d+)$/)
      .transform(Number)
      .pipe(z.number().min(min).max(max)),
  );
}

/** `auto` (the default: the reader picks a value from other settings), or an integer from min to max. */
export function autoOrInt(opts: { min: number; max: number }): Var<number | 'auto'> {
  return make(
    'auto',
    `auto or an integer from ${opts.min} to ${opts.max}`,
    z.union([
      z
        .string()
        .regex(/^auto$/i)
        .transform(() => 'auto' as const),
      intText.pipe(z.number().int().min(opts.min).max(opts.max)),
    ]),
  );
}

/** 0 for "off", otherwise a number from min to max (a factor below min would mean nothing). */
export function offOrNum(defaultValue: number, opts: { min: number; max: number }): Var<number> {
  return make(
    String(defaultValue),
    `0 (off) or a number from ${opts.min} to ${opts.max}`,
    z
      .string()
      .regex(/^(\d+\.?\d*|\.\d+)$/)
      .transform(Number)
      .refine((n) => n === 0 || (n >= opts.min && n <= opts.max)),
  );
}

export function str(defaultValue: string, allowed = 'a non-empty string'): Var<string> {
  return make(defaultValue, allowed, z.string().min(1));
}

/** A string that may be left empty (secrets, optional paths). */
export function optional(): Var<string | undefined> {
  return {
    defaultText: '',
    allowed: 'any string, or empty',
    parse: (raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()),
  };
}

/** A comma-separated list of browser origins (or '*'), blanks and trailing slashes dropped; empty means none. */
export function origins(): Var<string[]> {
  return {
    defaultText: '',
    allowed: "comma-separated origins such as https://ui.example:8501, or '*', or empty",
    parse: (raw) =>
      (raw ?? '')
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean),
  };
}

// RFC 6750's token68: what a bearer token may hold.
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/** Comma-separated bearer keys (blanks dropped); empty means none. */
export function apiKeys(): Var<string[]> {
  const allowed = 'comma-separated keys, each at least 16 characters of A-Z a-z 0-9 . _ ~ + / -, or empty';
  return {
    defaultText: '',
    allowed,
    secret: true,
    parse(raw) {
      const keys = (raw ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      if (keys.some((k) => k.length < 16 || !TOKEN68.test(k))) throw new Error(allowed);
      return keys;
    },
  };
}

export interface Credentials {
  user: string;
  password: string;
}

/** user:password (the user without a colon, the password anything non-empty); empty means none. */
export function userAndPassword(): Var<Credentials | undefined> {
  const allowed = 'user:password (a user name without ":", then a non-empty password), or empty';
  return {
    defaultText: '',
    allowed,
    secret: true,
    parse(raw) {
      if (raw === undefined || raw.trim() === '') return undefined;
      const text = raw.trim();
      const colon = text.indexOf(':');
      if (colon < 1 || colon === text.length - 1) throw new Error(allowed);
      return { user: text.slice(0, colon), password: text.slice(colon + 1) };
    },
  };
}

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i;

/**
 * Which proxies' X-Forwarded-For to believe (Fastify's trustProxy): empty or false for none, true for any, or
 * comma-separated addresses, CIDR ranges and the names loopback, linklocal, uniquelocal.
 */
export function trustProxy(): Var<boolean | string[]> {
  const allowed =
    'empty or false (none), true (any), or comma-separated addresses, CIDR ranges, loopback, linklocal, uniquelocal';
  return {
    defaultText: '',
    allowed,
    parse(raw) {
      const text = (raw ?? '').trim().toLowerCase();
      if (text === '' || text === 'false') return false;
      if (text === 'true') return true;
      const list = text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      if (!list.every((t) => NAMED_RANGES.has(t) || ADDRESS.test(t))) throw new Error(allowed);
      return list;
    },
  };
}

export function oneOf<const T extends string>(defaultValue: T, values: readonly T[]): Var<T> {
  const allowed = `one of ${values.join(', ')}`;
  return make(
    defaultValue,
    allowed,
    z.string().transform((s, ctx) => {
      const hit = values.find((v) => v.toLowerCase() === s.toLowerCase());
      if (hit === undefined) {
        ctx.addIssue({ code: 'custom', message: allowed });
        return z.NEVER;
      }
      return hit;
    }),
  );
}

const httpUrlText = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
});

export function httpUrl(defaultValue: string): Var<string> {
  return make(
    defaultValue,
    'an http:// or https:// URL',
    httpUrlText.transform((s) => s.replace(/\/+$/, '')),
  );
}

/** An http:// or https:// URL, or empty for none (a proxy). */
export function optionalHttpUrl(): Var<string | undefined> {
  const allowed = 'an http:// or https:// URL, or empty';
  return {
    defaultText: '',
    allowed,
    parse(raw) {
      if (raw === undefined || raw.trim() === '') return undefined;
      if (!httpUrlText.safeParse(raw.trim()).success) throw new Error(allowed);
      return raw.trim();
    },
  };
}

/** An amqp:// or amqps:// URL (a RabbitMQ work queue), or empty for none. */
export function optionalAmqpUrl(): Var<string | undefined> {
  const allowed = 'an amqp:// or amqps:// URL such as amqp://guest:guest@rabbitmq:5672, or empty for no queue';
  return {
    defaultText: '',
    allowed,
    parse(raw) {
      if (raw === undefined || raw.trim() === '') return undefined;
      const text = raw.trim();
      if (!URL.canParse(text) || !['amqp:', 'amqps:'].includes(new URL(text).protocol)) throw new Error(allowed);
      return text;
    },
  };
}

/** Sizes such as 25MiB, 10mb, 512k or plain bytes. */
export function bytes(defaultText: string, opts: { min?: number } = {}): Var<number> {
  const min = opts.min ?? 1;
  return make(
    defaultText,
    `a size in bytes ≥ ${min} (e.g. 26214400, 25MiB, 512KB)`,
    z.string().transform((s, ctx) => {
      const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s);
      const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
      if (!m || unit === undefined || Number(m[1]) * unit < min) {
        ctx.addIssue({ code: 'custom', message: 'bad size' });
        return z.NEVER;
      }
      return Math.floor(Number(m[1]) * unit);
    }),
  );
}

/** Durations such as 30, 30s, 15m, 24h, 7d; the value is in seconds. */
export function seconds(defaultText: string, opts: { min?: number } = {}): Var<number> {
  const min = opts.min ?? 0;
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
  return make(
    defaultText,
    `a duration ≥ ${min}s (seconds, or with a unit: 30s, 15m, 24h, 7d)`,
    z.string().transform((s, ctx) => {
      const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(s);
      const value = m ? Number(m[1]) * units[m[2].toLowerCase()] : Number.NaN;
      if (!(value >= min)) {
        ctx.addIssue({ code: 'custom', message: 'bad duration' });
        return z.NEVER;
      }
      return value;
    }),
  );
}

export function bool(defaultValue: boolean): Var<boolean> {
  return make(
    String(defaultValue),
    'true or false (also 1/0, yes/no)',
    z.string().transform((s, ctx) => {
      const v = s.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'bad boolean' });
      return z.NEVER;
    }),
  );
}

export type Spec = Record<string, Var<unknown>>;
export type Parsed<S extends Spec> = { [K in keyof S]: S[K] extends Var<infer T> ? T : never };

/** Reads every variable of `spec` from `env`; all problems are reported together, one line each. */
export function parseEnv<S extends Spec>(spec: S, env: Env = process.env): Parsed<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, v] of Object.entries(spec)) {
    try {
      out[name] = v.parse(env[name]);
    } catch (err) {
      const value = v.secret ? `(hidden, ${env[name]?.length ?? 0} characters)` : JSON.stringify(env[name] ?? '');
      problems.push(`${name}=${value} is not valid: expected ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Parsed<S>;
}
