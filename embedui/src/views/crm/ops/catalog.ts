// Vehicle series for the "intended series" pickers, grouped by brand (GET /catalog needs vehicle.read).
import { computed, ref } from 'vue'
import { crmOpsApi, type CatalogBrand } from '@/api/crmOps'
import { useSessionStore } from '@/stores/session'

export function useSeries() {
  const session = useSessionStore()
  const brands = ref<CatalogBrand[]>([])
  const loaded = ref(false)
  const available = computed(() => session.can('vehicle.read'))
  const groups = computed(() => brands.value.filter((b) => b.series.length > 0))
  const seriesName = computed(() => {
    const m = new Map<number, string>()
    for (const b of brands.value) for (const s of b.series) m.set(s.id, brands.value.length > 1 ? `${b.name} ${s.name}` : s.name)
    return m
  })

  async function load(): Promise<void> {
    if (!available.value) return
    try {
      brands.value = (await crmOpsApi.catalog()).items
    } catch {
      brands.value = []
    } finally {
      loaded.value = true
    }
  }

  return { brands, groups, seriesName, available, loaded, load }
}
