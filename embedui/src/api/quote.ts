// Quotes (DOMAIN.md S4, gated by S5 approvals): the typed client of app/sales/quote_http.go. Every
// amount is integer fen (the forms enter 元 and convert with utils/money.ts); times are unix ms.
import { http, type ListResult } from './http'
import { t } from '@/i18n'

export const QUOTE_STATUSES = ['draft', 'pending_approval', 'approved', 'sent', 'accepted', 'ordered', 'expired', 'cancelled'] as const
export type QuoteStatus = (typeof QUOTE_STATUSES)[number]

export interface TaxRule {
  code: string
  rateBp: number
  exemptBp: number
  reductionCap: number
}

export interface FinanceInput {
  downPayment: number
  downPaymentBp: number
  months: number
  annualRateBp: number
  fee: number
}

export interface QuoteLine {
  /** msrp | discount | color_surcharge | accessory | insurance | registration_fee | other_fees | purchase_tax | finance_fee */
  code: string
  name?: string
  amount: number
}

/** sales.Quote: what sales.Compute gives. Cost figures are 0 / false without cost.read. */
export interface Computed {
  lines: QuoteLine[]
  total: number
  msrp: number
  discount: number
  vehiclePrice: number
  accessoryPrice: number
  purchaseTax: number
  purchaseTaxRelief: number
  taxRule: string
  financed: boolean
  downPayment: number
  amountFinanced: number
  months: number
  annualRateBp: number
  monthlyPayment: number
  lastPayment: number
  totalInterest: number
  tradeIn: number
  cashNeed: number
  costKnown: boolean
  vehicleCost: number
  accessoryCost: number
  grossProfit: number
  grossMarginBp: number
}

export interface Installment {
  no: number
  payment: number
  principal: number
  interest: number
  balance: number
}

export interface OptionLine {
  name: string
  price: number
}

export interface AccessoryLine {
  name: string
  price: number
  /** null without cost.read, or unknown */
  cost: number | null
}

export interface Letterhead {
  storeName: string
  address: string
  phone: string
  bankAccount: string
  footer: string
}

export interface VersionSummary {
  id: number
  version: number
  latest: boolean
  status: QuoteStatus
  discount: number
  total: number
  createdAt: number
}

export interface Quote {
  id: number
  storeId: number
  customerId: number
  customerName: string
  customerPhone: string
  ownerId: number | null
  ownerName: string
  ownerPhone: string
  number: string
  version: number
  latest: boolean
  status: QuoteStatus
  needsApproval: boolean
  approvalReasons: string[]
  /** '' | pending | approved | rejected | returned | withdrawn */
  approvalStatus: string
  approvalId: number | null
  validUntil: number
  modelId: number
  modelLabel: string
  energyType: string
  color: string
  colorPrice: number
  options: OptionLine[]
  discount: number
  accessories: AccessoryLine[]
  insurance: number
  registrationFee: number
  serviceFee: number
  taxRule: TaxRule
  finance: FinanceInput | null
  tradeInId: number | null
  tradeInLabel: string
  computed: Computed
  schedule: Installment[]
  totalCapital: string
  cashNeedCapital: string
  financeCommission: number | null
  insuranceCommission: number | null
  note: string
  rev: number
  sentAt: number | null
  acceptedAt: number | null
  orderedAt: number | null
  createdAt: number
  createdByName: string
  updatedAt: number
  versions?: VersionSummary[]
  letterhead?: Letterhead
  storeName?: string
}

export interface QuoteSummary {
  id: number
  number: string
  version: number
  latest: boolean
  status: QuoteStatus
  storeId: number
  customerId: number
  customerName: string
  ownerId: number | null
  ownerName: string
  modelLabel: string
  color: string
  msrp: number
  discount: number
  total: number
  financed: boolean
  monthlyPayment: number
  needsApproval: boolean
  approvalStatus: string
  validUntil: number
  createdAt: number
}

export interface AccessoryInput {
  name: string
  price: number
  cost?: number | null
}

export interface QuoteDraft {
  customerId?: number
  modelId: number
  color: string
  options: string[]
  discount: number
  accessories: AccessoryInput[]
  /** null: the store's default */
  insurance: number | null
  registrationFee: number | null
  serviceFee: number | null
  finance: FinanceInput | null
  tradeInId: number
  note: string
  rev?: number
}

export interface Limits {
  maxDiscount: number | null
  maxDiscountBp: number | null
  minGrossMarginBp: number | null
}

export interface Preview {
  computed: Computed
  schedule: Installment[]
  needsApproval: boolean
  approvalReasons: string[]
  totalCapital: string
  insurance: number
  registrationFee: number
  serviceFee: number
  colorPrice: number
  options: OptionLine[]
  taxRule: TaxRule
  tradeInLabel: string
  modelLabel: string
  limits: Limits
}

