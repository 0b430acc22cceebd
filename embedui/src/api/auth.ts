// Setup and sign-in: docs/api.md "Setup and sign-in".
import { http } from './http'

export type Scope = 'own' | 'team' | 'store' | 'group'

export interface StoreRef {
  id: number
  name: string
}

/** Me is the signed-in user as GET /auth/me returns it. */
export interface Me {
  id: number
  username: string
  name: string
  phone: string
  locale: string
  roleId: number
  roleCode: string
  roleName: string
  roleBuiltin?: boolean
  scope: Scope
  permissions: string[]
  storeId: number
  storeName: string
  departmentId: number | null
  stores: StoreRef[]
  mustChangePassword: boolean
}

export interface SetupStatus {
  needed: boolean
  local: boolean
}

export interface SetupInput {
  token?: string
  groupName: string
  storeName: string
  storeCode: string
  adminUsername: string
  adminName: string
  adminPhone?: string
  password: string
}

export interface PasswordPolicy {
  minLength: number
  requireClasses: number
}

export interface Health {
  status: string
  version: string
  schemaVersion: number
  time: number
}

export const authApi = {
  health: () => http.get<Health>('/health', { noAuthRedirect: true }),
  setupStatus: () => http.get<SetupStatus>('/setup/status', { noAuthRedirect: true }),
  setup: (in_: SetupInput) => http.post<Me>('/setup', in_, { noAuthRedirect: true }),
  passwordPolicy: () => http.get<PasswordPolicy>('/auth/password-policy', { noAuthRedirect: true }),
  login: (login: string, password: string) =>
    http.post<Me>('/auth/login', { login, password }, { noAuthRedirect: true }),
  logout: () => http.post<void>('/auth/logout', undefined, { noAuthRedirect: true }),
  logoutAll: () => http.post<void>('/auth/logout-all'),
  me: () => http.get<Me>('/auth/me', { noAuthRedirect: true }),
  updateProfile: (name: string, locale: string) => http.put<Me>('/auth/profile', { name, locale }),
  changePassword: (oldPassword: string, newPassword: string) =>
    http.post<void>('/auth/password', { oldPassword, newPassword }),
  reauth: (password: string) => http.post<void>('/auth/reauth', { password }, { noReauth: true }),
  switchStore: (storeId: number) => http.post<Me>('/auth/switch-store', { storeId }),
}
