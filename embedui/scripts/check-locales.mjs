// Checks that every literal i18n key used in src/ (t('a.b'), labelOr('a.b', …)) exists in both
// locale files, and that both files carry the same keys. Run: node scripts/check-locales.mjs
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const load = (n) => JSON.parse(readFileSync(join(root, 'src/locales', n + '.json'), 'utf8'))
const flat = (o, p = '', out = new Map()) => {
  for (const [k, v] of Object.entries(o)) {
    const key = p ? p + '.' + k : k
    if (v && typeof v === 'object') flat(v, key, out)
    else out.set(key, v)
  }
  return out
}
const zh = flat(load('zh-CN'))
const en = flat(load('en'))

const files = []
const walk = (d) => {
  for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
    const p = d + '/' + e.name
    if (e.isDirectory()) walk(p)
    else if (/\.(ts|vue)$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(p)
  }
}
walk('src')

const used = new Set()
const re = /\b(?:t|labelOr|errorText)\(\s*'([a-zA-Z0-9_.]+)'/g
const reAttr = /(?:title|label|unit):\s*'((?:menu|securityPage|setup|login|password|home|profile|notFound)\.[a-zA-Z0-9_.]+)'/g
for (const f of files) {
  const src = readFileSync(join(root, f), 'utf8')
  for (const m of src.matchAll(re)) used.add(m[1])
  for (const m of src.matchAll(reAttr)) used.add(m[1])
}
let bad = 0
for (const k of [...used].sort()) {
  if (k.endsWith('.')) continue
  for (const [name, m] of [['zh-CN', zh], ['en', en]]) {
    if (!m.has(k) && !m.has(k + '._')) {
      console.log(`missing in ${name}: ${k}`)
      bad++
    }
  }
}
for (const k of zh.keys()) if (!en.has(k)) (console.log('only in zh-CN: ' + k), bad++)
for (const k of en.keys()) if (!zh.has(k)) (console.log('only in en: ' + k), bad++)
for (const [k, v] of [...zh, ...en]) {
  if (typeof v === 'string' && /[@|]/.test(v)) (console.log(`reserved vue-i18n character in ${k}: ${v}`), bad++)
}
console.log(`${used.size} keys used, ${zh.size} messages; ${bad} problems`)
process.exit(bad ? 1 : 0)
