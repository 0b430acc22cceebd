// The filter state of the customer and pool lists: what the filter bar edits, how it maps to the
// API's ListFilter (and back, for saved views) and to the page URL (so back/forward and shared
// links keep the filters), and the keyset-paged loading with a stale-answer guard.
import { computed, reactive, ref, watch } from 'vue'
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import dayjs from 'dayjs'
import type { Customer, CustomerList, ListFilter, SortKey, StatusFilter } from '@/api/crm'
import { messageOf } from '@/utils/feedback'

export interface Filters {
  q: string
  status: StatusFilter
  grades: string[]
  stages: string[]
  ownerId: number | null
  channels: string[]
  seriesId: number | null
  /** [from, to] as YYYY-MM-DD, both days included. */
  created: [string, string] | null
  overdue: boolean
  tag: string
  sort: SortKey
}

export const SORTS: SortKey[] = ['created', 'next', 'updated', 'name']
const STATUSES: StatusFilter[] = ['active', 'lost', 'dormant', 'all']

export function emptyFilters(): Filters {
  return { q: '', status: 'active', grades: [], stages: [], ownerId: null, channels: [], seriesId: null, created: null, overdue: false, tag: '', sort: 'created' }
}

/** toListFilter is the API filter (no cursor or paging). */
export function toListFilter(f: Filters): ListFilter {
  const out: ListFilter = { status: f.status, sort: f.sort }
  if (f.q.trim()) out.q = f.q.trim()
  if (f.grades.length) out.grades = [...f.grades]
  if (f.stages.length) out.stages = [...f.stages]
  if (f.channels.length) out.channels = [...f.channels]
  if (f.ownerId) out.ownerId = f.ownerId
  if (f.seriesId) out.seriesId = f.seriesId
  if (f.created) {
    out.createdFrom = dayjs(f.created[0]).startOf('day').valueOf()
    out.createdTo = dayjs(f.created[1]).add(1, 'day').startOf('day').valueOf()
  }
  if (f.overdue) out.overdue = true
  if (f.tag.trim()) out.tag = f.tag.trim()
  return out
}

/** fromListFilter reads a saved view's filter back into the bar. */
export function fromListFilter(q: ListFilter): Filters {
  const f = emptyFilters()
  if (q.status && STATUSES.includes(q.status)) f.status = q.status
  if (q.sort && SORTS.includes(q.sort)) f.sort = q.sort
  f.q = q.q ?? ''
  f.grades = Array.isArray(q.grades) ? [...q.grades] : []
  f.stages = Array.isArray(q.stages) ? [...q.stages] : []
  f.channels = Array.isArray(q.channels) ? [...q.channels] : []
  f.ownerId = q.ownerId || null
  f.seriesId = q.seriesId || null
  if (q.createdFrom && q.createdTo) {
    f.created = [dayjs(q.createdFrom).format('YYYY-MM-DD'), dayjs(q.createdTo).subtract(1, 'day').format('YYYY-MM-DD')]
  }
  f.overdue = !!q.overdue
  f.tag = q.tag ?? ''
  return f
}

const list = (v: unknown): string[] => (typeof v === 'string' && v ? v.split(',').filter(Boolean) : [])
const num = (v: unknown): number | null => {
  const n = Number(v)
  return typeof v === 'string' && v && Number.isFinite(n) && n > 0 ? n : null
}
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const DAY = /^\d{4}-\d{2}-\d{2}$/

export function filtersToQuery(f: Filters): LocationQueryRaw {
  const q: LocationQueryRaw = {}
  if (f.q) q.q = f.q
  if (f.status !== 'active') q.status = f.status
  if (f.grades.length) q.grades = f.grades.join(',')
  if (f.stages.length) q.stages = f.stages.join(',')
  if (f.channels.length) q.channels = f.channels.join(',')
  if (f.ownerId) q.owner = String(f.ownerId)
  if (f.seriesId) q.series = String(f.seriesId)
  if (f.created) {
    q.from = f.created[0]
    q.to = f.created[1]
  }
  if (f.overdue) q.overdue = '1'
  if (f.tag) q.tag = f.tag
  if (f.sort !== 'created') q.sort = f.sort
  return q
}

export function filtersFromQuery(q: LocationQuery): Filters {
  const f = emptyFilters()
  f.q = str(q.q)
  const st = str(q.status) as StatusFilter
  if (STATUSES.includes(st)) f.status = st
  f.grades = list(q.grades)
  f.stages = list(q.stages)
  f.channels = list(q.channels)
  f.ownerId = num(q.owner)
  f.seriesId = num(q.series)
  const from = str(q.from)
  const to = str(q.to)
  if (DAY.test(from) && DAY.test(to)) f.created = [from, to]
  f.overdue = q.overdue === '1'
  f.tag = str(q.tag)
  const so = str(q.sort) as SortKey
  if (SORTS.includes(so)) f.sort = so
  return f
}

/** isFiltered tells whether anything narrows the list beyond the status tab and the sort. */
export function isFiltered(f: Filters): boolean {
  return !!(f.q || f.grades.length || f.stages.length || f.channels.length || f.ownerId || f.seriesId || f.created || f.overdue || f.tag)
}

/**
 * useCustomerList loads pages of customers for the filters: the first page with a (capped) count,
 * "load more" by cursor. A later answer always wins over an earlier one still in flight.
 */
export function useCustomerList(fetch: (f: ListFilter) => Promise<CustomerList>, filters: Filters, pageSize = 50) {
  const items = ref<Customer[]>([])
  const next = ref('')
  const total = ref<number | null>(null)
  const totalCapped = ref(false)
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = ref('')
  let seq = 0

  async function load(more = false): Promise<void> {
    const my = ++seq
    if (more) loadingMore.value = true
    else loading.value = true
    error.value = ''
    try {
      const r = await fetch({ ...toListFilter(filters), cursor: more ? next.value : undefined, limit: pageSize, count: !more })
      if (my !== seq) return
      items.value = more ? [...items.value, ...r.items] : r.items
      next.value = r.next ?? ''
      if (!more) {
        total.value = r.total ?? null
        totalCapped.value = !!r.totalCapped
      }
    } catch (e) {
      if (my === seq) error.value = messageOf(e)
    } finally {
      if (my === seq) {
        loading.value = false
        loadingMore.value = false
      }
    }
  }

  function replace(c: Customer): void {
    const i = items.value.findIndex((x) => x.id === c.id)
    if (i >= 0) items.value.splice(i, 1, c)
  }

  function remove(ids: number[]): void {
    const set = new Set(ids)
    const before = items.value.length
    items.value = items.value.filter((x) => !set.has(x.id))
    if (total.value != null && !totalCapped.value) total.value = Math.max(0, total.value - (before - items.value.length))
  }

  const totalText = computed(() => {
    if (total.value == null) return ''
    return totalCapped.value ? '10,000+' : total.value.toLocaleString('en-US')
  })

  return { items, next, total, totalCapped, totalText, loading, loadingMore, error, load, replace, remove }
}

/** watchFilters reloads on every change: the search box after a pause, everything else at once. */
export function watchFilters(filters: Filters, reload: () => void, onChange?: () => void): void {
  let timer: ReturnType<typeof setTimeout> | undefined
  watch(
    () => filters.q,
    () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        onChange?.()
        reload()
      }, 350)
    },
  )
  watch(
    () => JSON.stringify({ ...filters, q: undefined }),
    () => {
      onChange?.()
      reload()
    },
  )
}

export function reactiveFilters(init: Filters): Filters {
  return reactive(init) as Filters
}
