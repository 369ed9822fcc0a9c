import { GraphQLError, Kind, type ValidationRule } from 'graphql';
import { MAX_PAGE_SIZE } from '../services/pagination.ts';

/**
 * Refuses a literal `first` above the page limit while the query is
 * validated, so the client reads "first must be at most 100" rather than a
 * cost-limit message derived from it. Values passed as variables are checked
 * by the resolvers (parsePage) with the same limit.
 */
export const maxPageSizeRule: ValidationRule = (context) => ({
  Argument(node) {
    if (node.name.value !== 'first' || node.value.kind !== Kind.INT) return;
    const value = Number(node.value.value);
    if (value > MAX_PAGE_SIZE || value < 1) {
      context.reportError(
        new GraphQLError(`first must be from 1 to ${MAX_PAGE_SIZE}, got ${value}`, {
          nodes: [node],
          extensions: { code: 'BAD_USER_INPUT', field: 'first' },
        }),
      );
    }
  },
});
