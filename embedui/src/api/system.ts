// System settings (docs/api.md: /settings/security) and backups (/system/backup…).
import { API_BASE, ApiError, http, type FieldError } from './http'
import { errorText, t } from '@/i18n'

export interface SecuritySettings {
  passwordMinLength: number
  passwordRequireClasses: number
  sessionIdleMinutes: number
  sessionAbsoluteHours: number
  lockoutThreshold: number
  lockoutMinutes: number
  reauthMinutes: number
}

/** The allowed range of each setting, as docs/api.md states it. */
export const SECURITY_RANGES: Record<keyof SecuritySettings, [number, number]> = {
  passwordMinLength: [8, 64],
  passwordRequireClasses: [1, 4],
  sessionIdleMinutes: [5, 720],
  sessionAbsoluteHours: [1, 72],
  lockoutThreshold: [3, 20],
  lockoutMinutes: [1, 1440],
  reauthMinutes: [1, 60],
}

export const systemApi = {
  getSecurity: () => http.get<SecuritySettings>('/settings/security'),
  updateSecurity: (s: SecuritySettings) => http.put<SecuritySettings>('/settings/security', s),
}

// ---- 备份与恢复 (mirrors app/system/backup_http.go; perm system.backup; JSON as in the issue-4 contract) ----

export type BackupKind = 'scheduled' | 'manual' | 'pre_upgrade' | 'pre_restore' | 'cli'
export type BackupPhase = 'snapshot' | 'check' | 'archive' | 'encrypt' | 'verify' | 'copy' | 'rotate' | 'done'
export type BackupCompression = 'gzip' | 'zstd'

/** BackupSettings is the one settings row (key "backup"); saved whole with its version. */
export interface BackupSettings {
  enabled: boolean
  /** "HH:MM", store-local time (Asia/Shanghai). */
  time: string
  keepDaily: number
  keepWeekly: number
  keepMonthly: number
  keepSpecial: number
  /** A second folder (USB disk, NAS share) every backup is copied to; '' for none. */
  extraDir: string
  compression: BackupCompression
  /** The offline recovery key's public half ("age1…"), '' when none. Set by the recovery-key flow. */
  recoveryRecipient: string
  version: number
}

/** BackupRun is the backup in progress. */
export interface BackupRun {
  kind: BackupKind
  phase: BackupPhase
  percent: number
  startedAt: number
}

/** BackupOutcome is how the last run ended. */
export interface BackupOutcome {
  at: number
  kind: string
  name: string
  size: number
  ok: boolean
  error: string
  verified: boolean
  durationMs: number
  extraCopy: 'ok' | 'failed' | 'none'
  extraError: string
}

export interface BackupExtraDir {
  path: string
  ok: boolean
  error: string
  freeBytes: number
}

export interface BackupStatus {
  settings: BackupSettings
  running: BackupRun | null
  last: BackupOutcome | null
  lastSuccessAt: number | null
  nextRunAt: number | null
  localRecipient: string
  recoveryConfigured: boolean
  extraDir: BackupExtraDir | null
  dataFreeBytes: number
  dataDir: string
  /** i18n keys, e.g. backup.warn.no_recent. */
  warnings: string[]
}

/** BackupFile is one encrypted backup in the data dir's backups folder. */
export interface BackupFile {
  name: string
  kind: string
  createdAt: number
  size: number
  sha256: string
  schemaVersion: number
  appVersion: string
  verified: boolean
  verifiedAt: number | null
  copies: ('local' | 'extra')[]
  tables: number
  rows: number
}

export interface BackupVerifyResult {
  ok: boolean
  error: string
  errorCode: string
}

export interface RecoveryKey {
  /** The secret half (AGE-SECRET-KEY-1…): shown once, never stored by the server. */
  identity: string
  recipient: string
}

export interface RestoreResult {
  at: number
  ok: boolean
  name: string
  error: string
  errorCode: string
  asideDir: string
  schemaFrom: number
  schemaTo: number
  durationMs: number
}

