import { buildSchema as buildSdl, type GraphQLEnumType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema/index.ts';
import { DESCRIPTIONS, describedElements, describeSchema, mergeDescriptions } from '../../src/schema/descriptions/apply.ts';

/**
 * Every type, field, argument, input field and enum value of the schema has a
 * description, so GraphiQL and the generated SDK document the whole API. A
 * new field fails here by name: describe it inline or in
 * src/schema/descriptions/<domain>.ts under its key ('Type.field',
 * 'Type.field(arg)', 'Enum.VALUE').
 */
const HOW_TO_FIX = 'add them to src/schema/descriptions/<domain>.ts (keys: Type, Type.field, Type.field(arg), Enum.VALUE)';

function undescribed(schema: GraphQLSchema): string[] {
  return describedElements(schema)
    .filter((element) => !element.target.description?.trim())
    .map((element) => element.key);
}

describe('schema descriptions', () => {
  const schema = buildSchema();
  const keys = new Set(describedElements(schema).map((element) => element.key));

  it('describe every type, field, argument, input field and enum value', () => {
    const missing = undescribed(schema);
    expect(missing, `${missing.length} schema elements have no description; ${HOW_TO_FIX}:\n${missing.join('\n')}`).toEqual([]);
  });

  it('name only elements that exist (no stale keys)', () => {
    const stale = Object.keys(DESCRIPTIONS).filter((key) => !keys.has(key));
    expect(stale, `descriptions for elements the schema does not have (renamed or removed? fix or delete them):\n${stale.join('\n')}`).toEqual([]);
  });

  it('are not hidden by an inline description (the map text would never show)', () => {
    const byKey = new Map(describedElements(schema).map((element) => [element.key, element.target.description]));
    const hidden = Object.entries(DESCRIPTIONS)
      .filter(([key, text]) => byKey.has(key) && byKey.get(key) !== text)
      .map(([key]) => key);
    expect(hidden, `these keys are described inline in src/schema too, and inline wins; delete them from the map:\n${hidden.join('\n')}`).toEqual([]);
  });

  it('are non-empty sentences', () => {
    const bad = Object.entries(DESCRIPTIONS)
      .filter(([, text]) => typeof text !== 'string' || text.trim() === '' || !/[.)]$/.test(text.trim()))
      .map(([key]) => key);
    expect(bad, `empty, or not ending with a full stop:\n${bad.join('\n')}`).toEqual([]);
  });
});

describe('describeSchema', () => {
  const sdl = `
    interface Node { id: ID! }
    enum Level { LOW HIGH }
    type Thing implements Node { id: ID! "inline" size(unit: String): Int level: Level }
    type Query { thing(id: ID!): Thing }
  `;

  it('fills in what has no description, keeps inline ones, and inherits interface fields', () => {
    const schema = describeSchema(buildSdl(sdl), {
      Node: 'Has an id.',
      'Node.id': 'The id.',
      'Thing.size': 'ignored: inline wins',
      'Thing.size(unit)': 'The unit.',
      'Level.HIGH': 'High.',
    });
    const thing = schema.getType('Thing') as GraphQLObjectType;
    expect(thing.getFields().id?.description).toBe('The id.');
    expect(thing.getFields().size?.description).toBe('inline');
    expect(thing.getFields().size?.args[0]?.description).toBe('The unit.');
    expect((schema.getType('Level') as GraphQLEnumType).getValue('HIGH')?.description).toBe('High.');
  });

  it('leaves what the map does not cover undescribed, so the check above has teeth', () => {
    const schema = describeSchema(buildSdl(sdl), { 'Node.id': 'The id.' });
    expect(undescribed(schema)).toEqual([
      'Level',
      'Level.LOW',
      'Level.HIGH',
      'Node',
      'Query',
      'Query.thing',
      'Query.thing(id)',
      'Thing',
      'Thing.size(unit)',
      'Thing.level',
    ]);
  });

  it('refuses a key given in two domain files', () => {
    expect(() => mergeDescriptions({ 'Query.x': 'a.' }, { 'Query.x': 'b.' })).toThrow('"Query.x" is given twice');
  });
});
