// Notifications (mirrors app/notify/http.go): the inbox, the unread count, read
// marks, per-kind choices, the live stream's address; and the outgoing side: group-robot/e-mail channels and webhooks.
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

// ---- 通知渠道: group robots and e-mail (mirrors app/notify channel routes; perm settings.manage) ----

export type ChannelType = 'wecom' | 'dingtalk' | 'feishu' | 'email'
export const CHANNEL_TYPES: ChannelType[] = ['wecom', 'dingtalk', 'feishu', 'email']
export type SmtpSecurity = 'ssl' | 'starttls' | 'none'

/** ChannelConfig as read: secrets come back as {set}, the webhook URL masked. */
export interface ChannelConfig {
  url: string
  secret: { set: boolean } | string
  mentionMobiles: string[]
  linkBase: string
  host: string
  port: number
  security: SmtpSecurity
  username: string
  password: { set: boolean } | string
  from: string
  to: string[]
}

/** ChannelConfigInput as written: '' in url/secret/password keeps the saved value. */
export interface ChannelConfigInput {
  url: string
  secret: string
  mentionMobiles: string[]
  linkBase: string
  host: string
  port: number
  security: SmtpSecurity
  username: string
  password: string
  from: string
  to: string[]
}

export interface Channel {
  id: number
  storeId: number
  storeName: string
  type: ChannelType
  name: string
  enabled: boolean
  /** notification kinds sent to this channel (labels notify.kind.<code>) */
  kinds: string[]
  config: ChannelConfig
  lastOkAt: number | null
  lastError: string
  version: number
  createdAt: number
  updatedAt: number
}

export interface ChannelInput {
  storeId?: number
  type: ChannelType
  name: string
  enabled: boolean
  kinds: string[]
  config: ChannelConfigInput
  /** Remove the saved 加签 secret (the robot no longer signs). */
  clearSecret?: boolean
  version?: number
}

/** ChannelTestInput is an unsaved form for a test send; with id, blank secrets are taken from that channel. */
export interface ChannelTestInput {
  id?: number
  storeId?: number
  type: ChannelType
  name: string
  config: ChannelConfigInput
  clearSecret?: boolean
}

/** The answer of a test send: the vendor's own error text when it failed. */
export interface ChannelTestResult {
  ok: boolean
  error: string
  /** what went wrong in words: an i18n key under errors.channel.send (dns, timeout, refused, tls, auth, vendor, failed) */
  errorCode?: string
  durationMs?: number
}

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed'
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'sending', 'sent', 'failed']

/** ChannelDelivery is one message sent (or being sent) to a channel. */
export interface ChannelDelivery {
  id: number
  channelId: number
  channelName: string
  channelType: ChannelType
  storeId: number
  /** a notification kind, or "test" */
  kind: string
  title: string
  body: string
  status: DeliveryStatus
  attempts: number
  nextAt: number
  lastError: string
  /** the vendor's short answer */
  response: string
  createdAt: number
  sentAt: number | null
}

/** NotifyKind is one registered notification kind (labels notify.kind.<code>, notify.group.<group>). */
export interface NotifyKind {
  code: string
  group: string
}

/** secretIsSet reads a secret field of a saved config. */
export function secretIsSet(v: { set: boolean } | string | null | undefined): boolean {
  if (!v) return false
  return typeof v === 'string' ? v !== '' : !!v.set
}

/** listKinds returns every registered notification kind: the preferences route lists them all (with their group). */
async function listKinds(): Promise<NotifyKind[]> {
  const prefs = await http.get<ListResult<NotifyPref>>('/notifications/prefs')
  return prefs.items.map((p) => ({ code: p.kind, group: p.group }))
}

export interface DeliveryQuery {
  channelId?: number | null
  status?: string
  cursor?: string
  limit?: number
}

