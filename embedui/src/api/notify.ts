// Notifications (mirrors app/notify/http.go): the inbox, the unread count, read
// marks, per-kind choices, and the live stream's address.
import { API_BASE, http, type ListResult } from './http'

export type NotifyLevel = 'info' | 'warning' | 'urgent'

/** Notification is one message in the signed-in user's inbox. */
export interface Notification {
  id: number
  kind: string
  /** i18n key under notify.msg, rendered with params. */
  titleKey: string
  params: Record<string, unknown>
  /** In-app path to open, '' for none. */
  link: string
  entity: string
  entityId: number
  level: NotifyLevel
  storeId: number | null
  createdAt: number
  readAt: number | null
  /** The user wants a toast for this kind. */
  popup: boolean
}

/** NotifyPref is the user's choice for one kind (labels: notify.kind.<kind>, notify.group.<group>). */
export interface NotifyPref {
  kind: string
  group: string
  /** Required kinds cannot be switched off. */
  mandatory: boolean
  inApp: boolean
  popup: boolean
}

export interface NotifyPrefInput {
  kind: string
  inApp: boolean
  popup: boolean
}

export interface NotifyQuery {
  unread?: boolean
  cursor?: string
  limit?: number
}

/**
 * The Server-Sent Events stream. Events: `notification` (id = notification id, data = Notification),
 * `unread` ({count}), `reset` (more was missed than is replayed: reload), `signout` (the session ended).
 * `?after=<id>` resumes after an id on the first connect; the browser's Last-Event-ID does it on reconnects.
 */
export const NOTIFY_STREAM_URL = API_BASE + '/notifications/stream'

export const notifyApi = {
  list: (q: NotifyQuery = {}) =>
    http.get<ListResult<Notification>>('/notifications', { query: { unread: q.unread ? 1 : undefined, cursor: q.cursor, limit: q.limit } }),
  unreadCount: () => http.get<{ count: number }>('/notifications/unread-count'),
  markRead: (id: number) => http.post<Notification>(`/notifications/${id}/read`, {}),
  /** markAllRead marks everything up to upTo (the newest id the user has seen) read. */
  markAllRead: (upTo?: number) => http.post<void>('/notifications/read-all', upTo ? { upTo } : {}),
  prefs: () => http.get<ListResult<NotifyPref>>('/notifications/prefs'),
  savePrefs: (items: NotifyPrefInput[]) => http.put<ListResult<NotifyPref>>('/notifications/prefs', { items }),
}
