// Writes dist/.source-hash: a sha256 over the UI sources, so a Go test can tell when
// dist/ is older than the sources it was built from (embed_test.go recomputes it).
//
// Files: index.html, package.json, package-lock.json, vite.config.ts, every tsconfig*.json
// at the top of embedui/, and every file under src/, public/ and scripts/.
// Paths are relative to embedui/ with forward slashes, sorted by plain byte order.
// Hash input per file: path + "\0" + sha256hex(content) + "\n".
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function walk(rel, out) {
  const abs = join(root, rel)
  if (!existsSync(abs)) return
  for (const ent of readdirSync(abs, { withFileTypes: true })) {
    const p = rel + '/' + ent.name
    if (ent.isDirectory()) walk(p, out)
    else if (ent.isFile()) out.push(p)
  }
}

export function sourceFiles() {
  const files = []
  for (const name of ['index.html', 'package.json', 'package-lock.json', 'vite.config.ts']) {
    if (existsSync(join(root, name))) files.push(name)
  }
  for (const ent of readdirSync(root, { withFileTypes: true })) {
    if (ent.isFile() && /^tsconfig.*\.json$/.test(ent.name)) files.push(ent.name)
  }
  for (const dir of ['src', 'public', 'scripts']) walk(dir, files)
  return files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
}

export function sourceHash() {
  const h = createHash('sha256')
  for (const f of sourceFiles()) {
    const fileHash = createHash('sha256').update(readFileSync(join(root, f))).digest('hex')
    h.update(f + '\0' + fileHash + '\n')
  }
  return h.digest('hex')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dist = join(root, 'dist')
  if (!existsSync(dist) || !statSync(dist).isDirectory()) {
    console.error('source-hash: dist/ does not exist; run vite build first')
    process.exit(1)
  }
  const sum = sourceHash()
  writeFileSync(join(dist, '.source-hash'), sum + '\n')
  console.log('source-hash: ' + sum)
}
