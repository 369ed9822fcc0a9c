import { BadUserInputError } from '../../src/core/errors.ts';

/** The BadUserInputError `fn` throws; fails the test if it throws nothing or something else. */
export function badInput(fn: () => unknown): BadUserInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BadUserInputError) return error;
    throw error;
  }
  throw new Error('expected a BadUserInputError, but nothing was thrown');
}
