/**
 * Whether waiting and trying the same write again can succeed. A batch that
 * fails for a reason retrying cannot fix (a value PostgreSQL refuses) must
 * not be retried for ever: the event behind it becomes a dead letter and the
 * partition moves on. Anything else (a lost connection, a conflict with
 * another transaction, a timeout, an error we do not recognise) is retried
 * with backoff: wrongly dead-lettering good events would lose them, while
 * wrongly waiting only delays one partition.
 */
export type ErrorClass = { retriable: true; reason: string } | { retriable: false; reason: string };

/**
 * SQLSTATE classes caused by the data written, so the same event fails the
 * same way on every attempt: 22 data exception (value too long, invalid byte
 * sequence, out of range), 23 integrity constraint violation, 54 program
 * limit exceeded (index row too large).
 */
const DATA_SQLSTATE_CLASSES = new Set(['22', '23', '54']);

/** Driver-adapter error kinds (Prisma 7) that name a data problem without a SQLSTATE. */
const DATA_ERROR_KINDS = new Set([
  'LengthMismatch',
  'UniqueConstraintViolation',
  'NullConstraintViolation',
  'ForeignKeyConstraintViolation',
  'RestrictViolation',
  'ValueOutOfRange',
  'InvalidInputValue',
  'InconsistentColumnData',
]);

/**
 * Prisma request errors about the values sent: P2000 value too long, P2002
 * unique, P2003 foreign key, P2004 constraint, P2005-P2007 invalid value,
 * P2011 null constraint, P2019 input error, P2020 out of range, P2033 number
 * too large. (P2010, "raw query failed", wraps any database error: its
 * SQLSTATE decides.)
 */
const DATA_PRISMA_CODES = new Set(['P2000', 'P2002', 'P2003', 'P2004', 'P2005', 'P2006', 'P2007', 'P2011', 'P2019', 'P2020', 'P2033']);

/** Longest reason kept: a dead letter's reason is one line for a person. */
const MAX_REASON_LENGTH = 300;

interface DatabaseErrorParts {
  sqlState: string | undefined;
  kind: string | undefined;
  prismaCode: string | undefined;
  message: string;
}

type Loose = Record<string, unknown> | undefined;

function asRecord(value: unknown): Loose {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The SQLSTATE, adapter kind, Prisma code and database message, wherever Prisma or node-postgres put them. */
export function databaseErrorParts(error: unknown): DatabaseErrorParts {
  const top = asRecord(error);
  const adapterError = asRecord(asRecord(top?.meta)?.driverAdapterError) ?? (top?.name === 'DriverAdapterError' ? top : undefined);
  const cause = asRecord(adapterError?.cause);
  const ownCode = text(top?.code);
  // Prisma's own codes (P1000-P6999) look like SQLSTATEs (P0001 is PL/pgSQL's): the error's class tells them apart.
  const fromPrisma = typeof top?.name === 'string' && top.name.startsWith('PrismaClient');
  const prismaCode = fromPrisma && ownCode && /^P\d{4}$/.test(ownCode) ? ownCode : undefined;
  // node-postgres puts the SQLSTATE in `code` itself (a DatabaseError reaching us unwrapped).
  const pgCode = !fromPrisma && ownCode && /^[0-9A-Z]{5}$/.test(ownCode) ? ownCode : undefined;
  const sqlState = text(cause?.originalCode) ?? (cause?.kind === 'postgres' ? text(cause.code) : undefined) ?? pgCode;
  const message = text(cause?.originalMessage) ?? text(cause?.message) ?? text(top?.message) ?? String(error);
  return { sqlState, kind: text(cause?.kind), prismaCode, message };
}

/** One line, at most MAX_REASON_LENGTH characters: Prisma's messages span lines and quote the calling code. */
export function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_REASON_LENGTH ? line : `${line.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

/** Classifies an error thrown while committing a batch (see ErrorClass). */
export function classifyError(error: unknown): ErrorClass {
  const { sqlState, kind, prismaCode, message } = databaseErrorParts(error);
  if (sqlState) {
    const reason = oneLine(`PostgreSQL ${sqlState}: ${message}`);
    return { retriable: !DATA_SQLSTATE_CLASSES.has(sqlState.slice(0, 2)), reason };
  }
  if (kind && DATA_ERROR_KINDS.has(kind)) return { retriable: false, reason: oneLine(`database refused a value (${kind}): ${message}`) };
  if (prismaCode) {
    const reason = oneLine(`Prisma ${prismaCode}: ${lastLine(message)}`);
    return { retriable: !DATA_PRISMA_CODES.has(prismaCode), reason };
  }
  // Prisma refusing the arguments it was given: the same values are refused every time.
  if (asRecord(error)?.name === 'PrismaClientValidationError') return { retriable: false, reason: oneLine(`Prisma refused the values: ${lastLine(message)}`) };
  return { retriable: true, reason: oneLine(message) };
}

/** Prisma's message ends with the cause, after lines that show the calling code. */
function lastLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.at(-1) ?? message;
}
