// usePagedList loads a list page by page by keyset cursor ("load more"): the first page replaces the
// items, a further page is appended. A later answer always wins over an earlier one still in flight.
import { ref, type Ref } from 'vue'
import type { ListResult } from '@/api/http'
import { messageOf } from '@/utils/feedback'

/** fetch gets the page after cursor ('' for the first page). */
export function usePagedList<T>(fetch: (cursor: string) => Promise<ListResult<T>>) {
  const items = ref([]) as Ref<T[]>
  const next = ref('')
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = ref('')
  let seq = 0

  async function load(more = false): Promise<void> {
    const my = ++seq
    if (more) loadingMore.value = true
    else loading.value = true
    error.value = ''
    try {
      const r = await fetch(more ? next.value : '')
      if (my !== seq) return
      items.value = more ? [...items.value, ...r.items] : r.items
      next.value = r.next ?? ''
    } catch (e) {
      if (my === seq) error.value = messageOf(e)
    } finally {
      if (my === seq) {
        loading.value = false
        loadingMore.value = false
      }
    }
  }

  return { items, next, loading, loadingMore, error, load }
}
