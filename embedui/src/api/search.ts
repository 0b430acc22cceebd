// The global search box (Go: app/findex/http.go): GET /search, POST /search/rebuild.
import { http } from './http'

/** One hit: `id` is "<kind>:<entityId>"; `subtitle` carries masked data only. */
export interface SearchHit {
  id: string
  kind: string
  entityId: number
  title: string
  subtitle: string
  /** UI route of the record; '' when the server knows none (see hitLink). */
  link: string
}

export interface SearchResult {
  items: SearchHit[]
  total: number
  /** The index is being rebuilt: results may be incomplete. */
  rebuilding: boolean
}

/** search finds records by name, pinyin or initials, phone digits or tag, within the caller's data scope. */
export function search(q: string, limit = 20, signal?: AbortSignal): Promise<SearchResult> {
  return http.get<SearchResult>('/search', { query: { q, limit }, signal })
}

/** rebuildSearchIndex starts a rebuild of the index from the database (settings.manage). */
export function rebuildSearchIndex(): Promise<{ status: 'started' | 'running' }> {
  return http.post<{ status: 'started' | 'running' }>('/search/rebuild')
}

/** Routes of the kinds whose server registration gives no link. */
const fallbackLinks: Record<string, (id: number) => string> = {
  customer: (id) => `/crm/customers/${id}`,
}

/** hitLink is where a hit opens: the server's link, else the kind's known route, else ''. */
export function hitLink(h: SearchHit): string {
  if (h.link) return h.link
  return fallbackLinks[h.kind]?.(h.entityId) ?? ''
}
