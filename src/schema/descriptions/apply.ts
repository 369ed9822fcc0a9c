import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLArgument,
  type GraphQLEnumValue,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
} from 'graphql';
import { ACCESS_DESCRIPTIONS } from './access.ts';
import { ANOMALY_DESCRIPTIONS } from './anomalies.ts';
import { COMMON_DESCRIPTIONS } from './common.ts';
import { DEAD_LETTER_DESCRIPTIONS } from './dead-letters.ts';
import { DETECTOR_DESCRIPTIONS } from './detectors.ts';
import { HEALTH_DESCRIPTIONS } from './health.ts';
import { INCIDENT_DESCRIPTIONS } from './incidents.ts';
import { RUNBOOK_DESCRIPTIONS } from './runbooks.ts';
import { SILENCE_DESCRIPTIONS } from './silences.ts';
import { SLA_DESCRIPTIONS } from './slas.ts';
import { STREAM_DESCRIPTIONS } from './streams.ts';

/**
 * Descriptions for the schema, kept beside the field definitions rather than
 * in them, keyed by where they go:
 *   'Anomaly'                  a type (object, interface, input, enum, scalar)
 *   'Anomaly.score'            a field or input field
 *   'Query.incidents(first)'   an argument
 *   'Severity.CRITICAL'        an enum value
 * A description given inline in src/schema wins; an object's field without
 * one takes its interface's (so 'Node.id' covers every node's `id`).
 * test/unit/schema-descriptions.test.ts fails on an element left without a
 * description, and on a key that names nothing or that an inline one hides.
 */
export type Descriptions = Readonly<Record<string, string>>;

/** Every domain's map in one; a key written in two files is a mistake, so it throws at load. */
export function mergeDescriptions(...maps: Descriptions[]): Descriptions {
  const merged: Record<string, string> = {};
  for (const map of maps) {
    for (const [key, text] of Object.entries(map)) {
      if (key in merged) throw new Error(`schema description "${key}" is given twice`);
      merged[key] = text;
    }
  }
  return merged;
}

export const DESCRIPTIONS: Descriptions = mergeDescriptions(
  COMMON_DESCRIPTIONS,
  STREAM_DESCRIPTIONS,
  DETECTOR_DESCRIPTIONS,
  ANOMALY_DESCRIPTIONS,
  INCIDENT_DESCRIPTIONS,
  RUNBOOK_DESCRIPTIONS,
  SILENCE_DESCRIPTIONS,
  SLA_DESCRIPTIONS,
  DEAD_LETTER_DESCRIPTIONS,
  HEALTH_DESCRIPTIONS,
  ACCESS_DESCRIPTIONS,
);

/** One element of a schema that can carry a description. */
export interface DescribedElement {
  /** Its key in a descriptions map. */
  key: string;
  /** Keys to take a description from when its own has none (the same field of an interface it implements). */
  fallbacks: string[];
  target: { description?: string | null | undefined };
}

type AnyField = GraphQLField<unknown, unknown> | GraphQLInputField;

/**
 * Every type, field, argument, input field and enum value of `schema` that
 * Vigil defines (GraphQL's own scalars and introspection types excluded), in
 * a stable order.
 */
export function describedElements(schema: GraphQLSchema): DescribedElement[] {
  const elements: DescribedElement[] = [];
  const types = Object.values(schema.getTypeMap())
    .filter((type) => !isIntrospectionType(type) && !isSpecifiedScalarType(type))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const type of types) {
    elements.push({ key: type.name, fallbacks: [], target: type });
    if (isEnumType(type)) {
      for (const value of type.getValues()) elements.push(enumValueElement(type.name, value));
      continue;
    }
    if (!isObjectType(type) && !isInterfaceType(type) && !isInputObjectType(type)) continue;
    const interfaces = isInputObjectType(type) ? [] : type.getInterfaces().map((i) => i.name);
    for (const field of Object.values(type.getFields()) as AnyField[]) {
      const key = `${type.name}.${field.name}`;
      elements.push({ key, fallbacks: interfaces.map((i) => `${i}.${field.name}`), target: field });
      for (const arg of 'args' in field ? field.args : []) elements.push(argumentElement(key, interfaces, field.name, arg));
    }
  }
  return elements;
}

function enumValueElement(typeName: string, value: GraphQLEnumValue): DescribedElement {
  return { key: `${typeName}.${value.name}`, fallbacks: [], target: value };
}

function argumentElement(fieldKey: string, interfaces: string[], fieldName: string, arg: GraphQLArgument): DescribedElement {
  return { key: `${fieldKey}(${arg.name})`, fallbacks: interfaces.map((i) => `${i}.${fieldName}(${arg.name})`), target: arg };
}

/**
 * Sets the description of every element that has none, from `descriptions`
 * (or, failing that, from the interface field it implements). Descriptions
 * given inline in src/schema are kept. Changes `schema` in place and returns it.
 */
export function describeSchema(schema: GraphQLSchema, descriptions: Descriptions = DESCRIPTIONS): GraphQLSchema {
  const elements = describedElements(schema);
  const described = new Map<string, string>();
  // Inline ones first, so an interface field described inline passes its text on too.
  for (const element of elements) {
    if (element.target.description) described.set(element.key, element.target.description);
  }
  for (const element of elements) {
    if (element.target.description) continue;
    const text = [element.key, ...element.fallbacks]
      .map((key) => descriptions[key] ?? described.get(key))
      .find((candidate) => candidate !== undefined && candidate !== '');
    if (text === undefined) continue;
    element.target.description = text;
    described.set(element.key, text);
  }
  return schema;
}
