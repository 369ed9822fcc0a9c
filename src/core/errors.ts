/**
 * Expected failures of the domain, each with the contract's error code. They
 * know nothing of GraphQL: the gateway maps them to GraphQLErrors with
 * extensions.code (and extensions.field); anything else is masked as INTERNAL.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL';

export class VigilError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'VigilError';
  }
}

/** The input at `field` (a path like "input.valueFields[1]") is wrong; nothing was written. */
export class BadUserInputError extends VigilError {
  constructor(field: string, message: string) {
    super('BAD_USER_INPUT', `${field}: ${message}`, field);
    this.name = 'BadUserInputError';
  }
}

export class NotFoundError extends VigilError {
  constructor(what: string, id: string, field?: string) {
    super('NOT_FOUND', `${what} ${JSON.stringify(id)} not found`, field);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends VigilError {
  constructor(message: string, field?: string) {
    super('CONFLICT', message, field);
    this.name = 'ConflictError';
  }
}

export class UnauthenticatedError extends VigilError {
  constructor(
    message = 'an API key is required: send "Authorization: Bearer <secret>"',
    /** The key that was presented, when it is known but revoked: the audit log names it. */
    readonly keyId?: string,
  ) {
    super('UNAUTHENTICATED', message);
    this.name = 'UnauthenticatedError';
  }
}

export class ForbiddenError extends VigilError {
  constructor(message: string) {
    super('FORBIDDEN', message);
    this.name = 'ForbiddenError';
  }
}

/** Too many requests (or failed authentications) for now; the caller may try again after `retryAfterSeconds`. */
export class RateLimitedError extends VigilError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('RATE_LIMITED', `${message}; retry after ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}

/** Prisma's unique-constraint violation, which a concurrent duplicate can still hit after our own check. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}