export const channelApi = {
  list: (storeId?: number) => http.get<ListResult<Channel>>('/notify/channels', { query: { storeId } }),
  create: (in_: ChannelInput) => http.post<Channel>('/notify/channels', in_),
  update: (id: number, in_: ChannelInput) => http.put<Channel>(`/notify/channels/${id}`, in_),
  remove: (id: number) => http.del<void>(`/notify/channels/${id}`),
  /** test sends a test message through a saved channel. */
  test: (id: number) => http.post<ChannelTestResult>(`/notify/channels/${id}/test`, {}),
  /** testConfig sends a test message with a form not saved yet; id lets the server fill in kept secrets. */
  testConfig: (in_: ChannelTestInput) => http.post<ChannelTestResult>('/notify/channels/test', in_),
  deliveries: (q: DeliveryQuery = {}) =>
    http.get<ListResult<ChannelDelivery>>('/notify/deliveries', {
      query: { channelId: q.channelId ?? undefined, status: q.status, cursor: q.cursor, limit: q.limit },
    }),
  retry: (id: number) => http.post<ChannelDelivery>(`/notify/deliveries/${id}/retry`, {}),
  kinds: listKinds,
}

// ---- Webhook: signed HTTP calls to another system (mirrors app/notify webhook routes; perm settings.manage) ----

export interface Webhook {
  id: number
  /** null = every store */
  storeId: number | null
  storeName: string
  name: string
  /** query values masked; sending it back unchanged keeps the stored URL */
  url: string
  /** event types (labels webhook.event.<type>) */
  events: string[]
  enabled: boolean
  /** Send phone numbers and other personal data unmasked. */
  includePersonalData: boolean
  /** the signing secret is never shown again; only whether there is one */
  secret: { set: boolean }
  lastOkAt: number | null
  lastError: string
  createdAt: number
  updatedAt: number
  version: number
}

export interface WebhookInput {
  /** null: every store (group scope only) */
  storeId: number | null
  name: string
  url: string
  events: string[]
  enabled: boolean
  includePersonalData: boolean
  version?: number
}

/** The answer of create and rotate-secret: the signing secret, shown this once. */
export interface WebhookWithSecret {
  webhook: Webhook
  secret: string
}

export type WebhookDeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed'

export interface WebhookDelivery {
  id: number
  webhookId: number
  /** "evt_…", also the X-DealerDesk-Delivery header */
  eventId: string
  eventType: string
  status: WebhookDeliveryStatus
  attempts: number
  /** HTTP status of the last attempt; null: no answer */
  responseCode: number | null
  durationMs: number | null
  lastError: string
  createdAt: number
  deliveredAt: number | null
  nextAt: number
}

export interface WebhookDeliveryDetail extends WebhookDelivery {
  /** the exact JSON body sent (text, or already parsed) */
  payload: unknown
  /** first 1 KB of the last answer */
  responseBody: string
}

/** WebhookEventType is one event a webhook can subscribe to; group is its first part (lead, customer…). */
export interface WebhookEventType {
  type: string
  group: string
  /** false: the module that sends it is not built yet */
  available: boolean
}

/** PingResult is the outcome of a ping, sent at once (recorded in the log, not retried). */
export interface PingResult {
  ok: boolean
  error: string
  durationMs: number
  responseCode: number | null
  deliveryId: number
}

async function listEventTypes(): Promise<WebhookEventType[]> {
  const r = await http.get<ListResult<{ type: string; available?: boolean }>>('/webhooks/event-types')
  return (r.items ?? []).map((x) => ({ type: x.type, group: x.type.split('.')[0] ?? '', available: x.available !== false }))
}

export const webhookApi = {
  list: (storeId?: number) => http.get<ListResult<Webhook>>('/webhooks', { query: { storeId } }),
  create: (in_: WebhookInput) => http.post<WebhookWithSecret>('/webhooks', in_),
  update: (id: number, in_: WebhookInput) => http.put<Webhook>(`/webhooks/${id}`, in_),
  remove: (id: number) => http.del<void>(`/webhooks/${id}`),
  rotateSecret: (id: number) => http.post<WebhookWithSecret>(`/webhooks/${id}/rotate-secret`, {}),
  ping: (id: number) => http.post<PingResult>(`/webhooks/${id}/ping`, {}),
  deliveries: (id: number, cursor?: string, limit = 30) => http.get<ListResult<WebhookDelivery>>(`/webhooks/${id}/deliveries`, { query: { cursor, limit } }),
  delivery: (id: number) => http.get<WebhookDeliveryDetail>(`/webhooks/deliveries/${id}`),
  redeliver: (id: number) => http.post<WebhookDeliveryDetail>(`/webhooks/deliveries/${id}/redeliver`, {}),
  eventTypes: listEventTypes,
}
