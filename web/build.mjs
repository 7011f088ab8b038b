// web/build.mjs: bundles the page with esbuild into web/dist (what
// "make install" installs): app.js (the ES modules of web/src with
// postgrest-js and the parts of ECharts they import, minified), its gzip
// twin app.js.gz (restmon-http sends it to clients that take gzip), and
// index.html and style.css as they are.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src/main.js')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css'])
  copyFileSync(join(here, f), join(out, f));
for (const f of ['app.js', 'style.css'])
  writeFileSync(join(out, f + '.gz'),
    gzipSync(readFileSync(join(out, f)), { level: 9 }));
