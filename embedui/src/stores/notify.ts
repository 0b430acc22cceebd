// The signed-in user's notifications: unread count and the latest few for the bell, kept live over one
// EventSource per tab. The shell starts it when the signed-in layout mounts and stops it when it unmounts
// (sign-out leaves the layout), so a signed-out tab never keeps a stream open.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import dayjs from 'dayjs'
import { ElNotification } from 'element-plus/es'
import 'element-plus/es/components/notification/style/css'
import { NOTIFY_STREAM_URL, notifyApi, type Notification } from '@/api/notify'
import { isApiError } from '@/api/http'
import { labelOr } from '@/i18n'
import { router } from '@/router'
import { formatTime } from '@/utils/format'

/** How many notifications the bell keeps. */
export const RECENT = 8
/** Wait before opening a new stream after the server refused one (the browser retries dropped ones by itself). */
const REOPEN_MS = 10_000
const BURST_MS = 3000
const BURST_MAX = 3
/** The top bar's height (--dd-header-h) plus a gap. */
const TOAST_OFFSET = 64

/** notifyText renders a notification's title in the current language; times in params (…At) as local times. */
export function notifyText(n: Notification): string {
  const params: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(n.params ?? {})) {
    params[k] = typeof v === 'number' && k.endsWith('At') ? formatTime(v) : v
  }
  return labelOr(n.titleKey, labelOr('notify.kind.' + n.kind, n.kind), params)
}

/** notifyTime is short: the time today, the date and time otherwise. */
export function notifyTime(ms: number): string {
  const d = dayjs(ms)
  return d.isSame(dayjs(), 'day') ? d.format('HH:mm') : d.isSame(dayjs(), 'year') ? d.format('MM-DD HH:mm') : d.format('YYYY-MM-DD HH:mm')
}

export function kindLabel(kind: string): string {
  return labelOr('notify.kind.' + kind, kind)
}

const TOAST_TYPE = { info: 'info', warning: 'warning', urgent: 'error' } as const

export const useNotifyStore = defineStore('notify', () => {
  const unread = ref(0)
  const recent = ref<Notification[]>([])
  /** The stream is open. */
  const live = ref(false)
  const started = ref(false)
  /** The newest notification that arrived live (pages showing a list prepend it). */
  const arrived = ref<Notification | null>(null)
  /** Bumped when everything was marked read here (pages showing a list update their rows). */
  const allReadEpoch = ref(0)

  let es: EventSource | null = null
  let reopenTimer: ReturnType<typeof setTimeout> | undefined
  let newestId = 0
  let loaded = false
  let burst: number[] = []

  async function loadRecent(): Promise<void> {
    const [list, count] = await Promise.all([notifyApi.list({ limit: RECENT }), notifyApi.unreadCount()])
    recent.value = list.items
    unread.value = count.count
    newestId = Math.max(newestId, list.items[0]?.id ?? 0)
    loaded = true
  }

  /** start loads the bell and opens the stream; calling it again does nothing. */
  async function start(): Promise<void> {
    if (started.value) return
    started.value = true
    try {
      await loadRecent()
    } catch {
      /* the stream's first events bring the count */
    }
    if (started.value) open()
  }

  /** stop closes the stream and forgets everything (sign-out, another user next). */
  function stop(): void {
    started.value = false
    closeStream()
    clearTimeout(reopenTimer)
    unread.value = 0
    recent.value = []
    arrived.value = null
    newestId = 0
    loaded = false
  }

  function open(): void {
    closeStream()
    // After a successful load, resume right after what the list showed, so nothing that arrived in between
    // is lost; the browser sends Last-Event-ID on its own reconnects.
    const url = loaded ? `${NOTIFY_STREAM_URL}?after=${newestId}` : NOTIFY_STREAM_URL
    const source = new EventSource(url)
    es = source
    source.onopen = () => (live.value = true)
    source.addEventListener('notification', (e) => received(JSON.parse((e as MessageEvent<string>).data) as Notification))
    source.addEventListener('unread', (e) => (unread.value = (JSON.parse((e as MessageEvent<string>).data) as { count: number }).count))
    source.addEventListener('reset', () => void loadRecent().catch(() => {}))
    source.addEventListener('signout', () => {
      closeStream()
      void sessionGone()
    })
    source.onerror = () => {
      live.value = false
      // CONNECTING: the browser retries by itself (retry: 3000). CLOSED: the server refused, e.g. 401.
      if (source.readyState === EventSource.CLOSED) {
        closeStream()
        void sessionGone()
      }
    }
  }

  function closeStream(): void {
    es?.close()
    es = null
    live.value = false
  }

  /**
   * sessionGone asks the server whether we are still signed in. A 401 goes through the API client's
   * sign-in redirect (which unmounts the shell and stops this store); otherwise the stream reopens later.
   */
  async function sessionGone(): Promise<void> {
    try {
      await notifyApi.unreadCount()
    } catch (e) {
      if (isApiError(e) && e.status === 401) return
    }
    clearTimeout(reopenTimer)
    reopenTimer = setTimeout(() => {
      if (started.value && !es) open()
    }, REOPEN_MS)
  }

  function received(n: Notification): void {
    newestId = Math.max(newestId, n.id)
    if (recent.value.some((x) => x.id === n.id)) return
    recent.value = [n, ...recent.value].sort((a, b) => b.id - a.id).slice(0, RECENT)
    arrived.value = n
    if (n.popup) toast(n)
  }

  function toast(n: Notification): void {
    // A burst (a reconnect catching up, a job run) shows a few toasts; the bell counts the rest.
    const now = Date.now()
    burst = burst.filter((at) => now - at < BURST_MS)
    // A phone has room for one toast without hiding the page.
    const max = window.matchMedia?.('(max-width: 767px)').matches ? 1 : BURST_MAX
    if (burst.length >= max) return
    burst.push(now)
    const h = ElNotification({
      title: kindLabel(n.kind),
      message: notifyText(n),
      type: TOAST_TYPE[n.level] ?? 'info',
      duration: n.level === 'urgent' ? 0 : 6000,
      customClass: 'dd-notify-toast',
      offset: TOAST_OFFSET, // below the top bar: a toast never covers the bell or the user menu
      onClick: () => {
        h.close()
        void openItem(n)
      },
    })
  }

  /** markRead marks one read here and on the server (other tabs learn it from their streams). */
  async function markRead(n: Notification): Promise<Notification> {
    if (n.readAt) return n
    const updated = await notifyApi.markRead(n.id)
    recent.value = recent.value.map((x) => (x.id === n.id ? updated : x))
    unread.value = Math.max(0, unread.value - 1)
    return updated
  }

  /** markAllRead marks read what this tab has seen; a newer arrival stays unread. */
  async function markAllRead(): Promise<void> {
    await notifyApi.markAllRead(newestId || undefined)
    const now = Date.now()
    recent.value = recent.value.map((x) => (x.readAt ? x : { ...x, readAt: now }))
    unread.value = 0
    allReadEpoch.value++
  }

  /** openItem marks the notification read and goes to what it is about. */
  async function openItem(n: Notification): Promise<Notification> {
    let updated = n
    try {
      updated = await markRead(n)
    } catch {
      /* navigating matters more than the mark */
    }
    if (n.link) await router.push(n.link)
    return updated
  }

  return { unread, recent, live, started, arrived, allReadEpoch, start, stop, loadRecent, markRead, markAllRead, openItem }
})
