// What the CRM pages share: code labels (crm.* locale keys, reused by other modules), the store's
// grades, the vehicle catalogue and the owner list, loaded once per store and cached.
import { computed, ref, shallowRef, type Ref } from 'vue'
import { labelOr, t } from '@/i18n'
import { crmApi, RESERVED_GRADES, type CatalogBrand, type CatalogSeries, type Customer, type Grade, type Settings } from '@/api/crm'
import { orgApi, type User } from '@/api/org'
import { useSessionStore } from '@/stores/session'
import { formatTime } from '@/utils/format'

// ---- labels ----
export const channelLabel = (c: string) => (c ? labelOr('crm.channel.' + c, c) : '')
export const stageLabel = (c: string) => (c ? labelOr('crm.stage.' + c, c) : '')
export const statusLabel = (c: string) => (c ? labelOr('crm.status.' + c, c) : '')
export const lostReasonLabel = (c: string) => (c ? labelOr('crm.lostReason.' + c, c) : '')
export const methodLabel = (c: string) => (c ? labelOr('crm.method.' + c, c) : '')
export const resultLabel = (c: string) => (c ? labelOr('crm.result.' + c, c) : '')
export const timeframeLabel = (c: string) => (c ? labelOr('crm.timeframe.' + c, c) : '')
export const paymentLabel = (c: string) => (c ? labelOr('crm.payment.' + c, c) : '')
export const genderLabel = (c: string) => (c ? labelOr('crm.gender.' + c, c) : '')
export const visitLabel = (c: string) => (c ? labelOr('crm.visit.' + c, c) : '')
export const assignReasonLabel = (c: string) => (c ? labelOr('crm.assignReason.' + c, c) : '')
export const consentMethodLabel = (c: string) => (c ? labelOr('crm.consentMethod.' + c, c) : '')
export const fieldLabel = (c: string) => labelOr('crm.field.' + c, c)
/** kindLabel names a timeline kind; a kind that is also the prefix of longer ones keeps its label under "_". */
export const kindLabel = (k: string) => labelOr('timeline.kind.' + k, labelOr('timeline.kind.' + k + '._', k))

type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

/** gradeTagType colours the usual grades: H hottest (red) … C cool; O ordered green, F lost grey. */
export function gradeTagType(code: string): TagType {
  switch (code) {
    case 'H':
      return 'danger'
    case 'A':
      return 'warning'
    case 'B':
      return 'primary'
    case 'O':
      return 'success'
    default:
      return 'info'
  }
}

export function statusTagType(s: string): TagType {
  if (s === 'active') return 'success'
  if (s === 'lost') return 'danger'
  if (s === 'dormant') return 'warning'
  return 'info'
}

/** displayName is the customer's name, or the masked phone when no name was given. */
export function displayName(c: Pick<Customer, 'name' | 'phone'>): string {
  return c.name || c.phone || t('crm.noName')
}

/** overdueText says which deadline was missed ("首次联系超时" / "跟进超时"). */
export function overdueText(c: Pick<Customer, 'slaKind'>): string {
  return c.slaKind === 'first_contact' ? t('crm.overdueFirst') : t('crm.overdueFollowup')
}

/** dueAt is when the customer must next be contacted: the planned follow-up, or the first-contact deadline. */
export function dueAt(c: Pick<Customer, 'nextFollowupAt' | 'slaKind' | 'slaDueAt'>): number | null {
  if (c.nextFollowupAt) return c.nextFollowupAt
  if (c.slaKind === 'first_contact' && c.slaDueAt) return c.slaDueAt
  return null
}

/** formatDay renders unix milliseconds as a date only. */
export function formatDay(ms: number | null | undefined): string {
  return ms ? formatTime(ms).slice(0, 10) : ''
}

/** nextText is the next follow-up (or the first-contact deadline) as one short text. */
export function nextText(c: Pick<Customer, 'nextFollowupAt' | 'slaKind' | 'slaDueAt'>): string {
  if (c.nextFollowupAt) return formatTime(c.nextFollowupAt)
  if (c.slaKind === 'first_contact' && c.slaDueAt) return t('crm.firstContactBy', { time: formatTime(c.slaDueAt) })
  return ''
}

// ---- reference data, cached per store ----
interface Refs {
  storeId: number
  grades: Ref<Grade[]>
  settings: Ref<Settings | null>
  catalog: Ref<CatalogBrand[]>
  users: Ref<User[]>
  loaded: Promise<void> | null
}

let cache: Refs | null = null

function fresh(storeId: number): Refs {
  return { storeId, grades: shallowRef<Grade[]>([]), settings: shallowRef<Settings | null>(null), catalog: shallowRef<CatalogBrand[]>([]), users: shallowRef<User[]>([]), loaded: null }
}

async function loadAll(r: Refs): Promise<void> {
  const session = useSessionStore()
  const jobs: Promise<unknown>[] = [
    crmApi
      .getSettings()
      .then((s) => {
        r.settings.value = s
        r.grades.value = s.grades
      })
      .catch(() => (r.grades.value = [])),
  ]
  if (session.can('vehicle.read')) {
    jobs.push(
      crmApi
        .catalog()
        .then((c) => (r.catalog.value = c.items))
        .catch(() => (r.catalog.value = [])),
    )
  }
  if (session.can('user.read')) {
    jobs.push(
      orgApi
        .listUsers({ storeId: r.storeId, status: 'active', limit: 200 })
        .then((u) => (r.users.value = u.items))
        .catch(() => (r.users.value = [])),
    )
  }
  await Promise.all(jobs)
}

/**
 * useCrmRefs returns the store's grades, catalogue and active users (owner pickers). They load on
 * first use and again after a store switch; reload() refreshes them.
 */
export function useCrmRefs() {
  const session = useSessionStore()
  const storeId = session.me?.storeId ?? 0
  if (!cache || cache.storeId !== storeId) cache = fresh(storeId)
  const r = cache
  if (!r.loaded) r.loaded = loadAll(r)
  const ready = ref(false)
  void r.loaded.then(() => (ready.value = true))

  const grades = r.grades
  /** Grades a person may pick (not O / F, which only orders and approvals set). */
  const pickableGrades = computed(() => grades.value.filter((g) => !RESERVED_GRADES.includes(g.code)))
  const series = computed<Array<CatalogSeries & { brand: string }>>(() =>
    r.catalog.value.flatMap((b) => b.series.map((s) => ({ ...s, brand: b.name }))),
  )
  function gradeName(code: string): string {
    if (!code) return ''
    return grades.value.find((g) => g.code === code)?.name || code
  }
  function seriesById(id: number | null | undefined) {
    return id ? series.value.find((s) => s.id === id) : undefined
  }
  return {
    ready,
    loaded: r.loaded,
    grades,
    settings: r.settings,
    pickableGrades,
    catalog: r.catalog,
    series,
    users: r.users,
    gradeName,
    seriesById,
    reload: () => {
      r.loaded = loadAll(r)
      return r.loaded
    },
  }
}
