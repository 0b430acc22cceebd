// Leads and customers (DOMAIN.md L1–L7): the typed client of app/crm/http.go, plus the vehicle catalogue
// (GET /catalog) the intended-series pickers read. JSON mirrors the Go types: camelCase, money in fen,
// times in unix milliseconds; phone and ID numbers always arrive masked (reveal returns them in full).
import { API_BASE, ApiError, http, type ListResult } from './http'

// ---- enums (labels: crm.channel.<code>, crm.stage.<code>, …) ----

export const CHANNELS = [
  'walk_in',
  'phone',
  'dcc',
  'website',
  'autohome',
  'dongchedi',
  'yiche',
  'wechat',
  'referral',
  'auto_show',
  'campaign',
  'oem',
  'other',
] as const
export type Channel = (typeof CHANNELS)[number]

export const STAGES = ['lead', 'prospect', 'ordered', 'delivered', 'owner'] as const
export type Stage = (typeof STAGES)[number]

export const STATUSES = ['active', 'lost', 'dormant', 'merged'] as const
export type CustomerStatus = (typeof STATUSES)[number]
/** The status tabs of the list (merged customers never show; "all" is every other status). */
export type StatusFilter = 'active' | 'lost' | 'dormant' | 'all'

export const LOST_REASONS = [
  'bought_competitor',
  'bought_same_brand_elsewhere',
  'price',
  'financing',
  'no_longer_buying',
  'unreachable',
  'other',
] as const
export type LostReason = (typeof LOST_REASONS)[number]
/** Reasons that need the brand bought instead. */
export const LOST_NEEDS_BRAND: readonly string[] = ['bought_competitor', 'bought_same_brand_elsewhere']

export const METHODS = ['phone', 'wechat', 'visit', 'sms', 'other'] as const
export type FollowupMethod = (typeof METHODS)[number]

export const RESULTS = ['reached', 'no_answer', 'invited', 'visited', 'not_interested', 'other'] as const
export type FollowupResult = (typeof RESULTS)[number]

export const TIMEFRAMES = ['7d', '15d', '30d', '90d', 'later'] as const
export const PAYMENTS = ['full', 'loan'] as const
export const GENDERS = ['m', 'f'] as const
export const VISITS = ['first', 'return'] as const
export const CONSENT_METHODS = ['paper', 'verbal', 'web_form', 'wechat', 'sms', 'other'] as const

export type AssignMode = 'auto' | 'me' | 'pool'
export type SortKey = 'created' | 'next' | 'updated' | 'name'
export type BulkAction = 'assign' | 'tag' | 'untag' | 'release'

/** Grade codes the server keeps for itself: O comes from an order, F from an approved lost request. */
export const RESERVED_GRADES: readonly string[] = ['O', 'F']

// ---- customers ----

export interface Phone {
  id: number
  phone: string
  kind: string
  primary: boolean
}

export interface Customer {
  id: number
  storeId: number
  storeName: string
  ownerId: number | null
  ownerName: string
  departmentId: number | null
  name: string
  phone: string
  phones?: Phone[]
  gender: string
  birthday: string
  region: string
  address: string
  occupation: string
  family: string
  wechat: string
  idNo: string
  budgetMin: number
  budgetMax: number
  currentCar: string
  seriesId: number | null
  seriesName: string
  modelId: number | null
  modelName: string
  color: string
  timeframe: string
  payment: string
  tradeIn: boolean
  channel: string
  sourceDetail: string
  grade: string
  visit: string
  stage: string
  status: CustomerStatus
  lostReason: string
  lostBrand: string
  statusAt: number | null
  remark: string
  consent: boolean
  tags: string[]
  assignedAt: number | null
  firstContactAt: number | null
  lastContactAt: number | null
  nextFollowupAt: number | null
  /** first_contact | followup | '' */
  slaKind: string
  slaDueAt: number | null
  slaLevel: number
  overdue: boolean
  mergedInto?: number | null
  /** The pending lost request (战败申请), if any. */
  pendingLostId: number | null
  createdAt: number
  updatedAt: number
  version: number
}

export interface ProfileInput {
  name: string
  gender: string
  birthday: string
  region: string
  address: string
  occupation: string
  family: string
  wechat: string
  /** The masked value sent back unchanged keeps the stored number. */
  idNo: string
  budgetMin: number
  budgetMax: number
  currentCar: string
  seriesId: number | null
  modelId: number | null
  color: string
  timeframe: string
  payment: string
  tradeIn: boolean
  grade: string
  visit: string
  remark: string
  tags: string[]
  version: number
}

