// Shared pieces of the stock pages: status labels and colours, the catalogue (cached once), the
// cascader options built from it, the local VIN check and the status moves a user may make.
import { computed, shallowRef, type Ref } from 'vue'
import { inventoryApi, type CatalogBrand, type CatalogModel, type Vehicle, type VehicleStatus } from '@/api/inventory'
import { labelOr, t } from '@/i18n'

export function statusLabel(s: string): string {
  return labelOr('vehicle.status.' + s, s)
}

export function ageLabel(level: string): string {
  return level ? labelOr('vehicle.age.' + level, level) : ''
}

export function modelText(v: Pick<Vehicle, 'brandName' | 'seriesName' | 'modelName' | 'modelYear'>): string {
  const year = v.modelYear ? t('vehicle.modelYear', { year: v.modelYear }) : ''
  return [v.seriesName, year, v.modelName].filter(Boolean).join(' ')
}

/** vinParts splits a VIN for display: the last 8 characters (what the floor calls a car by) in bold. */
export function vinParts(vin: string): { head: string; tail: string } {
  const n = Math.max(0, vin.length - 8)
  return { head: vin.slice(0, n), tail: vin.slice(n) }
}

/** normalizeVin is what a VIN box keeps of what is typed: upper case, no spaces. */
export function normalizeVin(s: string): string {
  return s.toUpperCase().replace(/[\s-]/g, '')
}

/**
 * vinProblem is the local check before the server's (which also checks the check digit): '' when the
 * VIN may be valid, else an i18n key.
 */
export function vinProblem(vin: string): string {
  if (!vin) return ''
  if (/[IOQ]/.test(vin)) return 'vehicle.vin.ioq'
  if (/[^A-Z0-9]/.test(vin)) return 'vehicle.vin.badChar'
  if (vin.length !== 17) return 'vehicle.vin.length'
  return ''
}

/** The moves POST /status makes in normal work (reserve, release and sell have their own calls). */
const LOGISTICS: Partial<Record<VehicleStatus, VehicleStatus[]>> = {
  ordered: ['in_transit'],
  in_transit: ['in_stock'],
  sold: ['delivered'],
}
export function logisticsMoves(from: VehicleStatus): VehicleStatus[] {
  return LOGISTICS[from] ?? []
}
/** The targets an administrator's correction may pick (reserving needs the reserve call). */
export function correctionTargets(v: Vehicle): VehicleStatus[] {
  const all: VehicleStatus[] = ['ordered', 'in_transit', 'in_stock', 'sold', 'delivered']
  return all.filter((s) => s !== v.status && ((s !== 'sold' && s !== 'delivered') || v.reservedCustomerId != null))
}

// ---- the catalogue (GET /catalog), loaded once ----

const catalog = shallowRef<CatalogBrand[]>([])
let loading: Promise<void> | null = null

export type CascaderOption = {
  value: number
  label: string
  children?: CascaderOption[]
  leaf?: boolean
}

export interface ModelInfo extends CatalogModel {
  brandId: number
  brandName: string
  seriesId: number
  seriesName: string
}

export function useCatalog(): {
  catalog: Ref<CatalogBrand[]>
  options: Ref<CascaderOption[]>
  models: Ref<Map<number, ModelInfo>>
  colors: (path: number[]) => string[]
  reload: () => Promise<void>
} {
  if (!loading) loading = load()
  const options = computed<CascaderOption[]>(() =>
    catalog.value.map((b) => ({
      value: b.id,
      label: b.name,
      children: b.series.map((s) => ({
        value: s.id,
        label: s.name,
        children: s.models.map((m) => ({ value: m.id, label: m.modelYear ? `${m.modelYear} ${m.name}` : m.name, leaf: true })),
      })),
    })),
  )
  const models = computed(() => {
    const out = new Map<number, ModelInfo>()
    for (const b of catalog.value)
      for (const s of b.series) for (const m of s.models) out.set(m.id, { ...m, brandId: b.id, brandName: b.name, seriesId: s.id, seriesName: s.name })
    return out
  })
  /** colors lists the colours under a cascader path (brand, series or model), each once. */
  function colors(path: number[]): string[] {
    const set = new Set<string>()
    for (const b of catalog.value) {
      if (path[0] && b.id !== path[0]) continue
      for (const s of b.series) {
        if (path[1] && s.id !== path[1]) continue
        for (const m of s.models) {
          if (path[2] && m.id !== path[2]) continue
          m.colors.forEach((c) => set.add(c))
        }
      }
    }
    return [...set]
  }
  return {
    catalog,
    options,
    models,
    colors,
    reload: () => (loading = load()),
  }
}

async function load(): Promise<void> {
  try {
    catalog.value = (await inventoryApi.catalog()).items
  } catch {
    catalog.value = []
    loading = null
  }
}

/** modelPath finds the cascader path [brand, series, model] of a model id. */
export function modelPath(models: Map<number, ModelInfo>, id: number | null | undefined): number[] {
  const m = id ? models.get(id) : undefined
  return m ? [m.brandId, m.seriesId, m.id] : []
}
