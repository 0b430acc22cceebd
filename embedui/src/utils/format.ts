// Display helpers shared by the pages.
import dayjs from 'dayjs'

/** formatTime renders unix milliseconds as local date and time; '' for empty. */
export function formatTime(ms: number | null | undefined): string {
  if (!ms) return ''
  return dayjs(ms).format('YYYY-MM-DD HH:mm')
}

export function formatTimeSeconds(ms: number | null | undefined): string {
  if (!ms) return ''
  return dayjs(ms).format('YYYY-MM-DD HH:mm:ss')
}

/** CN_MOBILE matches an 11-digit mainland mobile number. */
export const CN_MOBILE = /^1[3-9]\d{9}$/

/** copyText copies to the clipboard; works on plain-HTTP LAN addresses where navigator.clipboard is missing. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    /* fall through to the old way */
  }
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.style.position = 'fixed'
  ta.style.opacity = '0'
  document.body.appendChild(ta)
  ta.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  document.body.removeChild(ta)
  return ok
}

/** randomPassword makes a temporary password with all four character classes. */
export function randomPassword(length = 12): string {
  const sets = ['abcdefghijkmnpqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '!#%+-=?']
  const all = sets.join('')
  const rnd = (n: number) => {
    const a = new Uint32Array(1)
    crypto.getRandomValues(a)
    return a[0]! % n
  }
  const chars = sets.map((s) => s[rnd(s.length)]!)
  while (chars.length < length) chars.push(all[rnd(all.length)]!)
  for (let i = chars.length - 1; i > 0; i--) {
    const j = rnd(i + 1)
    ;[chars[i], chars[j]] = [chars[j]!, chars[i]!]
  }
  return chars.join('')
}