export interface Revealed {
  phones: string[]
  idNo: string
}

// ---- leads ----

export interface LeadInput {
  storeId?: number
  phone: string
  name?: string
  gender?: string
  channel: string
  sourceDetail?: string
  extId?: string
  seriesId?: number | null
  modelId?: number | null
  region?: string
  grade?: string
  visit?: string
  timeframe?: string
  note?: string
  tags?: string[]
  assign?: AssignMode
  ownerId?: number | null
  /** Leave out unless the customer agreed (false records a withdrawal). */
  consent?: boolean
}

export interface LeadResult {
  leadId: number
  customerId: number
  /** new | attached */
  outcome: 'new' | 'attached'
  repeated: boolean
  /** Who took the lead ("" for the pool), also when the caller may not read the customer. */
  ownerName: string
  /** Only id and storeId when the caller may not read the customer. */
  customer: Customer
}

// ---- list ----

export interface ListFilter {
  storeId?: number
  grades?: string[]
  stages?: string[]
  status?: StatusFilter
  ownerId?: number
  channels?: string[]
  seriesId?: number
  createdFrom?: number
  createdTo?: number
  overdue?: boolean
  tag?: string
  /** Name prefix, or 3+ digits: the end of a phone number. */
  q?: string
  sort?: SortKey
  cursor?: string
  limit?: number
  /** Also count (capped at 10,000: totalCapped). */
  count?: boolean
}

export interface CustomerList {
  items: Customer[]
  next: string
  total?: number
  totalCapped?: boolean
}

/** listQuery turns a filter into query parameters (lists as comma lists, booleans as 1). */
export function listQuery(f: ListFilter): Record<string, string | number | undefined> {
  const q: Record<string, string | number | undefined> = {}
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined || v === null || v === '' || v === false || v === 0) continue
    if (Array.isArray(v)) {
      if (v.length) q[k] = v.join(',')
    } else if (v === true) q[k] = 1
    else q[k] = v as string | number
  }
  return q
}

export interface BulkInput {
  ids: number[]
  action: BulkAction
  ownerId?: number
  tag?: string
  reason?: string
}

export interface BulkResult {
  done: number
  /** customer id → error code (errors.<code>) */
  failed: Record<string, string>
}

export interface SavedView {
  id: number
  page: 'customers' | 'pool'
  name: string
  /** The saved ListFilter (without cursor and paging). */
  query: ListFilter
  shared: boolean
  mine: boolean
}

export interface ViewInput {
  page: 'customers' | 'pool'
  name: string
  query: ListFilter
  shared: boolean
}

// ---- follow-ups, tasks, lifecycle ----

export interface Followup {
  id: number
  customerId: number
  userId: number
  userName: string
  at: number
  method: string
  content: string
  result: string
  grade: string
  nextStep: string
  nextAt: number | null
  taskId: number | null
}

export interface FollowupInput {
  method: string
  content: string
  result: string
  /** Optional new grade. */
  grade?: string
  nextStep?: string
  nextAt?: number | null
  /** Minutes before nextAt to remind (default 15). */
  remindMinutes?: number | null
}

export interface Task {
  id: number
  storeId: number
  assigneeId: number
  assigneeName: string
  title: string
  note: string
  kind: string
  customerId: number | null
  customerName: string
  entity?: string
  entityId?: number
  dueAt: number
  remindAt: number | null
  status: string
  doneAt: number | null
  overdue: boolean
  version: number
}

export interface LostInput {
  reason: string
  brand?: string
  note?: string
}

export interface LostRequest {
  id: number
  customerId: number
  reason: string
  brand: string
  note: string
  status: string
  /** The approval (route /approvals/:id). */
  approvalId: number
}

export interface ConsentInput {
  granted: boolean
  method: string
  note?: string
}

export interface Consent {
  id: number
  granted: boolean
  scope: string
  method: string
  note: string
  byName: string
  at: number
}

export interface AssignInput {
  ownerId: number
  note?: string
}

export interface TransferInput {
  fromUserId: number
  toUserIds: number[]
  note?: string
}

export interface TransferResult {
  moved: number
  perUser: Record<string, number>
}

export interface DuplicateGroup {
  key: string
  /** name | id_no */
  kind: string
  customers: Customer[]
}

export interface MergeInput {
  keepId: number
  mergeId: number
}

// ---- timeline ----

