// Orders and contracts (DOMAIN S6) and deal profit (S7): the typed client of app/sales/order/http.go.
// JSON mirrors the Go types: camelCase, money in integer fen, times in unix milliseconds. Cost figures
// (accessories cost, commissions, rebate, profit) are present only for roles with cost.read.
import { http, type ListResult } from './http'

/** Statuses in process order (labels order.status.<code>). */
export const ORDER_STATUSES = [
  'draft',
  'pending_approval',
  'signed',
  'vin_allocated',
  'pdi_done',
  'delivery_scheduled',
  'delivered',
  'closed',
  'cancelled',
] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

/** Payment kinds a consultant records and the methods (labels order.payKind.<k>, order.method.<m>). */
export const PAYMENT_KINDS = ['deposit', 'payment'] as const
export const PAYMENT_METHODS = ['cash', 'card', 'transfer', 'wechat', 'alipay', 'loan'] as const

export interface Payment {
  id: number
  kind: 'deposit' | 'payment' | 'refund'
  method: string
  amountFen: number
  receivedAt: number
  reference: string
  note: string
  status: 'recorded' | 'confirmed' | 'void'
  recordedByName: string
  confirmedByName: string
  confirmedAt: number | null
  createdAt: number
}

export interface PDIItem {
  key: string
  label: string
  state: '' | 'ok' | 'issue'
  note: string
}

export interface DeliveryItem {
  key: string
  label: string
  required: boolean
  done: boolean
}

export interface Callback {
  taskId: number
  title: string
  assigneeId: number
  assigneeName: string
  dueAt: number
  status: 'open' | 'done' | 'cancelled'
  doneAt: number | null
  note: string
}

export interface Order {
  id: number
  storeId: number
  storeName: string
  storeCode: string
  letterhead: string
  storeAddress: string
  storePhone: string
  customerId: number
  customerName: string
  ownerId: number
  ownerName: string
  contractNo: string
  status: OrderStatus
  quoteId: number
  quoteNo: string
  quoteVersion: number
  modelId: number
  modelName: string
  brandName: string
  color: string
  msrpFen: number
  vehiclePriceFen: number
  discountFen: number
  accessoriesFen: number
  accessoriesCostFen?: number
  insuranceFen: number
  registrationFen: number
  purchaseTaxFen: number
  serviceFeeFen: number
  tradeInFen: number
  tradeInId: number | null
  totalFen: number
  totalCapital: string
  financed: boolean
  downPaymentFen: number
  loanFen: number
  termMonths: number
  rateBp: number
  monthlyFen: number
  financeCommissionFen?: number
  insuranceCommissionFen?: number
  rebateFen?: number | null
  costHidden: boolean
  receivableFen: number
  paidFen: number
  balanceFen: number
  refundDueFen: number
  plannedDeliveryAt: number | null
  approvalId: number | null
  signedAt: number | null
  vehicleId: number | null
  vin: string
  vinAt: number | null
  vehicleColor: string
  pdi: PDIItem[] | null
  pdiAt: number | null
  pdiByName: string
  deliveryAt: number | null
  deliveryPlace: string
  deliveryChecklist: DeliveryItem[] | null
  deliveredAt: number | null
  deliveredByName: string
  closedAt: number | null
  cancelReason: string
  cancelNote: string
  cancelledAt: number | null
  note: string
  version: number
  createdAt: number
  updatedAt: number
  payments?: Payment[]
  callbacks?: Callback[]
  warnings?: string[]
}

export interface Profit {
  orderId: number
  contractNo: string
  customerName: string
  ownerId: number
  ownerName: string
  modelName: string
  vin: string
  status: OrderStatus
  deliveredAt: number | null
  vehiclePriceFen: number
  vehicleCostFen: number
  costKnown: boolean
  vehicleMarginFen: number
  rebateFen: number
  rebateExpected: boolean
  accessoriesFen: number
  accessoriesCostFen: number
  accessoryMarginFen: number
  serviceFeeFen: number
  financeCommissionFen: number
  insuranceCommissionFen: number
  grossBeforeCommissionFen: number
  unitRank: number
  commissionTierFen: number
  commissionShareFen: number
  consultantCommissionFen: number
  grossProfitFen: number
}

export interface ConsultantLine {
  ownerId: number
  ownerName: string
  units: number
  grossBeforeCommissionFen: number
  consultantCommissionFen: number
  grossProfitFen: number
}

export interface ProfitReport {
  from: number
  to: number
  items: Profit[]
  consultants: ConsultantLine[]
  total: ConsultantLine
  truncated: boolean
}

export interface CheckItem {
  key: string
  label: string
  required: boolean
}

export interface CallbackRule {
  offsetDays: number
  /** consultant | sales_manager | role:<code> | user:<id> */
  assignee: string
  title: string
}

export interface CommissionTier {
  minUnits: number
  perUnitFen: number
}

