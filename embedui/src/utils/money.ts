// Money is integer fen on the wire (1 元 = 100 fen). Budgets and prices are shown and entered in
// 万元 (10,000 元) the way dealership staff talk about them, or in 元 with thousands separators.

export const FEN_PER_YUAN = 100
export const FEN_PER_WAN = 1_000_000

/** fenToWan turns fen into 万元 (a number; 2 decimals at most). */
export function fenToWan(fen: number | null | undefined): number | null {
  if (fen == null || !Number.isFinite(fen)) return null
  return Math.round((fen / FEN_PER_WAN) * 100) / 100
}

/** wanToFen turns 万元 (as typed, possibly with decimals) into integer fen; 0 for empty. */
export function wanToFen(wan: number | null | undefined): number {
  if (wan == null || !Number.isFinite(wan)) return 0
  return Math.round(wan * FEN_PER_WAN)
}

/** yuanToFen turns 元 into integer fen; 0 for empty. */
export function yuanToFen(yuan: number | null | undefined): number {
  if (yuan == null || !Number.isFinite(yuan)) return 0
  return Math.round(yuan * FEN_PER_YUAN)
}

function trimNumber(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.?0+$/, '')
}

/** formatWan renders fen as "15.8" (万元, without the unit); '' for 0/empty. */
export function formatWan(fen: number | null | undefined): string {
  if (!fen) return ''
  return trimNumber(fen / FEN_PER_WAN, 2)
}

/** formatYuan renders fen as "158,000" or "158,000.50" (元, without the unit). */
export function formatYuan(fen: number | null | undefined): string {
  if (fen == null) return ''
  const yuan = fen / FEN_PER_YUAN
  return yuan.toLocaleString('zh-CN', { minimumFractionDigits: fen % 100 === 0 ? 0 : 2, maximumFractionDigits: 2 })
}

/**
 * formatBudget renders a range in 万元: "15–20", "15 以上" style bounds are left to the caller's
 * labels; returns { min, max } strings ('' when unset) so the text can be translated.
 */
export function budgetParts(minFen: number, maxFen: number): { min: string; max: string } {
  return { min: formatWan(minFen), max: formatWan(maxFen) }
}

// ---- exact yuan ⇄ fen (integers only: no float ever touches an amount) ----

/** groupThousands puts commas into a string of digits: "1234567" → "1,234,567". */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * formatFen renders integer fen as "¥123,456.78"; whole yuan as "¥123,456" unless cents is true.
 * '' for null/undefined.
 */
export function formatFen(fen: number | null | undefined, cents = false): string {
  if (fen == null || !Number.isInteger(fen)) return ''
  const abs = Math.abs(fen)
  const yuan = groupThousands(String(Math.trunc(abs / 100)))
  const rest = abs % 100
  const tail = rest || cents ? '.' + String(rest).padStart(2, '0') : ''
  return (fen < 0 ? '-¥' : '¥') + yuan + tail
}

/** fenToYuanInput renders fen for an input box: "123456.78", "123456" (no separators); '' for null. */
export function fenToYuanInput(fen: number | null | undefined): string {
  if (fen == null || !Number.isInteger(fen)) return ''
  const rest = Math.abs(fen) % 100
  return (fen < 0 ? '-' : '') + String(Math.trunc(Math.abs(fen) / 100)) + (rest ? '.' + String(rest).padStart(2, '0') : '')
}

/**
 * parseYuanToFen reads a typed yuan amount ("123,456.78", "¥ 98000", "0.5") into integer fen by
 * string arithmetic. null when it is not a non-negative amount with at most 2 decimals (or is empty).
 */
export function parseYuanToFen(text: string): number | null {
  const s = text.replace(/[,，\s¥￥元]/g, '')
  const m = /^(\d{1,12})(?:\.(\d{0,2}))?$/.exec(s)
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}
