// Vehicle stock (DOMAIN I1): the typed client of app/inventory/http.go. JSON mirrors the Go types:
// camelCase, money in integer fen, times in unix milliseconds.
import { API_BASE, ApiError, http, type FieldError, type ListResult } from './http'
import type { CatalogBrand } from './crm'
import { errorText, t } from '@/i18n'

export type { CatalogBrand, CatalogModel, CatalogSeries } from './crm'

/** The statuses in their life order (labels: vehicle.status.<code>). */
export const VEHICLE_STATUSES = ['ordered', 'in_transit', 'in_stock', 'reserved', 'sold', 'delivered'] as const
export type VehicleStatus = (typeof VEHICLE_STATUSES)[number]
/** The statuses a car may be created with. */
export const CREATE_STATUSES: VehicleStatus[] = ['ordered', 'in_transit', 'in_stock']
export const AGE_LEVELS = ['normal', 'warn', 'alarm'] as const
export type AgeLevel = (typeof AGE_LEVELS)[number]
export const VEHICLE_SORTS = ['created', 'age', 'arrival', 'msrp'] as const
export type VehicleSort = (typeof VEHICLE_SORTS)[number]

/** The import mapping fields (inventory.importFields); labels vehicle.import.field.<key>. */
export const VEHICLE_IMPORT_FIELDS = ['vin', 'model', 'color', 'cost', 'msrp', 'status', 'expectedAt', 'location', 'options', 'note'] as const
export type VehicleImportField = (typeof VEHICLE_IMPORT_FIELDS)[number]
/** The largest sheet the server takes (inventory.MaxImportBytes). */
export const MAX_VEHICLE_IMPORT_MB = 10
export const MAX_VEHICLE_IMPORT_ROWS = 5000

export interface VehicleEvent {
  id: number
  at: number
  by: number | null
  byName: string
  /** '' on create */
  fromStatus: string
  toStatus: string
  detail: Record<string, unknown>
}

export interface Vehicle {
  id: number
  storeId: number
  storeName: string
  vin: string
  modelId: number
  modelName: string
  modelYear: number
  seriesId: number
  seriesName: string
  brandId: number
  brandName: string
  energyType: string
  color: string
  options: string
  status: VehicleStatus
  location: string
  arrivalAt: number | null
  expectedAt: number | null
  soldAt: number | null
  daysInStock: number | null
  /** '' when not arrived */
  ageLevel: AgeLevel | ''
  /** fen; null when unknown or hidden */
  cost: number | null
  costHidden: boolean
  /** fen */
  msrp: number
  reservedCustomerId: number | null
  reservedCustomerName: string
  reservedBy: number | null
  reservedByName: string
  reservedUntil: number | null
  orderId: number | null
  note: string
  version: number
  createdAt: number
  createdBy: number | null
  updatedAt: number
  updatedBy: number | null
  /** e.g. ['vin.check_digit'] after saving a non-China VIN with a wrong check digit */
  warnings?: string[]
  /** GET /vehicles/:id only, oldest first */
  history?: VehicleEvent[]
}

export interface VehicleInput {
  storeId?: number
  vin: string
  modelId: number
  color: string
  options: string
  /** create only */
  status?: VehicleStatus
  location: string
  arrivalAt?: number | null
  expectedAt?: number | null
  cost?: number | null
  msrp?: number | null
  note: string
  version?: number
}

export interface VehicleFilter {
  storeId?: number
  status?: string[]
  brandId?: number
  seriesId?: number
  modelId?: number
  color?: string
  age?: AgeLevel | ''
  vin?: string
  q?: string
  sort?: VehicleSort
  order?: 'asc' | 'desc' | ''
  cursor?: string
  limit?: number
  count?: boolean
}

export interface VehicleList {
  items: Vehicle[]
  next: string
  total?: number
  totalCapped?: boolean
}

export interface StatusInput {
  status: VehicleStatus
  arrivalAt?: number | null
  note?: string
  correction?: boolean
  reason?: string
  /** 0: not checked */
  version?: number
}

export interface StockSettings {
  warnDays: number
  alarmDays: number
  version: number
}

export interface VehicleImportPreview {
  headers: string[]
  /** field → 0-based column */
  mapping: Record<string, number>
  rows: string[][]
  total: number
}

export interface VehicleImportRow {
  row: number
  vin: string
  result: 'created' | 'updated' | 'rejected'
  code?: string
  id?: number
}

