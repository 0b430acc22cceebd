// System settings (docs/api.md: /settings/security).
import { http } from './http'

export interface SecuritySettings {
  passwordMinLength: number
  passwordRequireClasses: number
  sessionIdleMinutes: number
  sessionAbsoluteHours: number
  lockoutThreshold: number
  lockoutMinutes: number
  reauthMinutes: number
}

/** The allowed range of each setting, as docs/api.md states it. */
export const SECURITY_RANGES: Record<keyof SecuritySettings, [number, number]> = {
  passwordMinLength: [8, 64],
  passwordRequireClasses: [1, 4],
  sessionIdleMinutes: [5, 720],
  sessionAbsoluteHours: [1, 72],
  lockoutThreshold: [3, 20],
  lockoutMinutes: [1, 1440],
  reauthMinutes: [1, 60],
}

export const systemApi = {
  getSecurity: () => http.get<SecuritySettings>('/settings/security'),
  updateSecurity: (s: SecuritySettings) => http.put<SecuritySettings>('/settings/security', s),
}
