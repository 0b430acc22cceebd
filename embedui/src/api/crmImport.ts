// The customer/lead import wizard (L1). Mirrors app/crm/import_http.go: upload a sheet, map its columns,
// start, follow the progress, read the per-row report, download the rows that were not imported.
import { API_BASE, ApiError, http, type FieldError, type ListResult } from './http'
import { errorText, t } from '@/i18n'

/** The target fields a column can feed (crm.ImportFieldKeys); labels are crmImport.field.<key>. */
export const IMPORT_FIELDS = [
  'phone',
  'name',
  'channel',
  'series',
  'region',
  'grade',
  'note',
  'tags',
  'owner',
  'createdAt',
  'extId',
  'gender',
  'wechat',
] as const
export type ImportField = (typeof IMPORT_FIELDS)[number]

/** The largest sheet the server takes (crm.MaxImportBytes). */
export const MAX_IMPORT_MB = 50

export type ImportStatus = 'uploaded' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled'
export type ImportKind = 'leads' | 'customers'
export type ImportAssign = 'auto' | 'pool' | 'column'
export type ImportDedupe = 'attach' | 'skip'
export type ImportOutcome = 'rejected' | 'duplicate_in_file' | 'attached'

export interface ImportOptions {
  kind: ImportKind
  defaultChannel: string
  assign: ImportAssign
  dedupe: ImportDedupe
}

export interface ImportPreviewRow {
  row: number
  cells: string[]
}

/** An uploaded sheet and the progress of its import (crm.ImportJob). */
export interface ImportJob {
  id: number
  storeId: number
  createdBy: number
  createdByName: string
  fileName: string
  format: 'xlsx' | 'csv'
  encoding: string
  headerRow: number
  status: ImportStatus
  headers: string[]
  /** field → 0-based column */
  mapping: Record<string, number>
  options: ImportOptions
  total: number
  processed: number
  created: number
  attached: number
  /** not imported; duplicates included */
  rejected: number
  duplicates: number
  /** a failed job's error code (errors.<code>) */
  error: string
  startedAt: number | null
  finishedAt: number | null
  elapsedMs: number
  rowsPerSecond: number
  createdAt: number
  fields: string[]
  preview?: ImportPreviewRow[]
  suggested?: Record<string, number>
}

export interface StartImportInput extends ImportOptions {
  mapping: Record<string, number>
}

/** One line of the per-row report. */
export interface ImportRow {
  row: number
  outcome: ImportOutcome
  errors: Record<string, { code: string; params?: Record<string, unknown> }>
  values: string[]
}

/** isFinished tells whether a job will not change any more. */
export const isFinished = (s: ImportStatus) => s === 'done' || s === 'failed' || s === 'cancelled'

function errorFromBody(status: number, body: unknown, requestId: string): ApiError {
  const err = (body as { error?: Record<string, unknown> } | null)?.error
  if (err && typeof err.code === 'string') {
    const details = (err.details as Record<string, unknown> | undefined) ?? {}
    const fields: Record<string, FieldError> = {}
    for (const [name, f] of Object.entries((err.fields as Record<string, FieldError> | undefined) ?? {})) {
      fields[name] = { code: f.code, message: f.message || errorText(f.code, details) || f.code }
    }
    return new ApiError({
      status,
      code: err.code,
      message: (err.message as string) || errorText(err.code, details) || err.code,
      fields,
      requestId: (err.requestId as string | undefined) ?? requestId,
      details,
    })
  }
  const code = status === 413 ? 'crm.import_too_large' : status >= 500 ? 'internal' : 'invalid'
  return new ApiError({ status, code, message: errorText(code, { max: MAX_IMPORT_MB }) || `HTTP ${status}`, requestId })
}

/**
 * uploadImport sends the sheet as multipart (fields first, then the file) and reports the upload's
 * progress (0–1). The answer is the job with its headers, preview, suggested mapping and row count.
 */
function uploadImport(file: File, storeId: number | undefined, lang: string, onProgress?: (p: number) => void, signal?: AbortSignal): Promise<ImportJob> {
  return new Promise((resolve, reject) => {
    const form = new FormData()
    if (storeId) form.append('storeId', String(storeId))
    form.append('file', file, file.name)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `${API_BASE}/imports`)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.setRequestHeader('Accept-Language', lang)
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && onProgress) onProgress(ev.loaded / ev.total)
    }
    xhr.onload = () => {
      let body: unknown = null
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = null
      }
      if (xhr.status === 201 && body) resolve(body as ImportJob)
      else reject(errorFromBody(xhr.status, body, xhr.getResponseHeader('X-Request-Id') ?? ''))
    }
    xhr.onerror = () => reject(new ApiError({ status: 0, code: 'network', message: t('common.networkError') }))
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'))
    signal?.addEventListener('abort', () => xhr.abort())
    xhr.send(form)
  })
}

/** downloadReport saves the rows that were not imported as .xlsx (GET /imports/:id/report.xlsx). */
async function downloadReport(id: number, lang: string): Promise<void> {
  let res: Response
  try {
    res = await fetch(`${API_BASE}/imports/${id}/report.xlsx`, { credentials: 'same-origin', headers: { 'Accept-Language': lang } })
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: t('common.networkError') })
  }
  if (!res.ok) {
    let body: unknown = null
    try {
      body = await res.json()
    } catch {
      body = null
    }
    throw errorFromBody(res.status, body, res.headers.get('X-Request-Id') ?? '')
  }
  const blob = await res.blob()
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = `import-${id}-rejected.xlsx`
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

export const crmImportApi = {
  upload: uploadImport,
  list: (storeId?: number, cursor?: string, limit = 10) => http.get<ListResult<ImportJob>>('/imports', { query: { storeId, cursor, limit } }),
  get: (id: number) => http.get<ImportJob>(`/imports/${id}`),
  start: (id: number, in_: StartImportInput) => http.post<ImportJob>(`/imports/${id}/start`, in_),
  cancel: (id: number) => http.post<ImportJob>(`/imports/${id}/cancel`),
  rows: (id: number, outcome: '' | 'rejected' | 'attached' | 'duplicate_in_file', cursor?: string, limit = 50) =>
    http.get<ListResult<ImportRow>>(`/imports/${id}/rows`, { query: { outcome, cursor, limit } }),
  downloadReport,
}
