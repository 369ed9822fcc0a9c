import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, wherever the process was started from (npx vigil runs from any directory). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
