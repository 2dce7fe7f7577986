/** Reads a file of templates/ and fills its `{{NAME}}` placeholders; a placeholder without a value is an internal error. */
import fs from 'node:fs';
import path from 'node:path';
import { pipecRoot } from '../../host.ts';

/** `templates/<name>` with every `{{KEY}}` replaced by `values[KEY]`. */
export function template(name: string, values: Record<string, string>): string {
  const text = fs.readFileSync(path.join(pipecRoot, 'templates', name), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    if (!(key in values)) throw new Error(`internal: template ${name} needs {{${key}}}`);
    return values[key];
  });
}
