import { buildFile } from './helpers.ts';
const r = await buildFile(process.argv[2]);
console.log(r.diagnostics);
for (const s of r.emitted?.stages ?? []) if (!process.argv[3] || s.fileName === process.argv[3]) console.log('=====', s.fileName, '\n' + s.code);
