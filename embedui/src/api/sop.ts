// The sales SOP pipeline (DOMAIN S1): the typed client of app/sales/sop/http.go. Times are unix
// milliseconds; gate keys are labelled sop.gates.<key>.
import { http, type ListResult } from './http'

export type EntryTaskAssignee = 'owner' | 'manager'

export interface EntryTask {
  title: string
  dueHours: number
  assignee: EntryTaskAssignee
}

export interface Stage {
  id: number
  storeId: number
  position: number
  name: string
  /** system key ('' for a store's own stage); read-only */
  key: string
  gates: string[]
  tasks: EntryTask[]
  active: boolean
  /** stored gate keys no module registers (ignored when moving) */
  unknownGates: string[]
  customers: number
  version: number
}

export interface GateInfo {
  key: string
}

export interface StageList {
  items: Stage[]
  gates: GateInfo[]
}

export interface StageInput {
  storeId?: number
  name: string
  gates: string[]
  tasks: EntryTask[]
  active?: boolean
  version?: number
}

export interface Card {
  customerId: number
  name: string
  /** masked */
  phone: string
  grade: string
  ownerId: number | null
  ownerName: string
  seriesName: string
  lifecycle: string
  stageId: number
  stageName: string
  enteredAt: number
  daysInStage: number
  overdue: boolean
  nextFollowupAt: number | null
  /** the SOP version a move sends back */
  version: number
}

export interface Column {
  stage: Stage
  count: number
  cards: Card[]
  next: string
}

export interface Board {
  storeId: number
  total: number
  columns: Column[]
}

export interface CardList {
  items: Card[]
  next: string
  total: number
}

export type BoardSort = 'days' | 'stage' | 'next' | 'name'

export interface BoardFilter {
  storeId?: number
  /** '' everyone in scope | mine | team | a user id */
  owner?: string
  grade?: string[]
  seriesId?: number
  q?: string
  stageId?: number
  sort?: BoardSort
  order?: 'asc' | 'desc'
  cursor?: string
  limit?: number
}

export interface Missing {
  key: string
  stageId: number
  stageName: string
}

export interface MoveInput {
  toStageId: number
  version: number
  override?: boolean
  reason?: string
}

export interface GateStatus {
  key: string
  met: boolean
}

export type StayHow = 'initial' | 'manual' | 'override' | 'auto'

export interface Stay {
  stageId: number
  stageName: string
  fromStageId: number | null
  enteredAt: number
  leftAt: number | null
  days: number
  how: StayHow
  byName: string
  reason: string
}

export interface SopState {
  customerId: number
  storeId: number
  stageId: number
  stageName: string
  stageKey: string
  enteredAt: number
  daysInStage: number
  version: number
  open: boolean
  gates: GateStatus[]
  stages: Stage[]
  history: Stay[]
}

export interface CycleRow {
  stageId: number
  stageName: string
  key: string
  active: boolean
  deleted: boolean
  stays: number
  avgDays: number
  medianDays: number
  current: number
}

export interface CycleReport {
  storeId: number
  from: number
  to: number
  items: CycleRow[]
}

function query(f: BoardFilter): Record<string, string | number | undefined> {
  return {
    storeId: f.storeId,
    owner: f.owner,
    grade: f.grade?.length ? f.grade.join(',') : undefined,
    seriesId: f.seriesId || undefined,
    q: f.q,
    stageId: f.stageId,
    sort: f.sort,
    order: f.order,
    cursor: f.cursor,
    limit: f.limit,
  }
}

/** missingOf reads the gates a refused move lacks from a 422 sop.gates_unmet error's details. */
export function missingOf(details: Record<string, unknown>): Missing[] {
  const m = details.missing
  return Array.isArray(m) ? (m as Missing[]) : []
}

export const sopApi = {
  gates: () => http.get<ListResult<GateInfo>>('/sop/gates'),
  stages: (storeId?: number) => http.get<StageList>('/sop/stages', { query: { storeId } }),
  createStage: (input: StageInput) => http.post<Stage>('/sop/stages', input),
  updateStage: (id: number, input: StageInput) => http.put<Stage>(`/sop/stages/${id}`, input),
  deleteStage: (id: number, version: number) => http.del<void>(`/sop/stages/${id}`, { query: { version } }),
  reorder: (ids: number[], storeId?: number) => http.post<StageList>('/sop/stages/reorder', { storeId, ids }),
  board: (f: BoardFilter) => http.get<Board>('/sop/board', { query: query(f) }),
  column: (f: BoardFilter) => http.get<CardList>('/sop/board/column', { query: query(f) }),
  list: (f: BoardFilter) => http.get<CardList>('/sop/list', { query: query(f) }),
  cycle: (from?: number, to?: number, storeId?: number) => http.get<CycleReport>('/sop/report/cycle', { query: { from, to, storeId } }),
  state: (customerId: number) => http.get<SopState>(`/sop/customers/${customerId}`),
  move: (customerId: number, input: MoveInput) => http.post<SopState>(`/sop/customers/${customerId}/move`, input),
}
