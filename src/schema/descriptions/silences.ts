import type { Descriptions } from './apply.ts';
import { pageArgs } from './common.ts';

export const SILENCE_DESCRIPTIONS: Descriptions = {
  ...pageArgs('Query.silences'),
};
