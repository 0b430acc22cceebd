// CRM operations: the consultant's workbench, the showroom traffic log, assignment rules,
// the store's CRM settings, duplicates and merge, the leaving-consultant hand-over (离职交接),
// plus the bits of other domains these pages need (tasks, absences, the vehicle catalogue).
// Mirrors app/crm/http.go, app/task/task.go, app/org/absence.go and app/inventory/catalog.go.
import { http, type ListResult } from './http'

/** Lead channels (crm.Channels); labels are crm.channel.<code>. */
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

/** Team strategies of an assignment rule (crm.Strategies). */
export const STRATEGIES = ['round_robin', 'fewest_open', 'weighted'] as const
export type Strategy = (typeof STRATEGIES)[number]

/** The customer facts these pages show (a subset of crm.Customer; phone and ID number come masked). */
export interface CustomerBrief {
  id: number
  storeId: number
  storeName: string
  ownerId: number | null
  ownerName: string
  name: string
  phone: string
  gender: string
  region: string
  idNo: string
  seriesName: string
  modelName: string
  channel: string
  grade: string
  visit: string
  stage: string
  status: string
  tags: string[] | null
  assignedAt: number | null
  firstContactAt: number | null
  lastContactAt: number | null
  nextFollowupAt: number | null
  slaKind: string
  slaDueAt: number | null
  slaLevel: number
  overdue: boolean
  createdAt: number
  updatedAt: number
  version: number
}

/** A to-do (app/task). */
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

/** The consultant's day (GET /workbench). */
export interface Workbench {
  newLeads: CustomerBrief[]
  newLeadsCount: number
  dueToday: CustomerBrief[]
  dueTodayCount: number
  overdue: CustomerBrief[]
  overdueCount: number
  tasks: Task[]
  tasksCount: number
  poolCount: number
  dayStart: number
  dayEnd: number
}

export type VisitKind = 'first' | 'return'

/** One entry of the showroom traffic log. */
export interface Visit {
  id: number
  storeId: number
  customerId: number | null
  name: string
  phone: string
  arrivedAt: number
  leftAt: number | null
  partySize: number
  visit: VisitKind
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
  visit: VisitKind
  consultantId: number | null
  seriesId: number | null
  testDrive: boolean
  note: string
}

/** A day's log with its counts (withPhone: 留档). */
export interface VisitDay {
  items: Visit[]
  total: number
  first: number
  return: number
  withPhone: number
  testDrive: number
}

export type TargetKind = 'team' | 'user'

/** One assignment rule; timeFrom/timeTo are minutes after local midnight (from > to: across midnight). */
export interface Rule {
  id: number
  storeId: number
  position: number
  name: string
  enabled: boolean
  channels: string[]
  seriesIds: number[]
  regions: string[]
  timeFrom: number | null
  timeTo: number | null
  targetKind: TargetKind
  departmentId: number | null
  departmentName: string
  userId: number | null
  userName: string
  strategy: Strategy
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
  targetKind: TargetKind
  departmentId: number | null
  userId: number | null
  strategy: Strategy
  version: number
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
  /** 1 = Monday … 7 = Sunday */
  days: number[]
}

/** A store's CRM settings (PUT replaces them; version guards concurrent edits). */
export interface CrmSettings {
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

export interface DuplicateGroup {
  key: string
  kind: 'name' | 'id_no'
  customers: CustomerBrief[]
}

export interface TransferInput {
  fromUserId: number
  toUserIds: number[]
  note: string
}

export interface TransferResult {
  moved: number
  /** Customers moved per receiving user id (JSON object keys are strings). */
  perUser: Record<string, number>
}

/** A period a user is away: no new leads; approvals go to the delegate. */
export interface Absence {
  id: number
  userId: number
  userName: string
  fromAt: number
  untilAt: number
  delegateId: number | null
  delegateName: string
  reason: string
}

export interface AbsenceInput {
  fromAt: number
  untilAt: number
  delegateId: number | null
  reason: string
}

// The catalogue's types are the customer client's (one definition per API shape).
export type { CatalogBrand, CatalogModel, CatalogSeries } from './crm'
import type { CatalogBrand } from './crm'

export const crmOpsApi = {
  workbench: (userId?: number | null) => http.get<Workbench>('/workbench', { query: { userId: userId || undefined } }),
  completeTask: (id: number, note = '') => http.post<Task>(`/tasks/${id}/done`, { note }),

  listVisits: (q: { storeId?: number; from?: number; to?: number } = {}) => http.get<VisitDay>('/showroom-visits', { query: { ...q } }),
  logVisit: (in_: VisitInput) => http.post<Visit>('/showroom-visits', in_),
  visitLeft: (id: number, version: number, leftAt = 0) => http.post<Visit>(`/showroom-visits/${id}/leave`, { leftAt, version }),

  listRules: (storeId?: number) => http.get<ListResult<Rule>>('/assign-rules', { query: { storeId } }),
  createRule: (in_: RuleInput) => http.post<Rule>('/assign-rules', in_),
  updateRule: (id: number, in_: RuleInput) => http.put<Rule>(`/assign-rules/${id}`, in_),
  deleteRule: (id: number) => http.del<void>(`/assign-rules/${id}`),
  orderRules: (ids: number[], storeId?: number) => http.post<ListResult<Rule>>('/assign-rules/order', { storeId, ids }),

  getSettings: (storeId?: number) => http.get<CrmSettings>('/crm/settings', { query: { storeId } }),
  saveSettings: (s: CrmSettings, storeId?: number) => http.put<CrmSettings>('/crm/settings', s, { query: { storeId } }),

  duplicates: (storeId?: number, cursor = '') => http.get<ListResult<DuplicateGroup>>('/customers/duplicates', { query: { storeId, cursor } }),
  merge: (keepId: number, mergeId: number) => http.post<CustomerBrief>('/customers/merge', { keepId, mergeId }),

  transfer: (in_: TransferInput) => http.post<TransferResult>('/customers/transfer', in_),

  listAbsences: (userId: number) => http.get<ListResult<Absence>>(`/users/${userId}/absences`),
  createAbsence: (userId: number, in_: AbsenceInput) => http.post<Absence>(`/users/${userId}/absences`, in_),
  deleteAbsence: (userId: number, id: number) => http.del<void>(`/users/${userId}/absences/${id}`),

  catalog: () => http.get<ListResult<CatalogBrand>>('/catalog'),
}

/** minutesToClock renders minutes after midnight as "HH:mm". */
export function minutesToClock(m: number | null | undefined): string {
  if (m == null) return ''
  const h = Math.floor(m / 60) % 24
  const mm = m % 60
  return `${String(h).padStart(2, '0')}:${String(mm).padStart(2, '0')}`
}

/** clockToMinutes parses "HH:mm" into minutes after midnight; null for empty or malformed. */
export function clockToMinutes(v: string | null | undefined): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(v ?? '')
  if (!m) return null
  const h = Number(m[1])
  const mm = Number(m[2])
  if (h > 23 || mm > 59) return null
  return h * 60 + mm
}
