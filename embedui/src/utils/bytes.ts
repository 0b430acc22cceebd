// Sizes for people: 1.5 GB, 320 MB, 12 KB (binary steps, the way Windows Explorer shows them).

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** formatBytes renders a byte count with one decimal from MB up; '' for null. */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return ''
  if (n < 1024) return `${Math.max(0, Math.round(n))} B`
  let v = n
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  const digits = i >= 2 && v < 100 ? 1 : 0
  return `${v.toFixed(digits)} ${UNITS[i]}`
}