export interface VehicleImportResult {
  created: number
  updated: number
  rejected: number
  rows: VehicleImportRow[]
}

/** vehicleQuery turns a filter into query parameters (status as a comma list, count as 1). */
export function vehicleQuery(f: VehicleFilter): Record<string, string | number | undefined> {
  return {
    storeId: f.storeId || undefined,
    status: f.status?.length ? f.status.join(',') : undefined,
    brandId: f.brandId || undefined,
    seriesId: f.seriesId || undefined,
    modelId: f.modelId || undefined,
    color: f.color || undefined,
    age: f.age || undefined,
    vin: f.vin || undefined,
    q: f.q?.trim() || undefined,
    sort: f.sort && f.sort !== 'created' ? f.sort : undefined,
    order: f.order || undefined,
    cursor: f.cursor || undefined,
    limit: f.limit,
    count: f.count ? 1 : undefined,
  }
}

/** exportURL is the link of GET /vehicles/export with the list's filters (no paging). */
export function exportURL(f: VehicleFilter): string {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(vehicleQuery({ ...f, cursor: undefined, limit: undefined, count: undefined }))) {
    if (v !== undefined && v !== '') qs.set(k, String(v))
  }
  const s = qs.toString()
  return `${API_BASE}/vehicles/export${s ? '?' + s : ''}`
}

function errorFromBody(status: number, body: unknown, requestId: string): ApiError {
  const err = (body as { error?: Record<string, unknown> } | null)?.error
  if (err && typeof err.code === 'string') {
    const details = (err.details as Record<string, unknown> | undefined) ?? {}
    const fields: Record<string, FieldError> = {}
    for (const [name, f] of Object.entries((err.fields as Record<string, FieldError> | undefined) ?? {})) {
      fields[name] = { code: f.code, message: f.message && f.message !== f.code ? f.message : errorText(f.code, details) || f.code }
    }
    return new ApiError({
      status,
      code: err.code,
      message: (err.message as string) && err.message !== err.code ? (err.message as string) : errorText(err.code, details) || err.code,
      fields,
      requestId: (err.requestId as string | undefined) ?? requestId,
      details,
    })
  }
  const code = status === 413 ? 'too_large' : status >= 500 ? 'internal' : 'invalid'
  return new ApiError({ status, code, message: errorText(code) || `HTTP ${status}`, requestId })
}

/** postForm sends a multipart form (the sheet upload) and reads the JSON answer or the error shape. */
async function postForm<T>(path: string, form: FormData, lang: string): Promise<T> {
  let res: Response
  try {
    res = await fetch(API_BASE + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Accept-Language': lang },
      body: form,
    })
  } catch {
    throw new ApiError({ status: 0, code: 'network', message: t('common.networkError') })
  }
  let body: unknown = null
  try {
    body = await res.json()
  } catch {
    body = null
  }
  if (res.ok && body) return body as T
  throw errorFromBody(res.status, body, res.headers.get('X-Request-Id') ?? '')
}

export const inventoryApi = {
  catalog: () => http.get<ListResult<CatalogBrand>>('/catalog'),
  list: (f: VehicleFilter) => http.get<VehicleList>('/vehicles', { query: vehicleQuery(f) }),
  get: (id: number) => http.get<Vehicle>(`/vehicles/${id}`),
  create: (in_: VehicleInput) => http.post<Vehicle>('/vehicles', in_),
  update: (id: number, in_: VehicleInput) => http.put<Vehicle>(`/vehicles/${id}`, in_),
  setStatus: (id: number, in_: StatusInput) => http.post<Vehicle>(`/vehicles/${id}/status`, in_),
  reserve: (id: number, customerId: number, until?: number | null, note?: string) =>
    http.post<Vehicle>(`/vehicles/${id}/reserve`, { customerId, until: until ?? undefined, note: note || undefined }),
  release: (id: number, note?: string) => http.post<Vehicle>(`/vehicles/${id}/release`, { note: note || undefined }),
  sell: (id: number, customerId: number) => http.post<Vehicle>(`/vehicles/${id}/sell`, { customerId }),
  getSettings: (storeId?: number) => http.get<StockSettings>('/vehicles/settings', { query: { storeId } }),
  saveSettings: (in_: StockSettings, storeId?: number) => http.put<StockSettings>('/vehicles/settings', in_, { query: { storeId } }),
  importPreview(file: File, lang: string): Promise<VehicleImportPreview> {
    const form = new FormData()
    form.append('file', file, file.name)
    return postForm<VehicleImportPreview>('/vehicles/import/preview', form, lang)
  },
  import(file: File, mapping: Record<string, number>, storeId: number | undefined, lang: string): Promise<VehicleImportResult> {
    const form = new FormData()
    if (storeId) form.append('storeId', String(storeId))
    form.append('mapping', JSON.stringify(mapping))
    form.append('file', file, file.name)
    return postForm<VehicleImportResult>('/vehicles/import', form, lang)
  },
}

