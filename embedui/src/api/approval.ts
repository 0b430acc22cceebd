// Approvals (DOMAIN.md S5): the inbox, lists, one approval with its steps and history, the actions,
// and the routing rules (definitions). Mirrors the route table of app/approval/http.go.
import { http, type ListResult } from './http'

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'returned' | 'withdrawn'
export const APPROVAL_STATUSES: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'returned', 'withdrawn']

export type StepMode = 'any' | 'all'
export type ApproverKind = 'role' | 'user' | 'owner_manager'
export type TaskStatus = 'queued' | 'waiting' | 'approved' | 'rejected' | 'returned' | 'skipped'
export type ActionKind = 'submit' | 'approve' | 'reject' | 'return' | 'withdraw' | 'comment'

export interface Approver {
  kind: ApproverKind
  role?: string
  userId?: number
}

export interface Step {
  name: string
  mode: StepMode
  approvers: Approver[]
}

export type ConditionOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in'
export const CONDITION_OPS: ConditionOp[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in']

export interface Condition {
  field: string
  op: ConditionOp
  /** number (money in fen), string, or a list of them for "in". */
  value: number | string | (number | string)[]
}

/** percent: integer basis points (873 = 8.73 %). */
export type FieldType = 'number' | 'money' | 'percent' | 'text' | 'enum'

export interface FieldInfo {
  key: string
  type: FieldType
  options?: string[]
  /** i18n key of the field's name. */
  label?: string
  /** i18n key prefix of an enum's option names: `${optionLabel}.${option}`. */
  optionLabel?: string
}

export interface DocTypeInfo {
  type: string
  fields: FieldInfo[]
  default: Step[]
  readPerm: string
}

export interface Instance {
  id: number
  docType: string
  docId: number
  storeId: number
  storeName: string
  customerId: number | null
  submitterId: number
  submitterName: string
  ownerId: number | null
  departmentId: number | null
  title: string
  /** SPA path of the document. */
  link: string
  fields: Record<string, unknown>
  definitionId: number | null
  definitionName: string
  stepCount: number
  status: ApprovalStatus
  currentStep: number
  currentStepName: string
  createdAt: number
  decidedAt: number | null
  version: number
}

export interface TaskView {
  id: number
  approverId: number
  approverName: string
  status: TaskStatus
  decidedById: number | null
  decidedByName: string
  /** The approver, when their delegate decided. */
  actingFor: number | null
  comment: string
  waitingSince: number | null
  decidedAt: number | null
  remindedCount: number
  delegateId: number | null
  delegateName: string
}

export interface StepView {
  no: number
  name: string
  mode: StepMode
  status: TaskStatus
  tasks: TaskView[]
}

export interface HistoryEntry {
  id: number
  stepNo: number
  action: ActionKind
  actorId: number | null
  actorName: string
  actingForId: number | null
  actingForName: string
  comment: string
  at: number
}

export interface Detail extends Instance {
  steps: StepView[]
  history: HistoryEntry[]
  can: {
    decide: boolean
    withdraw: boolean
    comment: boolean
    actingForId: number | null
    actingForName: string
  }
}

export interface InboxItem extends Instance {
  taskId: number
  waitingSince: number
  actingForId: number | null
  actingForName: string
}

export interface Inbox {
  items: InboxItem[]
  total: number
  byType: Record<string, number>
}

export interface ApprovalQuery {
  mine?: '' | 'submitted' | 'decided'
  status?: ApprovalStatus | ''
  docType?: string
  cursor?: string
  limit?: number
}

export interface ActInput {
  comment: string
  version?: number
}

export type ActVerb = 'approve' | 'reject' | 'return' | 'withdraw' | 'comment'

export interface Definition {
  id: number
  /** null: every store of the group. */
  storeId: number | null
  storeName: string
  docType: string
  name: string
  /** Smaller is tried first. */
  priority: number
  enabled: boolean
  conditions: Condition[]
  steps: Step[]
  version: number
  updatedAt: number
}

export interface DefinitionInput {
  storeId: number | null
  docType: string
  name: string
  priority: number
  enabled: boolean
  conditions: Condition[]
  steps: Step[]
  version?: number
}

export const approvalApi = {
  inbox: () => http.get<Inbox>('/approvals/inbox'),
  list: (q: ApprovalQuery = {}) => http.get<ListResult<Instance>>('/approvals', { query: { ...q } }),
  get: (id: number) => http.get<Detail>(`/approvals/${id}`),
  act: (id: number, verb: ActVerb, in_: ActInput) => http.post<Detail>(`/approvals/${id}/${verb}`, in_),

  docTypes: () => http.get<ListResult<DocTypeInfo>>('/approval-doc-types'),
  listDefinitions: (q: { storeId?: number | ''; docType?: string } = {}) =>
    http.get<ListResult<Definition>>('/approval-definitions', { query: { ...q } }),
  createDefinition: (in_: DefinitionInput) => http.post<Definition>('/approval-definitions', in_),
  updateDefinition: (id: number, in_: DefinitionInput) => http.put<Definition>(`/approval-definitions/${id}`, in_),
  deleteDefinition: (id: number) => http.del<void>(`/approval-definitions/${id}`),
}
