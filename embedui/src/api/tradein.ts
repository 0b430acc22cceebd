// Trade-ins (DOMAIN S8, 置换): the typed client of app/sales/tradein/http.go. JSON mirrors the Go
// types: camelCase, money in integer fen, times in unix milliseconds. Appraisal photos are
// attachments of entity "trade_in" (app/attach).
import { http, type ListResult } from './http'

/** Statuses in life order (labels tradein.status.<code>). */
export const TRADEIN_STATUSES = ['registered', 'appraised', 'purchased', 'declined', 'expired', 'cancelled'] as const
export type TradeInStatus = (typeof TRADEIN_STATUSES)[number]
/** Fuel types (labels tradein.fuel.<code>). */
export const TRADEIN_FUELS = ['petrol', 'diesel', 'hybrid', 'phev', 'ev', 'other'] as const
/** The fixed condition checklist (labels tradein.check.<code>). */
export const TRADEIN_CATEGORIES = ['exterior', 'paint', 'interior', 'engine', 'gearbox', 'chassis', 'electrics', 'accident', 'tyres', 'documents'] as const
export type TradeInCategory = (typeof TRADEIN_CATEGORIES)[number]
export const TRADEIN_GRADES = ['ok', 'minor', 'major'] as const
export type TradeInGrade = (typeof TRADEIN_GRADES)[number]

export interface CheckItem {
  grade: TradeInGrade | ''
  note: string
}
export type Checklist = Record<string, CheckItem>

export interface Appraisal {
  no: number
  at: number
  byName: string
  checklist: Checklist
  offeredFen: number
  validUntil: number
  /** present only with cost.read */
  expectedResaleFen?: number | null
  reconCostFen?: number | null
  remarks: string
}

export interface Agreement {
  agreedFen: number
  handoverDate: string
  sellerName: string
  paymentNote: string
  agreedAt: number
  agreedByName: string
  confirmedByName?: string
}

export interface TradeIn {
  id: number
  storeId: number
  customerId: number
  customerName: string
  consultantId: number | null
  consultantName: string
  brand: string
  series: string
  model: string
  year: number
  firstRegDate: string
  /** normalized without the dot (浙A12345); show with formatPlate */
  plate: string
  vin: string
  mileageKm: number
  color: string
  fuel: string
  transferCount: number
  loanOutstanding: boolean
  notes: string
  status: TradeInStatus
  label: string
  appraisalNo: number
  offeredFen: number | null
  validUntil: number | null
  appraisedAt: number | null
  appraisedByName: string
  expectedResaleFen?: number | null
  reconCostFen?: number | null
  costHidden: boolean
  agreement?: Agreement
  closeReason: string
  appraisals?: Appraisal[]
  version: number
  createdAt: number
  updatedAt: number
  warnings?: string[]
}

export interface VehicleInput {
  customerId?: number
  brand: string
  series: string
  model: string
  year: number
  firstRegDate: string
  plate: string
  vin: string
  mileageKm: number
  color: string
  fuel: string
  transferCount: number
  loanOutstanding: boolean
  notes: string
  version?: number
}

export interface AppraiseInput {
  checklist: Checklist
  offeredFen: number
  validUntil?: number | null
  expectedResaleFen?: number | null
  reconCostFen?: number | null
  remarks: string
  version: number
}

export interface AgreementInput {
  agreedFen: number
  handoverDate: string
  sellerName: string
  paymentNote: string
  managerConfirm: boolean
  version: number
}

export interface TradeInFilter {
  storeId?: number
  status?: string
  customerId?: number
  consultantId?: number
  q?: string
  cursor?: string
  limit?: number
}

export interface TradeInStats {
  storeId: number
  from: number
  to: number
  registered: number
  appraisals: number
  appraisedCars: number
  avgOfferedFen: number
  purchased: number
  purchasedFen: number
}


/** formatPlate shows a stored plate with its dot: 浙A12345 → 浙A·12345. */
export function formatPlate(p: string): string {
  const cs = Array.from(p)
  return cs.length > 2 ? cs.slice(0, 2).join('') + '·' + cs.slice(2).join('') : p
}

/** The attachment entity of a trade-in (appraisal photos). */
export const TRADEIN_ATTACH_ENTITY = 'trade_in'

export const tradeInApi = {
  list: (f: TradeInFilter) => http.get<ListResult<TradeIn>>('/trade-ins', { query: { ...f } }),
  get: (id: number) => http.get<TradeIn>(`/trade-ins/${id}`),
  register: (in_: VehicleInput) => http.post<TradeIn>('/trade-ins', in_),
  update: (id: number, in_: VehicleInput) => http.put<TradeIn>(`/trade-ins/${id}`, in_),
  appraise: (id: number, in_: AppraiseInput) => http.post<TradeIn>(`/trade-ins/${id}/appraise`, in_),
  agree: (id: number, in_: AgreementInput) => http.post<TradeIn>(`/trade-ins/${id}/agreement`, in_),
  decline: (id: number, reason: string, version: number) => http.post<TradeIn>(`/trade-ins/${id}/decline`, { reason, version }),
  cancel: (id: number, reason: string, version: number) => http.post<TradeIn>(`/trade-ins/${id}/cancel`, { reason, version }),
  stats: (q: { storeId?: number; from?: number; to?: number }) => http.get<TradeInStats>('/trade-ins/stats', { query: { ...q } }),
}
