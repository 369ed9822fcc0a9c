import { readFileSync } from 'node:fs';
import { isEnumType, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { API_DOC, updateApiDoc } from '../../scripts/docs-params.ts';
import { KNOWN_CODES } from '../../src/schema/errors.ts';
import { buildSchema } from '../../src/schema/index.ts';

/** The API guide (docs/api.md) says what the code does: its tables are generated, and it names every objective, code and mutation. */
const doc = readFileSync(API_DOC, 'utf8');

function enumValues(schema: GraphQLSchema, name: string): string[] {
  const type = schema.getType(name);
  if (!isEnumType(type)) throw new Error(`${name} is not an enum of the schema`);
  return type.getValues().map((value) => value.name);
}

/** The text of a `## heading` section, up to the next one. */
function section(heading: string): string {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/api.md has no "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/api.md', () => {
  const schema = buildSchema();

  it('has the params tables of the current detector and step specs (run `node --import tsx scripts/docs-params.ts`)', () => {
    expect(updateApiDoc(doc)).toBe(doc);
  });

  it('documents every detector kind and step action', () => {
    for (const kind of enumValues(schema, 'DetectorKind')) expect(doc).toContain(`#### ${kind}\n`);
    for (const action of enumValues(schema, 'RunbookAction')) expect(doc).toContain(`#### ${action}\n`);
  });

  it('says what the threshold of every SLA objective means', () => {
    const slas = section('SLAs');
    const missing = enumValues(schema, 'SlaObjective').filter((objective) => !slas.includes(`| \`${objective}\` |`));
    expect(missing, 'objectives without a row in the SLA table').toEqual([]);
  });

  it('explains every error code', () => {
    const errors = section('Errors');
    const missing = [...KNOWN_CODES].filter((code) => !errors.includes(`| \`${code}\` |`));
    expect(missing, 'error codes without a row in the Errors table').toEqual([]);
  });

  it('says which role may call every mutation', () => {
    const roles = section('Authentication and roles');
    const mutations = Object.keys(schema.getMutationType()?.getFields() ?? {});
    const missing = mutations.filter((name) => !roles.includes(`\`${name}\``));
    expect(missing, 'mutations the roles table of docs/api.md does not name').toEqual([]);
  });
});