/** RestoreKeyInput picks the key: neither = the machine's own key. */
export interface RestoreKeyInput {
  identity?: string
  passphrase?: string
}

/** backupDownloadURL is the file's address for a plain <a href download> (the session cookie goes along). */
export function backupDownloadURL(name: string): string {
  return `${API_BASE}/system/backups/${encodeURIComponent(name)}/download`
}

function apiErrorFrom(status: number, body: unknown, requestId: string): ApiError {
  const err = (body as { error?: Record<string, unknown> } | null)?.error
  if (err && typeof err.code === 'string') {
    const details = (err.details as Record<string, unknown> | undefined) ?? {}
    const fields: Record<string, FieldError> = {}
    for (const [name, f] of Object.entries((err.fields as Record<string, FieldError> | undefined) ?? {})) {
      fields[name] = { code: f.code, message: (f.message && f.message !== f.code ? f.message : '') || errorText(f.code, details) || f.code }
    }
    const msg = err.message as string | undefined
    return new ApiError({
      status,
      code: err.code,
      message: (msg && msg !== err.code ? msg : '') || errorText(err.code, details) || err.code,
      fields,
      requestId: (err.requestId as string | undefined) ?? requestId,
      details,
    })
  }
  const code = status === 413 ? 'too_large' : status >= 500 ? 'internal' : 'invalid'
  return new ApiError({ status, code, message: errorText(code) || `HTTP ${status}`, requestId })
}

/**
 * restoreUpload sends an uploaded .age file as multipart (identity/passphrase first, then the file) and
 * reports the upload's progress (0–1). Resolves on 202; a 403 reauth_required comes back as an ApiError
 * for the caller to re-authenticate and send again.
 */
function restoreUpload(file: File, key: RestoreKeyInput, lang: string, onProgress?: (p: number) => void): Promise<{ restoring: boolean }> {
  return new Promise((resolve, reject) => {
    const form = new FormData()
    if (key.identity) form.append('identity', key.identity)
    if (key.passphrase) form.append('passphrase', key.passphrase)
    form.append('file', file, file.name)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `${API_BASE}/system/restore`)
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
      if (xhr.status >= 200 && xhr.status < 300) resolve((body as { restoring: boolean } | null) ?? { restoring: true })
      else reject(apiErrorFrom(xhr.status, body, xhr.getResponseHeader('X-Request-Id') ?? ''))
    }
    xhr.onerror = () => reject(new ApiError({ status: 0, code: 'network', message: t('common.networkError') }))
    xhr.send(form)
  })
}

/** healthStatus answers GET /health's HTTP status without going through the error handling (0 = unreachable). */
async function healthStatus(): Promise<number> {
  try {
    const res = await fetch(`${API_BASE}/health`, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
    return res.status
  } catch {
    return 0
  }
}

export const backupApi = {
  status: () => http.get<BackupStatus>('/system/backup'),
  saveSettings: (s: BackupSettings) => http.put<BackupStatus>('/system/backup/settings', s),
  /** newRecoveryKey makes a key pair; nothing is saved until confirmRecoveryKey gets the secret half back. */
  newRecoveryKey: () => http.post<RecoveryKey>('/system/backup/recovery-key', {}),
  confirmRecoveryKey: (identity: string) => http.post<BackupStatus>('/system/backup/recovery-key/confirm', { identity }),
  run: () => http.post<{ kind: string }>('/system/backup/run', {}),
  list: () => http.get<{ items: BackupFile[] }>('/system/backups'),
  verify: (name: string) => http.post<BackupVerifyResult>(`/system/backups/${encodeURIComponent(name)}/verify`, {}),
  /** restore starts restoring a listed backup (202); errors found before the swap come back here. */
  restore: (name: string, key: RestoreKeyInput = {}) => http.post<{ restoring: boolean }>('/system/restore', { name, ...key }),
  restoreUpload,
  /** lastRestore is null when nothing was ever restored (204). */
  lastRestore: async () => (await http.get<RestoreResult | undefined>('/system/restore/last')) ?? null,
  healthStatus,
}
