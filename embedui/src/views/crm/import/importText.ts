// Labels the import pages share: fields, statuses, outcomes and the reason of a report row.
import { errorText, labelOr, t } from '@/i18n'
import type { ImportOutcome, ImportRow, ImportStatus } from '@/api/crmImport'

export const importFieldLabel = (f: string) => labelOr('crmImport.field.' + f, f)
export const importStatusLabel = (s: ImportStatus) => labelOr('crmImport.status.' + s, s)
export const outcomeLabel = (o: ImportOutcome) => labelOr('crmImport.outcome.' + o, o)

type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export function importStatusTag(s: ImportStatus): TagType {
  switch (s) {
    case 'done':
      return 'success'
    case 'failed':
      return 'danger'
    case 'running':
    case 'queued':
      return 'primary'
    case 'cancelled':
      return 'info'
    default:
      return 'warning'
  }
}

export function outcomeTag(o: ImportOutcome): TagType {
  if (o === 'attached') return 'success'
  if (o === 'duplicate_in_file') return 'warning'
  return 'danger'
}

/** reasonText says why a row was not imported: "手机号：手机号格式不正确…；意向级别：…". */
export function reasonText(r: ImportRow): string {
  if (r.outcome === 'attached') return t('crmImport.outcome.attached')
  const parts: string[] = []
  for (const [field, fe] of Object.entries(r.errors ?? {})) {
    const msg = errorText(fe.code, fe.params ?? {}) || fe.code
    parts.push(field === 'row' ? msg : t('common.kv', { k: importFieldLabel(field), v: msg }))
  }
  return parts.join('；')
}

/** elapsedText shows a duration in ms as m:ss (or h:mm:ss). */
export function elapsedText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}
