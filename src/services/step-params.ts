import type { RunbookAction } from '../generated/prisma/enums.ts';
import { BadUserInputError } from '../core/errors.ts';
import {
  assertJsonObject,
  checkParams,
  checkString,
  childPath,
  describeValue,
  type ParamSpec,
  type ParamSpecs,
} from '../core/param-checks.ts';

/**
 * Runbook step settings: what each action accepts, checked and completed
 * when a runbook is registered, so a bad URL fails at registration rather
 * than at 3 a.m. during an incident.
 */

const MAX_URL_LENGTH = 2048;
const MAX_ID_LENGTH = 200;
const MAX_HEADERS = 50;
// RFC 9110 token characters: anything else is refused by fetch at send time.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values must not smuggle a line break (header injection) or NUL.
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

function maxAttempts(defaultAttempts: number): ParamSpec {
  return {
    type: 'integer',
    min: 1,
    max: 20,
    default: defaultAttempts,
    description: `Tries before the step fails, the first included (1 to 20, default ${defaultAttempts}); retries back off.`,
  };
}

// The contract's RunbookExecution.verified is driven by params.verifyWithinSeconds, so every step accepts it.
const VERIFY_WITHIN: ParamSpec = {
  type: 'integer',
  min: 1,
  max: 86_400,
  description:
    'Optional: after the step, wait this many seconds (1 to 86400) and mark the execution verified when no new anomaly followed.',
};

const STREAM_ID: ParamSpec = {
  type: 'string',
  min: 1,
  max: MAX_ID_LENGTH,
  description: "Optional id of the stream to act on; absent: the incident's stream.",
};

/**
 * The settings of each runbook action, in stored order. Exported so API docs
 * can be generated from the same table that does the checking.
 */
export const STEP_PARAM_SPECS: Readonly<Record<RunbookAction, ParamSpecs>> = {
  WEBHOOK: {
    url: {
      type: 'url',
      required: true,
      description:
        'Absolute http: or https: URL the JSON body is POSTed to; a 2xx answer is success. It must reach a public address unless its host is in VIGIL_WEBHOOK_ALLOW, and redirects are not followed.',
      check: (value, field) => checkHttpUrl(value, field),
    },
    timeoutMs: {
      type: 'integer',
      min: 100,
      max: 60_000,
      default: 5000,
      description: 'Milliseconds to wait for the answer of one attempt (100 to 60000, default 5000).',
    },
    secret: {
      type: 'string',
      min: 1,
      max: 1000,
      description:
        'Optional shared secret: when given, the body is signed with HMAC-SHA256 so the receiver can check it came from Vigil.',
    },
    headers: {
      type: 'object',
      description: `Optional extra HTTP headers, an object of name -> string value (at most ${MAX_HEADERS}).`,
      check: (value, field) => (value === undefined ? undefined : checkHeaders(value, field)),
    },
    maxAttempts: maxAttempts(5),
    verifyWithinSeconds: VERIFY_WITHIN,
  },
  REPLAY: {
    fromTimestamp: {
      type: 'date-time',
      description:
        'Optional ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00Z, to re-consume from; absent: the incident start. Stored in UTC.',
      check: (value, field) => (value === undefined ? undefined : checkDateTime(value, field)),
    },
    streamId: STREAM_ID,
    maxAttempts: maxAttempts(3),
    verifyWithinSeconds: VERIFY_WITHIN,
  },
  PAUSE_STREAM: {
    streamId: STREAM_ID,
    maxAttempts: maxAttempts(3),
    verifyWithinSeconds: VERIFY_WITHIN,
  },
  RESUME_STREAM: {
    streamId: STREAM_ID,
    maxAttempts: maxAttempts(3),
    verifyWithinSeconds: VERIFY_WITHIN,
  },
  SCALE: {
    target: {
      type: 'string',
      required: true,
      min: 1,
      max: MAX_ID_LENGTH,
      description: 'What to scale, as the scale hook names it (e.g. a deployment), 1 to 200 characters.',
    },
    replicas: {
      type: 'integer',
      required: true,
      min: 0,
      max: 1000,
      description: 'Wanted replica count, 0 to 1000.',
    },
    maxAttempts: maxAttempts(3),
    verifyWithinSeconds: VERIFY_WITHIN,
  },
  NOTIFY: {
    message: {
      type: 'string',
      min: 1,
      max: 2000,
      description: 'Optional text of the notification, 1 to 2000 characters; absent: a summary of the incident.',
    },
    maxAttempts: maxAttempts(3),
    verifyWithinSeconds: VERIFY_WITHIN,
  },
};

/**
 * Checks a runbook step's params for its action and returns them completed
 * with defaults, in stored order. `params` must be a JSON object (`undefined`
 * is taken as `{}`, the API's default); unknown settings are refused.
 * Throws BadUserInputError naming the path under `field` (e.g. "input.steps[0].params").
 */
export function normalizeStepParams(action: RunbookAction, params: unknown, field: string): Record<string, unknown> {
  const specs = STEP_PARAM_SPECS[action];
  // The action normally comes from a GraphQL enum; a stored value might not.
  if (!specs) {
    throw new BadUserInputError(field, `no settings are known for action ${describeValue(action)}; accepted actions: ${Object.keys(STEP_PARAM_SPECS).join(', ')}`);
  }
  return checkParams(specs, params === undefined ? {} : params, field, action);
}

function checkHttpUrl(value: unknown, field: string): string {
  const text = checkString(value, field, 1, MAX_URL_LENGTH);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadUserInputError(field, `must be an absolute http: or https: URL such as https://hooks.example.com/vigil (got ${describeValue(value)})`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new BadUserInputError(field, `must be an absolute http: or https: URL (got scheme ${url.protocol})`);
  }
  // Stored as given: the user's spelling is what they will look for in the runbook.
  return text;
}

function checkHeaders(value: unknown, field: string): Record<string, string> {
  const object = assertJsonObject(value, field, '{ "Authorization": "Bearer ..." }');
  const names = Object.keys(object);
  if (names.length > MAX_HEADERS) {
    throw new BadUserInputError(field, `must have at most ${MAX_HEADERS} headers (got ${names.length})`);
  }
  const out: Record<string, string> = {};
  for (const name of names) {
    const path = childPath(field, name);
    if (!HEADER_NAME.test(name)) {
      throw new BadUserInputError(path, 'is not a valid HTTP header name: use letters, digits and !#$%&\'*+-.^_`|~ only');
    }
    const headerValue = object[name];
    if (typeof headerValue !== 'string' || HEADER_VALUE_FORBIDDEN.test(headerValue)) {
      throw new BadUserInputError(path, `must be a string without line breaks (got ${describeValue(headerValue)})`);
    }
    out[name] = headerValue;
  }
  return out;
}

/**
 * A date-time with an explicit zone, returned as UTC ISO-8601. A zone is
 * required because a zoneless time would be read in the server's local time.
 * The calendar is checked too: Date.parse accepts 2024-02-30 and rolls over.
 */
function checkDateTime(value: unknown, field: string): string {
  const accepted = 'an ISO-8601 date-time with a time zone, such as 2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00';
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!match) throw new BadUserInputError(field, `must be ${accepted} (got ${describeValue(value)})`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHours = match[10] === undefined ? 0 : Number(match[10]);
  const offsetMinutes = match[11] === undefined ? 0 : Number(match[11]);
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const valid =
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  const millis = Date.parse(value as string);
  if (!valid || Number.isNaN(millis)) {
    throw new BadUserInputError(field, `is not a real date and time; must be ${accepted} (got ${describeValue(value)})`);
  }
  return new Date(millis).toISOString();
}
