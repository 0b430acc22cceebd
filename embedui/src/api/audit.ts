// The append-only audit log (docs/api.md: GET /audit, POST /audit/verify).
import { http, type ListResult } from './http'

export interface AuditEntry {
  id: number
  at: number
  userId: number | null
  userName: string
  apiKeyId?: number | null
  ip: string
  action: string
  entity: string
  entityId: string
  storeId: number | null
  before: unknown
  after: unknown
  result: string
  requestId: string
}

export interface AuditQuery {
  action?: string
  entity?: string
  entityId?: string
  userId?: number | string
  storeId?: number | ''
  from?: number
  to?: number
  cursor?: string
  limit?: number
}

export interface AuditVerifyResult {
  ok: boolean
  checked: number
  brokenAt?: number | null
  reason?: string
}

/** The audit actions the server writes (labels: audit.action.<action>). */
export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'logout_all',
  'password_change',
  'password_reset',
  'reauth',
  'setup',
  'create',
  'update',
  'delete',
  'disable',
  'enable',
  'unlock',
  'revoke',
  'switch_store',
  'reveal',
  'export',
  'upload',
] as const

export const auditApi = {
  list: (q: AuditQuery = {}) => http.get<ListResult<AuditEntry>>('/audit', { query: { ...q } }),
  verify: () => http.post<AuditVerifyResult>('/audit/verify'),
}
