import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEnumType } from 'graphql';
import type { ParamSpec, ParamSpecs } from '../src/core/param-checks.ts';
import { acceptedValues, hasFixedDefault } from '../src/core/param-summary.ts';
import { PROJECT_ROOT } from '../src/core/paths.ts';
import { DETECTOR_PARAM_SPECS, ENSEMBLE_MEMBER_SPEC, STATISTICAL_KINDS } from '../src/detectors/params.ts';
import { buildSchema } from '../src/schema/index.ts';
import { STEP_PARAM_SPECS } from '../src/services/step-params.ts';

/**
 * Writes the params tables of docs/api.md from the tables that check params
 * (DETECTOR_PARAM_SPECS, STEP_PARAM_SPECS), so the guide cannot drift from
 * what the API accepts:
 *
 *   node --import tsx scripts/docs-params.ts          rewrite docs/api.md
 *   node --import tsx scripts/docs-params.ts --check  exit 1 when it is stale
 *
 * Each table sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`;
 * test/unit/docs-api.test.ts fails while the committed file is stale.
 */

export const API_DOC = join(PROJECT_ROOT, 'docs', 'api.md');

/** A Markdown table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function code(value: unknown): string {
  return `\`${JSON.stringify(value)}\``;
}

function defaultOf(spec: ParamSpec): string {
  if (spec.required) return '**required**';
  if (hasFixedDefault(spec)) return code(spec.default);
  // No stored default: absent means off, or a default computed from other settings (the meaning says which).
  return '—';
}

function table(specs: ParamSpecs, keys: readonly string[]): string {
  const rows = keys.map((key) => {
    const spec = specs[key]!;
    return `| \`${key}\` | ${cell(acceptedValues(spec))} | ${defaultOf(spec)} | ${cell(spec.description)} |`;
  });
  return ['| setting | accepts | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Settings that several owners share word for word: documented once. */
function sharedKeys(owners: readonly ParamSpecs[]): string[] {
  const [first, ...rest] = owners;
  if (!first) return [];
  return Object.keys(first).filter((key) => rest.every((specs) => specs[key]?.description === first[key]?.description));
}

function enumDescription(typeName: string, value: string): string {
  const type = buildSchema().getType(typeName);
  const text = isEnumType(type) ? type.getValue(value)?.description : undefined;
  return text ?? '';
}

export function renderDetectorParams(): string {
  const statistical = STATISTICAL_KINDS.map((kind) => DETECTOR_PARAM_SPECS[kind]);
  const shared = sharedKeys(statistical);
  const parts = [
    `Settings shared by ${STATISTICAL_KINDS.join(', ')} (each kind's own follow):`,
    '',
    table(statistical[0]!, shared),
  ];
  for (const [kind, specs] of Object.entries(DETECTOR_PARAM_SPECS)) {
    const own = Object.keys(specs).filter((key) => !(STATISTICAL_KINDS as readonly string[]).includes(kind) || !shared.includes(key));
    parts.push('', `#### ${kind}`, '', cell(enumDescription('DetectorKind', kind)), '', table(specs, own));
    if (kind === 'ENSEMBLE') parts.push('', 'Each entry of `members`:', '', table(ENSEMBLE_MEMBER_SPEC, Object.keys(ENSEMBLE_MEMBER_SPEC)));
  }
  return parts.join('\n');
}

export function renderStepParams(): string {
  const all = Object.values(STEP_PARAM_SPECS);
  const shared = sharedKeys(all);
  const parts = ['Every action also accepts:', '', table(all[0]!, shared)];
  for (const [action, specs] of Object.entries(STEP_PARAM_SPECS)) {
    const own = Object.keys(specs).filter((key) => !shared.includes(key));
    parts.push('', `#### ${action}`, '', cell(enumDescription('RunbookAction', action)), '', table(specs, own));
  }
  return parts.join('\n');
}

export const GENERATED_SECTIONS: Readonly<Record<string, () => string>> = {
  'detector-params': renderDetectorParams,
  'step-params': renderStepParams,
};

/** `doc` with every generated section replaced by its current rendering; throws when a marker is missing. */
export function updateApiDoc(doc: string): string {
  let out = doc;
  for (const [name, render] of Object.entries(GENERATED_SECTIONS)) {
    const open = `<!-- generated:${name} (scripts/docs-params.ts) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`docs/api.md lacks the markers ${open} ... ${close}`);
    out = `${out.slice(0, start + open.length)}\n${render()}\n${out.slice(end)}`;
  }
  return out;
}

async function main(): Promise<number> {
  const current = await readFile(API_DOC, 'utf8');
  const updated = updateApiDoc(current);
  if (process.argv.includes('--check')) {
    if (updated === current) return 0;
    console.error('docs/api.md is stale: run node --import tsx scripts/docs-params.ts');
    return 1;
  }
  await writeFile(API_DOC, updated);
  console.log(updated === current ? 'docs/api.md is current' : 'rewrote the params tables of docs/api.md');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
