// The one fetch wrapper every API client uses. It speaks the contract of docs/api.md:
// JSON bodies, the one error shape, and the special 401/403 flows (sign-in, forced
// password change, re-authentication before sensitive operations).

export const API_BASE = '/api/v1'

/** A field-level error from the server: `fields.<name>`. */
export interface FieldError {
  code: string
  message: string
}

/** ApiError is every non-2xx answer (and network failures, with status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, FieldError>
  readonly requestId: string
  readonly details: Record<string, unknown>

  constructor(init: {
    status: number
    code: string
    message: string
    fields?: Record<string, FieldError>
    requestId?: string
    details?: Record<string, unknown>
  }) {
    super(init.message)
    this.name = 'ApiError'
    this.status = init.status
    this.code = init.code
    this.fields = init.fields ?? {}
    this.requestId = init.requestId ?? ''
    this.details = init.details ?? {}
  }

  /** fieldMessage returns the server's message for one input field, or ''. */
  fieldMessage(name: string): string {
    return this.fields[name]?.message ?? ''
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}

/** List answers: `{items, next}`; `next` is empty on the last page. */
export interface ListResult<T> {
  items: T[]
  next?: string
}

export interface RequestOptions {
  /** Query parameters; empty strings, null and undefined are left out. */
  query?: Record<string, string | number | boolean | null | undefined>
  /** Do not redirect to the sign-in page on 401 (the caller handles it). */
  noAuthRedirect?: boolean
  /** Do not run the re-authentication dialog on 403 reauth_required. */
  noReauth?: boolean
  signal?: AbortSignal
}

/** Hooks the app installs at start-up; kept here as callbacks so this module imports no router or store. */
export interface HttpHooks {
  locale: () => string
  onUnauthenticated: () => void
  onPasswordChangeRequired: () => void
  /** Asks the user for the password and calls POST /auth/reauth; resolves true when done, false when cancelled. */
  reauthenticate: () => Promise<boolean>
  /** Text for a network failure / unreadable answer in the current language. */
  networkMessage: () => string
  /** Local text for an error code (errors.<code>), '' when unknown; used when the server sent no translation. */
  translate: (code: string, params: Record<string, unknown>) => string
}

let hooks: HttpHooks = {
  locale: () => 'zh-CN',
  onUnauthenticated: () => {},
  onPasswordChangeRequired: () => {},
  reauthenticate: async () => false,
  networkMessage: () => 'Network error',
  translate: () => '',
}

export function configureHttp(h: Partial<HttpHooks>): void {
  hooks = { ...hooks, ...h }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

function buildURL(path: string, query?: RequestOptions['query']): string {
  let url = API_BASE + path
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue
      qs.set(k, String(v))
    }
    const s = qs.toString()
    if (s) url += (url.includes('?') ? '&' : '?') + s
  }
  return url
}

/** readable prefers the server's translated message; a missing one, or the bare code echoed back, is translated here. */
function readable(message: unknown, code: string, params: Record<string, unknown>): string {
  if (typeof message === 'string' && message && message !== code) return message
  return hooks.translate(code, params) || code
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown = null
  try {
    body = await res.json()
  } catch {
    body = null
  }
  const err = (body as { error?: Record<string, unknown> } | null)?.error
  if (err && typeof err.code === 'string') {
    const details = (err.details as Record<string, unknown> | undefined) ?? {}
    const fields: Record<string, FieldError> = {}
    for (const [name, f] of Object.entries((err.fields as Record<string, FieldError> | undefined) ?? {})) {
      fields[name] = { code: f.code, message: readable(f.message, f.code, details) }
    }
    return new ApiError({
      status: res.status,
      code: err.code,
      message: readable(err.message, err.code, details),
      fields,
      requestId: (err.requestId as string | undefined) ?? res.headers.get('X-Request-Id') ?? '',
      details,
    })
  }
  return new ApiError({
    status: res.status,
    code: res.status >= 500 ? 'internal' : 'invalid',
    message: hooks.networkMessage() + ` (HTTP ${res.status})`,
    requestId: res.headers.get('X-Request-Id') ?? '',
  })
}

async function send<T>(method: string, path: string, body: unknown, opts: RequestOptions, retried: boolean): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Language': hooks.locale(),
  }
  if (MUTATING.has(method)) headers['Content-Type'] = 'application/json'

  let res: Response
  try {
    res = await fetch(buildURL(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e
    throw new ApiError({ status: 0, code: 'network', message: hooks.networkMessage() })
  }

  if (res.ok) {
    if (res.status === 204) return undefined as T
    const text = await res.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  const err = await toApiError(res)
  if (res.status === 401 && !opts.noAuthRedirect) {
    hooks.onUnauthenticated()
  } else if (res.status === 403 && err.code === 'password_change_required') {
    hooks.onPasswordChangeRequired()
  } else if (res.status === 403 && err.code === 'reauth_required' && !opts.noReauth && !retried) {
    if (await hooks.reauthenticate()) {
      return send<T>(method, path, body, opts, true)
    }
  }
  throw err
}

export function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  return send<T>(method, path, body, opts, false)
}

export const http = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, undefined, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, body, opts),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, body, opts),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, undefined, opts),
}