export interface PackageTemplate {
  name: string
  price: number
  cost?: number | null
}

export interface QuoteSettings {
  maxDiscount: number | null
  maxDiscountBp: number | null
  minGrossMarginBp: number | null
  validityDays: number
  registrationFee: number
  serviceFee: number
  insuranceRateBp: number
  nevTaxRule: string
  financeCommissionBp: number
  insuranceCommissionBp: number
  defaultMonths: number
  defaultRateBp: number
  defaultDownPaymentBp: number
  packages: PackageTemplate[]
  letterhead: Letterhead
  version: number
}

export const NEV_TAX_RULES = ['auto', 'nev_2024', 'nev_2026', 'ice'] as const

export interface QuoteFilter {
  storeId?: number
  customerId?: number
  ownerId?: number
  status?: string[]
  q?: string
  versions?: 'all'
  cursor?: string
  limit?: number
}

/** The catalogue as the quote form needs it: models with their colours (surcharge) and options (price). */
export interface QuoteCatalogModel {
  id: number
  name: string
  modelYear: number
  msrp: number
  energyType: string
  colorList: { name: string; surcharge: number }[]
  options: { name: string; price: number }[]
}
export interface QuoteCatalogBrand {
  id: number
  name: string
  series: { id: number; name: string; models: QuoteCatalogModel[] }[]
}

export const quoteApi = {
  list: (f: QuoteFilter) =>
    http.get<ListResult<QuoteSummary>>('/quotes', {
      query: {
        storeId: f.storeId,
        customerId: f.customerId,
        ownerId: f.ownerId,
        status: f.status?.join(','),
        q: f.q,
        versions: f.versions,
        cursor: f.cursor,
        limit: f.limit,
      },
    }),
  get: (id: number) => http.get<Quote>(`/quotes/${id}`),
  create: (d: QuoteDraft) => http.post<Quote>('/quotes', d),
  update: (id: number, d: QuoteDraft) => http.put<Quote>(`/quotes/${id}`, d),
  preview: (d: QuoteDraft, id?: number) => http.post<Preview>(id ? `/quotes/${id}/preview` : '/quotes/preview', d),
  submit: (id: number, rev: number) => http.post<Quote>(`/quotes/${id}/submit`, { rev }),
  send: (id: number, rev: number) => http.post<Quote>(`/quotes/${id}/send`, { rev }),
  accept: (id: number, rev: number) => http.post<Quote>(`/quotes/${id}/accept`, { rev }),
  cancel: (id: number, rev: number, note: string) => http.post<Quote>(`/quotes/${id}/cancel`, { rev, note }),
  settings: (storeId?: number) => http.get<QuoteSettings>('/quotes/settings', { query: { storeId } }),
  saveSettings: (s: QuoteSettings, storeId?: number) => http.put<QuoteSettings>('/quotes/settings', s, { query: { storeId } }),
  catalog: () => http.get<ListResult<QuoteCatalogBrand>>('/catalog'),
}

/** An appraised trade-in of the customer a quote may credit (GET /trade-ins, the trade-in module). */
export interface TradeInOption {
  id: number
  label: string
  status: string
  offeredFen: number | null
  validUntil: number | null
}

export const quoteTradeIns = (customerId: number) =>
  http.get<ListResult<TradeInOption>>('/trade-ins', { query: { customerId, status: 'appraised' } })

/** The el-tag type of a status. */
export function statusTagType(s: string): 'info' | 'warning' | 'success' | 'primary' | 'danger' {
  switch (s) {
    case 'pending_approval':
      return 'warning'
    case 'approved':
    case 'sent':
      return 'primary'
    case 'accepted':
    case 'ordered':
      return 'success'
    case 'cancelled':
      return 'danger'
  }
  return 'info'
}

/** bpText renders basis points as a percentage: 399 → "3.99%". */
export function bpText(bp: number | null | undefined): string {
  if (bp == null) return ''
  const neg = bp < 0
  const a = Math.abs(bp)
  const s = String(Math.trunc(a / 100)) + (a % 100 ? '.' + String(a % 100).padStart(2, '0').replace(/0$/, '') : '')
  return (neg ? '-' : '') + s + '%'
}

/** bpInput renders basis points for an input box: 399 → "3.99". */
export function bpInput(bp: number | null | undefined): string {
  return bp == null ? '' : bpText(bp).replace('%', '')
}

/** lineLabel names a line of a computed quote (quote.line.<code>; an accessory by its name). */
export function lineLabel(l: QuoteLine): string {
  if (l.code === 'accessory') return l.name ? t('quote.line.accessoryNamed', { name: l.name }) : t('quote.line.accessory')
  return t('quote.line.' + l.code)
}

/** reasonLabel names why a quote needs approval (sales.approvalReason.<code>). */
export const reasonLabel = (r: string) => t('sales.approvalReason.' + r)
