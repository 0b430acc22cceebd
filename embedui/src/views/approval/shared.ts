// Labels and formatting the approval pages share, and the inbox count the menu and pages show.
import { ref } from 'vue'
import dayjs from 'dayjs'
import { labelOr, t } from '@/i18n'
import { approvalApi, type DocTypeInfo, type FieldInfo, type Instance } from '@/api/approval'

/** docTypeLabel names a document type: approval.docType.<type> (dots nest: crm.lost → docType.crm.lost). */
export function docTypeLabel(type: string): string {
  return labelOr('approval.docType.' + type, type)
}

export function statusLabel(s: string): string {
  return labelOr('approval.status.' + s, s)
}

export function statusTagType(s: string): 'warning' | 'success' | 'danger' | 'info' {
  switch (s) {
    case 'pending':
    case 'waiting':
      return 'warning'
    case 'approved':
      return 'success'
    case 'rejected':
    case 'returned':
      return 'danger'
  }
  return 'info'
}

export function fieldLabel(f: FieldInfo): string {
  return f.label ? labelOr(f.label, f.key) : labelOr('approval.field.' + f.key, f.key)
}

export function optionLabel(f: FieldInfo, v: string): string {
  return f.optionLabel ? labelOr(`${f.optionLabel}.${v}`, v) : v
}

/** yuan renders fen as ¥1,234.50. */
export function yuan(fen: number): string {
  return '¥' + (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

/** fieldValue renders one value of a document field by its type. */
export function fieldValue(f: FieldInfo | undefined, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—'
  if (Array.isArray(v)) return v.map((x) => fieldValue(f, x)).join(t('approval.listSep'))
  if (f?.type === 'money' && typeof v === 'number') return yuan(v)
  if (f?.type === 'percent' && typeof v === 'number') return (v / 100).toFixed(2).replace(/\.?0+$/, '') + '%'
  if (f?.type === 'enum' && typeof v === 'string') return optionLabel(f, v)
  return String(v)
}

/** keyFields lists an instance's fields in the order its type declares them, with labels. */
export function keyFields(inst: Pick<Instance, 'docType' | 'fields'>, types: Map<string, DocTypeInfo>, max = 4): { key: string; label: string; value: string }[] {
  const info = types.get(inst.docType)
  const out: { key: string; label: string; value: string }[] = []
  const seen = new Set<string>()
  for (const f of info?.fields ?? []) {
    if (!(f.key in inst.fields)) continue
    seen.add(f.key)
    out.push({ key: f.key, label: fieldLabel(f), value: fieldValue(f, inst.fields[f.key]) })
  }
  for (const [k, v] of Object.entries(inst.fields)) {
    if (!seen.has(k)) out.push({ key: k, label: labelOr('approval.field.' + k, k), value: fieldValue(undefined, v) })
  }
  return out.slice(0, max)
}

/** waited says how long something has waited: "3 小时" / "2 天". */
export function waited(since: number | null | undefined, now = Date.now()): string {
  if (!since) return ''
  const mins = Math.max(0, Math.floor((now - since) / 60000))
  if (mins < 60) return t('approval.waitedMinutes', { n: mins })
  const hours = Math.floor(mins / 60)
  if (hours < 48) return t('approval.waitedHours', { n: hours })
  return t('approval.waitedDays', { n: Math.floor(hours / 24) })
}

export function shortTime(ms: number | null | undefined): string {
  if (!ms) return ''
  const d = dayjs(ms)
  return d.isSame(dayjs(), 'year') ? d.format('MM-DD HH:mm') : d.format('YYYY-MM-DD HH:mm')
}

let typesCache: Promise<Map<string, DocTypeInfo>> | null = null

/** docTypes loads the registered document types once per page load. */
export function docTypes(): Promise<Map<string, DocTypeInfo>> {
  if (!typesCache) {
    typesCache = approvalApi
      .docTypes()
      .then((r) => new Map(r.items.map((d) => [d.type, d])))
      .catch((e) => {
        typesCache = null
        throw e
      })
  }
  return typesCache
}

/** The number of approvals waiting for the signed-in user (menu badge, tab bar, inbox header). */
export const inboxCount = ref(0)

export async function refreshInboxCount(): Promise<number> {
  try {
    inboxCount.value = (await approvalApi.inbox()).total
  } catch {
    /* keep the last count; the page shows its own error */
  }
  return inboxCount.value
}
