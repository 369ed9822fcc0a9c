import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.ts';
import { classifyError, oneLine } from '../../src/stream/error-class.ts';

/**
 * Errors shaped as Prisma 7 with the pg driver adapter really throws them
 * (recorded against PostgreSQL 16): the SQLSTATE sits in
 * meta.driverAdapterError.cause, and P2010 ("raw query failed") wraps any of them.
 */
function prismaError(code: string, cause: Record<string, unknown>, message = 'Invalid `tx.incident.create()` invocation in\n/src/x.ts:1:1\n\n→ 1 await tx.incident.create(\nDatabase error.') {
  return new Prisma.PrismaClientKnownRequestError(message, {
    code,
    clientVersion: '7.10.0',
    meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
  });
}

const postgres = (sqlState: string, message: string, kind = 'postgres') => ({
  originalCode: sqlState,
  originalMessage: message,
  kind,
  ...(kind === 'postgres' ? { code: sqlState, severity: 'ERROR', message } : {}),
});

describe('classifyError: what retrying cannot fix', () => {
  it.each([
    ['index row too large (54000), the operator report', prismaError('P2039', postgres('54000', 'index row requires 100024 bytes, maximum size is 8191'))],
    ['invalid byte sequence (22021)', prismaError('P2010', postgres('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))],
    ['value too long for a column (22001)', prismaError('P2000', postgres('22001', 'value too long for type character varying(10)', 'LengthMismatch'))],
    ['invalid input syntax (22P02)', prismaError('P2010', postgres('22P02', 'invalid input syntax for type integer: "x"', 'InvalidInputValue'))],
    ['unique violation (23505)', prismaError('P2002', postgres('23505', 'duplicate key value violates unique constraint', 'UniqueConstraintViolation'))],
    ['foreign key violation (23503)', prismaError('P2003', postgres('23503', 'insert or update violates foreign key constraint', 'ForeignKeyConstraintViolation'))],
    ['a node-postgres error reaching us unwrapped', Object.assign(new Error('value out of range for type integer'), { code: '22003' })],
    ['Prisma P2000 without an adapter cause', new Prisma.PrismaClientKnownRequestError('The provided value for the column is too long', { code: 'P2000', clientVersion: '7' })],
    ['Prisma refusing the arguments', new Prisma.PrismaClientValidationError('Argument `value`: Invalid value provided.', { clientVersion: '7' })],
  ])('%s is not retriable', (_, error) => {
    expect(classifyError(error).retriable).toBe(false);
  });

  it.each([
    ['serialization failure (40001)', prismaError('P2010', postgres('40001', '40001', 'TransactionWriteConflict'))],
    ['deadlock (40P01)', prismaError('P2034', postgres('40P01', 'deadlock detected', 'TransactionWriteConflict'))],
    ['server shutting down (57P01)', prismaError('P2010', postgres('57P01', 'terminating connection due to administrator command'))],
    ['statement timeout (57014)', prismaError('P2010', postgres('57014', 'canceling statement due to statement timeout'))],
    ['too many connections (53300)', prismaError('P2010', postgres('53300', 'sorry, too many clients already'))],
    ['a missing table (42P01): a deployment fault, not the event', prismaError('P2010', postgres('42P01', 'relation "Incident" does not exist', 'TableDoesNotExist'))],
    ['database unreachable', prismaError('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }, "Can't reach database server")],
    ['connection closed', prismaError('P1017', { kind: 'ConnectionClosed' }, 'Server has closed the connection.')],
    ['an expired interactive transaction', new Prisma.PrismaClientKnownRequestError('Transaction already closed: expired', { code: 'P2028', clientVersion: '7' })],
    ['pool exhaustion', new Prisma.PrismaClientKnownRequestError('Timed out fetching a new connection', { code: 'P2024', clientVersion: '7' })],
    ['an error we do not know', new TypeError('cannot read properties of undefined')],
    ['something thrown that is no Error', 'boom'],
  ])('%s is retriable', (_, error) => {
    expect(classifyError(error).retriable).toBe(true);
  });

  it('names the database error in one line, without the calling code Prisma quotes', () => {
    const verdict = classifyError(prismaError('P2039', postgres('54000', 'index row requires 100024 bytes, maximum size is 8191')));
    expect(verdict.reason).toBe('PostgreSQL 54000: index row requires 100024 bytes, maximum size is 8191');
    const bare = classifyError(new Prisma.PrismaClientKnownRequestError('Invalid `x()` invocation:\n\n  → 1 x(\nThe provided value is too long', { code: 'P2000', clientVersion: '7' }));
    expect(bare.reason).toBe('Prisma P2000: The provided value is too long');
  });

  it('keeps a reason short and on one line', () => {
    expect(oneLine('a\n  b\tc')).toBe('a b c');
    const long = oneLine('x'.repeat(1000));
    expect(long).toHaveLength(300);
    expect(long.endsWith('…')).toBe(true);
  });
});