/** One timeline entry; the UI shows timeline.kind.<kind> and renders data by kind. */
export interface TimelineEvent {
  id: number
  customerId: number
  storeId: number
  at: number
  kind: string
  actorId?: number
  actorName: string
  entity?: string
  entityId?: number
  data: Record<string, unknown>
}

export interface TimelineQuery {
  /** Kind prefixes: "followup" matches followup and followup.* */
  kinds?: string[]
  cursor?: string
  limit?: number
}

// ---- workbench, settings, rules, showroom ----

export interface Workbench {
  newLeads: Customer[]
  newLeadsCount: number
  dueToday: Customer[]
  dueTodayCount: number
  overdue: Customer[]
  overdueCount: number
  tasks: Task[]
  tasksCount: number
  poolCount: number
  dayStart: number
  dayEnd: number
}

export interface Grade {
  code: string
  name: string
  windowDays: number
  cadenceDays: number
}

export interface WorkingHours {
  start: string
  end: string
  days: number[]
}

export interface Settings {
  firstContactMinutes: number
  escalateHours: [number, number]
  poolDays: number
  claimsPerDay: number
  maxOpenPerUser: number
  timezone: string
  workingHours: WorkingHours
  grades: Grade[]
  version: number
}

export interface Rule {
  id: number
  storeId: number
  position: number
  name: string
  enabled: boolean
  channels: string[]
  seriesIds: number[]
  regions: string[]
  /** Minutes after local midnight. */
  timeFrom: number | null
  timeTo: number | null
  /** team | user */
  targetKind: string
  departmentId: number | null
  departmentName: string
  userId: number | null
  userName: string
  /** round_robin | fewest_open | weighted */
  strategy: string
  version: number
}

export interface RuleInput {
  storeId?: number
  name: string
  enabled: boolean
  channels: string[]
  seriesIds: number[]
  regions: string[]
  timeFrom: number | null
  timeTo: number | null
  targetKind: string
  departmentId: number | null
  userId: number | null
  strategy: string
  version?: number
}

export interface OrderInput {
  storeId?: number
  ids: number[]
}

export interface Visit {
  id: number
  storeId: number
  customerId: number | null
  name: string
  phone: string
  arrivedAt: number
  leftAt: number | null
  partySize: number
  visit: string
  consultantId: number | null
  consultantName: string
  seriesId: number | null
  seriesName: string
  testDrive: boolean
  note: string
  version: number
}

export interface VisitInput {
  storeId?: number
  name: string
  phone: string
  arrivedAt: number
  leftAt?: number | null
  partySize: number
  visit: string
  consultantId?: number | null
  seriesId?: number | null
  testDrive: boolean
  note: string
  version?: number
}

export interface LeaveInput {
  leftAt: number
  version: number
}

export interface VisitDay {
  items: Visit[]
  total: number
  first: number
  return: number
  withPhone: number
  testDrive: number
}

// ---- vehicle catalogue (GET /catalog, vehicle.read) ----

export interface CatalogModel {
  id: number
  name: string
  modelYear: number
  /** fen */
  msrp: number
  energyType: string
  colors: string[]
}

export interface CatalogSeries {
  id: number
  name: string
  bodyType: string
  models: CatalogModel[]
}

export interface CatalogBrand {
  id: number
  name: string
  series: CatalogSeries[]
}

// ---- export download ----

/** downloadExport fetches GET /customers/export with the list's filter and saves the .xlsx it returns. */
async function downloadExport(f: ListFilter, fallbackName: string, lang: string): Promise<void> {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(listQuery({ ...f, cursor: undefined, limit: undefined, count: undefined }))) {
    if (v !== undefined) qs.set(k, String(v))
  }
  const url = `${API_BASE}/customers/export${qs.toString() ? '?' + qs.toString() : ''}`
  let res: Response
  try {
    res = await fetch(url, { credentials: 'same-origin', headers: { 'Accept-Language': lang } })
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: '' })
  }
  if (!res.ok) {
    let code = 'internal'
    let message = ''
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } }
      code = body.error?.code ?? code
      message = body.error?.message ?? ''
    } catch {
      /* not JSON */
    }
    throw new ApiError({ status: res.status, code, message })
  }
  const blob = await res.blob()
  let name = fallbackName
  const cd = res.headers.get('Content-Disposition') ?? ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  const plain = /filename="?([^";]+)"?/i.exec(cd)
  if (star?.[1]) name = decodeURIComponent(star[1])
  else if (plain?.[1]) name = plain[1]
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

