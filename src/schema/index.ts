import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import { describeSchema } from './descriptions/apply.ts';
import './common.ts';
import './streams.ts';
import './detectors.ts';
import './slas.ts';
import './runbooks.ts';
import './anomalies.ts';
import './incidents.ts';
import './dead-letters.ts';
import './health.ts';
import './access.ts';
import './postmortem.ts';
import './series.ts';
import './settings.ts';
import './silences.ts';
import './lifecycle.ts';
import './lifecycle-fields.ts';

let built: GraphQLSchema | undefined;

/** The GraphQL schema, built once per process from the domain files above. */
export function buildSchema(): GraphQLSchema {
  built ??= describeSchema(builder.toSchema());
  return built;
}

/** The SDL committed as schema.graphql (sorted, so diffs show real changes only). */
export function printVigilSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
