import { isEnumType, type GraphQLResolveInfo } from 'graphql';
import type { DetectorKind, RunbookAction } from '../generated/prisma/enums.ts';
import type { ParamSpec, ParamSpecs, ParamType } from '../core/param-checks.ts';
import { acceptedValues, hasFixedDefault } from '../core/param-summary.ts';
import { DETECTOR_PARAM_SPECS, ENSEMBLE_MEMBER_SPEC } from '../detectors/params.ts';
import { STEP_PARAM_SPECS } from '../services/step-params.ts';
import { builder } from './builder.ts';
import { DetectorKindEnum } from './detectors.ts';
import { RunbookActionEnum } from './runbooks.ts';

/**
 * The settings guide of the API: each detector kind's and each runbook
 * action's settings with their meaning, range and default, read from the very
 * tables the mutations check `params` against, so the console and SDK clients
 * can show what a setting means without anyone reading docs or source.
 */

interface NamedSetting {
  name: string;
  spec: ParamSpec;
}

function settingsOf(specs: ParamSpecs): NamedSetting[] {
  return Object.entries(specs).map(([name, spec]) => ({ name, spec }));
}

const SETTING_TYPES = {
  integer: 'INTEGER',
  number: 'NUMBER',
  string: 'STRING',
  enum: 'ENUM',
  url: 'URL',
  'date-time': 'DATE_TIME',
  object: 'OBJECT',
  array: 'ARRAY',
} as const satisfies Record<ParamType, string>;

const SettingTypeEnum = builder.enumType('SettingType', {
  description: 'The JSON shape a setting takes.',
  values: {
    INTEGER: { description: 'A whole number.' },
    NUMBER: { description: 'A number.' },
    STRING: { description: 'A string.' },
    ENUM: { description: 'One of the strings listed in `values`.' },
    URL: { description: 'An http or https URL, as a string (outbound addresses are checked when used too).' },
    DATE_TIME: { description: 'An RFC 3339 date-time, as a string.' },
    OBJECT: { description: 'A JSON object; the description says what it holds.' },
    ARRAY: { description: 'A JSON array; the description says what it holds.' },
  } as const,
});

const SettingRef = builder.objectRef<NamedSetting>('SettingDescription').implement({
  description:
    'One setting of a detector kind or a runbook action: what it means, what it accepts and what is stored when it is left out. Mutations check `params` against the same table.',
  fields: (t) => ({
    name: t.string({ description: 'The key in `params`.', resolve: (s) => s.name }),
    description: t.string({ description: 'What the setting does, and its unit, for people.', resolve: (s) => s.spec.description }),
    type: t.field({ type: SettingTypeEnum, description: 'The JSON shape of its value.', resolve: (s) => SETTING_TYPES[s.spec.type] }),
    accepts: t.string({
      description: 'The values accepted, in one line (e.g. "number > 0, <= 1"); settings with a rule of their own say it in `description`.',
      resolve: (s) => acceptedValues(s.spec),
    }),
    required: t.boolean({ description: 'True when params must give it: there is no sensible default.', resolve: (s) => s.spec.required === true }),
    hasDefault: t.boolean({
      description: 'True when leaving it out stores `default`; false when it is required, or means "off", or is computed from other settings (`description` says which).',
      resolve: (s) => hasFixedDefault(s.spec),
    }),
    default: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The value stored when it is left out, when `hasDefault`; null means "none" there.',
      resolve: (s) => (hasFixedDefault(s.spec) ? (s.spec.default ?? null) : null),
    }),
    nullable: t.boolean({ description: 'True when an explicit null is accepted (meaning "none").', resolve: (s) => s.spec.nullable === true }),
    min: t.float({ nullable: true, description: 'Numbers: the smallest value; strings: the shortest length; null: no lower bound here.', resolve: (s) => s.spec.min ?? null }),
    exclusiveMin: t.boolean({ description: 'True when `min` itself is not accepted (e.g. "> 0").', resolve: (s) => s.spec.exclusiveMin === true }),
    max: t.float({ nullable: true, description: 'Numbers: the largest value; strings: the longest length; null: no upper bound here.', resolve: (s) => s.spec.max ?? null }),
    values: t.stringList({ nullable: true, description: 'ENUM settings: the accepted values; null for other types.', resolve: (s) => s.spec.values ?? null }),
  }),
});

/** An enum value's description as the schema states it (descriptions may be set apart from the enum's definition). */
function enumValueDescription(info: GraphQLResolveInfo, typeName: string, value: string): string {
  const type = info.schema.getType(typeName);
  return (isEnumType(type) ? type.getValue(value)?.description : undefined) ?? '';
}

const DetectorKindDescriptionRef = builder.objectRef<DetectorKind>('DetectorKindDescription').implement({
  description: 'A detector kind and the settings its `params` take.',
  fields: (t) => ({
    kind: t.field({ type: DetectorKindEnum, description: 'The kind.', resolve: (kind) => kind }),
    description: t.string({ description: 'What it detects and how.', resolve: (kind, _a, _c, info) => enumValueDescription(info, 'DetectorKind', kind) }),
    settings: t.field({ type: [SettingRef], description: 'Its settings, in the order they are stored.', resolve: (kind) => settingsOf(DETECTOR_PARAM_SPECS[kind]) }),
    memberSettings: t.field({
      type: [SettingRef],
      nullable: true,
      description: 'ENSEMBLE: the settings of each entry of params.members; null for other kinds.',
      resolve: (kind) => (kind === 'ENSEMBLE' ? settingsOf(ENSEMBLE_MEMBER_SPEC) : null),
    }),
  }),
});

const RunbookActionDescriptionRef = builder.objectRef<RunbookAction>('RunbookActionDescription').implement({
  description: 'A runbook step action and the settings its `params` take.',
  fields: (t) => ({
    action: t.field({ type: RunbookActionEnum, description: 'The action.', resolve: (action) => action }),
    description: t.string({ description: 'What a step of this action does.', resolve: (action, _a, _c, info) => enumValueDescription(info, 'RunbookAction', action) }),
    settings: t.field({ type: [SettingRef], description: 'Its settings, in the order they are stored.', resolve: (action) => settingsOf(STEP_PARAM_SPECS[action]) }),
  }),
});

builder.queryFields((t) => ({
  detectorKinds: t.field({
    type: [DetectorKindDescriptionRef],
    authScopes: { role: 'VIEWER' },
    description: 'Every detector kind with the settings its params take: meaning, accepted values, default. The same table `registerDetector` and `updateDetector` check against. Role: VIEWER.',
    resolve: () => Object.keys(DETECTOR_PARAM_SPECS) as DetectorKind[],
  }),
  runbookActions: t.field({
    type: [RunbookActionDescriptionRef],
    authScopes: { role: 'VIEWER' },
    description: 'Every runbook step action with the settings its params take: meaning, accepted values, default. The same table `registerRunbook` checks against. Role: VIEWER.',
    resolve: () => Object.keys(STEP_PARAM_SPECS) as RunbookAction[],
  }),
}));