export const crmApi = {
  createLead: (in_: LeadInput) => http.post<LeadResult>('/leads', in_),

  listCustomers: (f: ListFilter) => http.get<CustomerList>('/customers', { query: listQuery(f) }),
  exportCustomers: downloadExport,
  duplicates: (storeId?: number, cursor?: string) => http.get<ListResult<DuplicateGroup>>('/customers/duplicates', { query: { storeId, cursor } }),
  merge: (in_: MergeInput) => http.post<Customer>('/customers/merge', in_),
  bulk: (in_: BulkInput) => http.post<BulkResult>('/customers/bulk', in_),
  transfer: (in_: TransferInput) => http.post<TransferResult>('/customers/transfer', in_),

  getCustomer: (id: number) => http.get<Customer>(`/customers/${id}`),
  updateCustomer: (id: number, in_: ProfileInput) => http.put<Customer>(`/customers/${id}`, in_),
  reveal: (id: number) => http.post<Revealed>(`/customers/${id}/reveal`),
  timeline: (id: number, q: TimelineQuery = {}) =>
    http.get<ListResult<TimelineEvent>>(`/customers/${id}/timeline`, { query: { kinds: q.kinds?.join(','), cursor: q.cursor, limit: q.limit } }),
  listFollowups: (id: number) => http.get<ListResult<Followup>>(`/customers/${id}/followups`),
  addFollowup: (id: number, in_: FollowupInput) => http.post<Followup>(`/customers/${id}/followups`, in_),
  customerTasks: (id: number, status?: string) => http.get<ListResult<Task>>(`/customers/${id}/tasks`, { query: { status } }),
  assign: (id: number, in_: AssignInput) => http.post<Customer>(`/customers/${id}/assign`, in_),
  claim: (id: number) => http.post<Customer>(`/customers/${id}/claim`),
  release: (id: number, reason: string) => http.post<void>(`/customers/${id}/release`, { reason }),
  requestLost: (id: number, in_: LostInput) => http.post<LostRequest>(`/customers/${id}/lost`, in_),
  dormant: (id: number, note = '') => http.post<Customer>(`/customers/${id}/dormant`, { note }),
  reactivate: (id: number) => http.post<Customer>(`/customers/${id}/reactivate`),
  listConsents: (id: number) => http.get<ListResult<Consent>>(`/customers/${id}/consents`),
  recordConsent: (id: number, in_: ConsentInput) => http.post<ListResult<Consent>>(`/customers/${id}/consents`, in_),

  listPool: (f: ListFilter) => http.get<CustomerList>('/pool', { query: listQuery(f) }),
  workbench: (userId?: number) => http.get<Workbench>('/workbench', { query: { userId } }),

  getSettings: (storeId?: number) => http.get<Settings>('/crm/settings', { query: { storeId } }),
  saveSettings: (in_: Settings, storeId?: number) => http.put<Settings>('/crm/settings', in_, { query: { storeId } }),

  listRules: (storeId?: number) => http.get<ListResult<Rule>>('/assign-rules', { query: { storeId } }),
  createRule: (in_: RuleInput) => http.post<Rule>('/assign-rules', in_),
  orderRules: (in_: OrderInput) => http.post<ListResult<Rule>>('/assign-rules/order', in_),
  updateRule: (id: number, in_: RuleInput) => http.put<Rule>(`/assign-rules/${id}`, in_),
  deleteRule: (id: number) => http.del<void>(`/assign-rules/${id}`),

  listVisits: (q: { storeId?: number; from?: number; to?: number } = {}) => http.get<VisitDay>('/showroom-visits', { query: q }),
  logVisit: (in_: VisitInput) => http.post<Visit>('/showroom-visits', in_),
  visitLeft: (id: number, in_: LeaveInput) => http.post<Visit>(`/showroom-visits/${id}/leave`, in_),

  listViews: (page: 'customers' | 'pool') => http.get<ListResult<SavedView>>('/views', { query: { page } }),
  saveView: (in_: ViewInput) => http.post<SavedView>('/views', in_),
  deleteView: (id: number) => http.del<void>(`/views/${id}`),

  /** The vehicle catalogue for series/model pickers (vehicle.read). */
  catalog: () => http.get<ListResult<CatalogBrand>>('/catalog'),

  /** Mark one of the customer's tasks done (the task module's route). */
  taskDone: (id: number, note = '') => http.post<Task>(`/tasks/${id}/done`, { note }),
}