export interface OrderSettings {
  numberFormat: string
  pdiItems: CheckItem[]
  deliveryItems: CheckItem[]
  callbacks: CallbackRule[]
  commissionTiers: CommissionTier[]
  commissionBp: number
  expectedRebateBp: number
  balanceReminderDays: number
  cancelReasons: string[]
  costHidden: boolean
  version: number
}

export interface OrderFilter {
  status?: string[]
  ownerId?: number
  customerId?: number
  deliveryFrom?: number
  deliveryTo?: number
  balanceDue?: boolean
  q?: string
  cursor?: string
  limit?: number
}

export interface PaymentInput {
  kind: string
  method: string
  amountFen: number
  receivedAt?: number
  reference: string
  note: string
  version?: number
}

/** The attachment entity of an order (delivery photos with the customer). */
export const ORDER_ATTACH_ENTITY = 'sales_order'

export const orderApi = {
  list: (f: OrderFilter) =>
    http.get<ListResult<Order>>('/orders', {
      query: {
        status: f.status?.join(','),
        ownerId: f.ownerId,
        customerId: f.customerId,
        deliveryFrom: f.deliveryFrom,
        deliveryTo: f.deliveryTo,
        balanceDue: f.balanceDue ? 1 : undefined,
        q: f.q,
        cursor: f.cursor,
        limit: f.limit,
      },
    }),
  forCustomer: (customerId: number) => http.get<ListResult<Order>>(`/customers/${customerId}/orders`),
  get: (id: number) => http.get<Order>(`/orders/${id}`),
  create: (quoteId: number, plannedDeliveryAt: number | null, note: string) => http.post<Order>('/orders', { quoteId, plannedDeliveryAt, note }),
  submit: (id: number, version: number) => http.post<Order>(`/orders/${id}/submit`, { version }),
  pay: (id: number, p: PaymentInput) => http.post<Order>(`/orders/${id}/payments`, p),
  refund: (id: number, r: { method: string; amountFen: number; reason: string; reference: string; version?: number }) => http.post<Order>(`/orders/${id}/refunds`, r),
  confirmPayment: (id: number, paymentId: number) => http.post<Order>(`/orders/${id}/payments/${paymentId}/confirm`, {}),
  voidPayment: (id: number, paymentId: number, note: string) => http.post<Order>(`/orders/${id}/payments/${paymentId}/void`, { note }),
  profitInputs: (id: number, p: { financeCommissionFen: number; insuranceCommissionFen: number; rebateFen: number | null; version: number }) =>
    http.put<Order>(`/orders/${id}/profit-inputs`, p),
  allocate: (id: number, vehicleId: number, version: number) => http.post<Order>(`/orders/${id}/vehicle`, { vehicleId, version }),
  savePDI: (id: number, items: PDIItem[], complete: boolean, version: number) => http.put<Order>(`/orders/${id}/pdi`, { items, complete, version }),
  schedule: (id: number, deliveryAt: number, place: string, version: number) => http.post<Order>(`/orders/${id}/schedule`, { deliveryAt, place, version }),
  saveChecklist: (id: number, items: DeliveryItem[], version: number) => http.put<Order>(`/orders/${id}/checklist`, { items, version }),
  deliver: (id: number, version: number) => http.post<Order>(`/orders/${id}/deliver`, { version }),
  close: (id: number, version: number) => http.post<Order>(`/orders/${id}/close`, { version }),
  cancel: (id: number, reason: string, note: string, version: number) => http.post<Order>(`/orders/${id}/cancel`, { reason, note, version }),
  profit: (id: number) => http.get<Profit>(`/orders/${id}/profit`),
  report: (q: { from?: number; to?: number; storeId?: number; ownerId?: number }) => http.get<ProfitReport>('/orders/profit', { query: { ...q } }),
  settings: (storeId?: number) => http.get<OrderSettings>('/orders/settings', { query: { storeId } }),
  saveSettings: (s: OrderSettings, storeId?: number) => http.put<OrderSettings>('/orders/settings', s, { query: { storeId } }),
}

/** statusTagType colours a status tag. */
export function orderStatusType(s: string): 'primary' | 'success' | 'warning' | 'info' | 'danger' {
  switch (s) {
    case 'draft':
      return 'info'
    case 'pending_approval':
      return 'warning'
    case 'delivered':
    case 'closed':
      return 'success'
    case 'cancelled':
      return 'danger'
  }
  return 'primary'
}

/** The step bar: 签约 → 配车 → PDI → 交车 → 回访, and the index reached by a status. */
export const ORDER_STEPS = ['sign', 'vin', 'pdi', 'delivery', 'callback'] as const
export function stepIndex(s: OrderStatus): number {
  switch (s) {
    case 'draft':
    case 'pending_approval':
      return 0
    case 'signed':
      return 1
    case 'vin_allocated':
      return 2
    case 'pdi_done':
    case 'delivery_scheduled':
      return 3
    case 'delivered':
      return 4
    case 'closed':
      return 5
  }
  return 0
}
