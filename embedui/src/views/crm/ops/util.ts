// Helpers shared by the CRM operations pages (workbench, traffic log, rules, settings, duplicates, hand-over).
import dayjs from 'dayjs'
import utc from 'dayjs/plugin/utc'
import timezone from 'dayjs/plugin/timezone'
import { labelOr, t } from '@/i18n'

dayjs.extend(utc)
dayjs.extend(timezone)

/** The store time zone when the settings cannot be read (the server's default too). */
export const DEFAULT_TZ = 'Asia/Shanghai'

/** Enum labels live in the "crm" locale section (shared with the customer pages); the code is the last resort. */
export function channelLabel(code: string): string {
  return code ? labelOr('crm.channel.' + code, code) : ''
}

export function stageLabel(code: string): string {
  return code ? labelOr('crm.stage.' + code, code) : ''
}

export function statusLabel(code: string): string {
  return code ? labelOr('crm.status.' + code, code) : ''
}

export function visitLabel(code: string): string {
  return code ? labelOr('crm.visit.' + code, code) : ''
}

/** durationText renders a span as "5 分钟" / "2 小时 10 分" / "3 天" (rounded down, at least 1 minute). */
export function durationText(ms: number): string {
  const minutes = Math.max(1, Math.floor(Math.abs(ms) / 60000))
  if (minutes < 60) return t('crmOps.dur.minutes', { n: minutes })
  const hours = Math.floor(minutes / 60)
  if (hours < 24) {
    const rest = minutes % 60
    return rest ? t('crmOps.dur.hoursMinutes', { h: hours, m: rest }) : t('crmOps.dur.hours', { n: hours })
  }
  const days = Math.floor(hours / 24)
  const restH = hours % 24
  return restH && days < 3 ? t('crmOps.dur.daysHours', { d: days, h: restH }) : t('crmOps.dur.days', { n: days })
}

/** clock renders unix ms as "HH:mm" when on the same local day as ref, else "MM-DD HH:mm". */
export function shortTime(ms: number | null | undefined, ref = Date.now()): string {
  if (!ms) return ''
  const d = dayjs(ms)
  if (d.isSame(dayjs(ref), 'day')) return d.format('HH:mm')
  if (d.isSame(dayjs(ref), 'year')) return d.format('MM-DD HH:mm')
  return d.format('YYYY-MM-DD HH:mm')
}

/** storeDay returns the unix-ms bounds of a calendar day ("YYYY-MM-DD") in the store's time zone. */
export function storeDay(date: string, tz: string): { from: number; to: number } {
  let start: dayjs.Dayjs
  try {
    start = dayjs.tz(date, tz || DEFAULT_TZ)
  } catch {
    start = dayjs(date)
  }
  return { from: start.valueOf(), to: start.add(1, 'day').valueOf() }
}

/** storeToday is today's date ("YYYY-MM-DD") in the store's time zone. */
export function storeToday(tz: string): string {
  try {
    return dayjs().tz(tz || DEFAULT_TZ).format('YYYY-MM-DD')
  } catch {
    return dayjs().format('YYYY-MM-DD')
  }
}

/** percent renders part/whole as a whole-number percentage, '—' when whole is 0. */
export function percent(part: number, whole: number): string {
  if (!whole) return '—'
  return `${Math.round((part * 100) / whole)}%`
}

/** mapLimit runs fn over items with at most n calls in flight (used to read many users' absences). */
export async function mapLimit<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
  return out
}