// ---- the vehicle catalogue editor (app/inventory/catalog_http.go, catalog_edit.go) ----

/** The energy types (labels catalog.energyType.<code>). */
export const CATALOG_ENERGY_TYPES = ['ice', 'hev', 'phev', 'bev', 'erev'] as const
export type CatalogEnergyType = (typeof CATALOG_ENERGY_TYPES)[number]
/** The price-list import fields (labels catalog.sheet.field.<key>); the first three are required. */
export const CATALOG_IMPORT_FIELDS = ['brand', 'series', 'name', 'year', 'code', 'msrp', 'energy', 'colors', 'body'] as const
export const CATALOG_IMPORT_REQUIRED = ['brand', 'series', 'name']

export interface CatalogColor {
  name: string
  /** fen */
  surcharge: number
}

export interface CatalogOption {
  name: string
  /** fen */
  price: number
  /** fen; null when unknown or hidden (no cost.read) */
  cost?: number | null
}

export interface EditModel {
  id: number
  seriesId: number
  name: string
  modelYear: number
  code: string
  /** fen */
  msrp: number
  energyType: string
  active: boolean
  version: number
  colors: string[]
  colorList: CatalogColor[]
  options: CatalogOption[]
}

export interface EditSeries {
  id: number
  brandId: number
  name: string
  bodyType: string
  active: boolean
  version: number
  models: EditModel[]
}

export interface EditBrand {
  id: number
  name: string
  active: boolean
  version: number
  series: EditSeries[]
}

export interface BrandInput {
  name: string
  active?: boolean
  version?: number
}

export interface SeriesInput {
  brandId: number
  name: string
  bodyType: string
  active?: boolean
  version?: number
}

export interface ModelInput {
  seriesId: number
  name: string
  modelYear: number
  code: string
  /** fen */
  msrp: number
  energyType: string
  active?: boolean
  version?: number
}

export interface CatalogImportRow {
  row: number
  result: 'created' | 'updated' | 'rejected'
  code?: string
  modelId?: number
}

export interface CatalogImportResult {
  created: number
  updated: number
  rejected: number
  rows: CatalogImportRow[]
}

export const catalogApi = {
  /** all: retired brands, series and models too (editors). */
  list: (all = false) => http.get<ListResult<EditBrand>>('/catalog', { query: { all: all ? 1 : undefined } }),
  createBrand: (in_: BrandInput) => http.post<EditBrand>('/catalog/brands', in_),
  updateBrand: (id: number, in_: BrandInput) => http.put<EditBrand>(`/catalog/brands/${id}`, in_),
  createSeries: (in_: SeriesInput) => http.post<EditSeries>('/catalog/series', in_),
  updateSeries: (id: number, in_: SeriesInput) => http.put<EditSeries>(`/catalog/series/${id}`, in_),
  createModel: (in_: ModelInput) => http.post<EditModel>('/catalog/models', in_),
  updateModel: (id: number, in_: ModelInput) => http.put<EditModel>(`/catalog/models/${id}`, in_),
  deleteModel: (id: number) => http.del<void>(`/catalog/models/${id}`),
  setColors: (id: number, version: number, colors: CatalogColor[]) => http.put<EditModel>(`/catalog/models/${id}/colors`, { version, colors }),
  setOptions: (id: number, version: number, options: CatalogOption[]) => http.put<EditModel>(`/catalog/models/${id}/options`, { version, options }),
  importPreview(file: File, lang: string): Promise<VehicleImportPreview> {
    const form = new FormData()
    form.append('file', file, file.name)
    return postForm<VehicleImportPreview>('/catalog/import/preview', form, lang)
  },
  import(file: File, mapping: Record<string, number>, lang: string): Promise<CatalogImportResult> {
    const form = new FormData()
    form.append('mapping', JSON.stringify(mapping))
    form.append('file', file, file.name)
    return postForm<CatalogImportResult>('/catalog/import', form, lang)
  },
}
