// web/build.mjs: bundles the page with esbuild into web/dist (what
// "make install" installs): app.js (the ES modules of web/src with
// postgrest-js, minified) and a chunk with the parts of ECharts the charts
// import (loaded when a chart is drawn, so the first paint does not wait
// for it), a gzip twin of each (restmon-http sends it to clients that take
// gzip), and index.html and style.css as they are.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  metafile: true,
  entryPoints: { app: join(here, 'src/main.js') },
  outdir: out,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(here, 'style.css'), join(out, 'style.css'));
// index.html, with the chunks app.js imports preloaded (one round trip
// fewer before the first paint)
const app = Object.entries(result.metafile.outputs)
  .find(([, o]) => o.entryPoint === 'web/src/main.js' || o.entryPoint?.endsWith('/src/main.js'))[1];
const preload = app.imports.filter((i) => i.kind === 'import-statement')
  .map((i) => `<link rel="modulepreload" href="${i.path.split('/').pop()}">`).join('\n');
writeFileSync(join(out, 'index.html'), readFileSync(join(here, 'index.html'), 'utf8')
  .replace('<script type="module" src="app.js"></script>',
    `<script type="module" src="app.js"></script>\n${preload}`));
for (const f of readdirSync(out).filter((f) => /\.(js|css)$/.test(f)))
  writeFileSync(join(out, f + '.gz'),
    gzipSync(readFileSync(join(out, f)), { level: 9 }));
