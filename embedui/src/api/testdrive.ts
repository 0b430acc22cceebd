// Test drives (DOMAIN S2): the typed client of app/sales/testdrive. JSON mirrors the Go types: camelCase,
// times in unix milliseconds, mileage in whole kilometres.
import { http, type ListResult } from './http'
import { listAttachments, uploadAttachment } from './attachments'

export const DRIVE_STATUSES = ['booked', 'in_progress', 'completed', 'cancelled', 'no_show'] as const
export type DriveStatus = (typeof DRIVE_STATUSES)[number]
export const CAR_STATUSES = ['active', 'maintenance', 'retired'] as const
export type CarStatus = (typeof CAR_STATUSES)[number]
export const INTENT_CHANGES = ['up', 'same', 'down'] as const
export type IntentChange = (typeof INTENT_CHANGES)[number]
/** Licence classes that cover a passenger car (testdrive.LicenceClasses). */
export const LICENCE_CLASSES = ['C1', 'C2', 'B1', 'B2', 'A1', 'A2', 'A3'] as const

export interface Car {
  id: number
  storeId: number
  modelId: number
  modelName: string
  brandName: string
  energyType: string
  plate: string
  vin: string
  vehicleId: number | null
  color: string
  mileage: number
  status: CarStatus
  note: string
  version: number
  updatedAt: number
}

export interface CarInput {
  storeId?: number
  modelId: number
  plate: string
  vin: string
  vehicleId?: number
  color: string
  mileage: number
  status: CarStatus
  note: string
  version?: number
}

export interface Feedback {
  rating: number
  comfort: number
  power: number
  handling: number
  tech: number
  intentChange: IntentChange
  comment: string
}

export interface TestDrive {
  id: number
  storeId: number
  /** true when the customer is outside the reader's scope: only the occupancy is shown (已预约). */
  hidden: boolean
  customerId: number
  customerName: string
  carId: number
  carModel: string
  carPlate: string
  consultantId: number
  consultantName: string
  startAt: number
  endAt: number
  status: DriveStatus
  route: string
  note: string
  /** masked */
  licenceNo: string
  licenceClass: string
  licenceExpiry: string
  licenceCheckedAt: number | null
  agreementSigner: string
  agreementAt: number | null
  startedAt: number | null
  mileageOut: number | null
  endedAt: number | null
  mileageIn: number | null
  feedback: Feedback | null
  cancelReason: string
  closedAt: number | null
  noShowAuto: boolean
  canWrite: boolean
  version: number
  createdAt: number
}

export interface Consultant {
  id: number
  name: string
}

export interface Calendar {
  storeId: number
  from: number
  to: number
  cars: Car[]
  items: TestDrive[]
  consultants: Consultant[]
}

export interface CalendarQuery {
  storeId?: number
  from: number
  to: number
  carId?: number
  consultantId?: number
}

/** What the booking form starts with (a clicked slot, the customer page's customer). */
export interface BookPreset {
  carId?: number
  /** unix ms */
  startAt?: number
  customer?: { id: number; name: string; phone?: string } | null
}

export interface BookInput {
  customerId: number
  carId: number
  consultantId?: number
  startAt: number
  endAt: number
  route: string
  note: string
}

export interface RescheduleInput {
  carId: number
  consultantId: number
  startAt: number
  endAt: number
  route: string
  note: string
  version: number
}

export interface CheckInput {
  licenceNo: string
  licenceClass: string
  licenceExpiry: string
  agreementSigned: boolean
  signerName: string
  version: number
}

export interface CompleteInput {
  mileageIn: number
  rating: number
  comfort: number
  power: number
  handling: number
  tech: number
  intentChange: IntentChange
  comment: string
  version: number
}

export interface WorkingHours {
  start: string
  end: string
  days: number[]
}

export interface TestDriveSettings {
  minMinutes: number
  maxMinutes: number
  noShowGraceMinutes: number
  reminderMinutes: number
  maxDistanceKm: number
  storeHours: boolean
  routes: string[]
  version: number
  storeId: number
  timezone: string
  hours: WorkingHours
}

export interface ConsultantStats {
  consultantId: number
  consultantName: string
  booked: number
  completed: number
  noShow: number
  cancelled: number
  upcoming: number
  noShowRate: number
}

export const testDriveApi = {
  files: (driveId: number) => listAttachments('test_drive', driveId),
  upload: (driveId: number, file: File, lang: string) => uploadAttachment('test_drive', driveId, file, lang),
  cars: (q: { storeId?: number; all?: boolean } = {}) => http.get<ListResult<Car>>('/test-drive-cars', { query: { storeId: q.storeId, all: q.all ? 1 : undefined } }),
  car: (id: number) => http.get<Car>(`/test-drive-cars/${id}`),
  createCar: (in_: CarInput) => http.post<Car>('/test-drive-cars', in_),
  updateCar: (id: number, in_: CarInput) => http.put<Car>(`/test-drive-cars/${id}`, in_),

  calendar: (q: CalendarQuery) => http.get<Calendar>('/test-drives', { query: { ...q } }),
  book: (in_: BookInput) => http.post<TestDrive>('/test-drives', in_),
  get: (id: number) => http.get<TestDrive>(`/test-drives/${id}`),
  reschedule: (id: number, in_: RescheduleInput) => http.put<TestDrive>(`/test-drives/${id}`, in_),
  check: (id: number, in_: CheckInput) => http.post<TestDrive>(`/test-drives/${id}/check`, in_),
  start: (id: number, mileageOut: number, version: number) => http.post<TestDrive>(`/test-drives/${id}/start`, { mileageOut, version }),
  complete: (id: number, in_: CompleteInput) => http.post<TestDrive>(`/test-drives/${id}/complete`, in_),
  cancel: (id: number, reason: string, version: number) => http.post<TestDrive>(`/test-drives/${id}/cancel`, { reason, version }),
  noShow: (id: number, version: number) => http.post<TestDrive>(`/test-drives/${id}/no-show`, { version }),
  revealLicence: (id: number) => http.post<{ licenceNo: string }>(`/test-drives/${id}/licence/reveal`),
  forCustomer: (customerId: number) => http.get<ListResult<TestDrive>>(`/customers/${customerId}/test-drives`),
  settings: (storeId?: number) => http.get<TestDriveSettings>('/test-drives/settings', { query: { storeId } }),
  saveSettings: (in_: Omit<TestDriveSettings, 'storeId' | 'timezone' | 'hours'>, storeId?: number) =>
    http.put<TestDriveSettings>('/test-drives/settings', in_, { query: { storeId } }),
  stats: (q: { storeId?: number; from?: number; to?: number } = {}) => http.get<ListResult<ConsultantStats>>('/test-drives/stats', { query: { ...q } }),
}

/** statusTag colours a drive's status. */
export function statusTag(s: DriveStatus): 'primary' | 'success' | 'warning' | 'danger' | 'info' {
  switch (s) {
    case 'booked':
      return 'primary'
    case 'in_progress':
      return 'warning'
    case 'completed':
      return 'success'
    case 'no_show':
      return 'danger'
    default:
      return 'info'
  }
}
