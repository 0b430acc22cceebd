// Organisation: group, stores, departments, users, roles, permissions, API keys (docs/api.md "Organisation").
import { http, type ListResult } from './http'
import type { Scope } from './auth'

export interface Group {
  id: number
  name: string
  version: number
}

export type StoreStatus = 'active' | 'closed'

export interface Store {
  id: number
  code: string
  name: string
  brand: string
  address: string
  phone: string
  letterhead: string
  status: StoreStatus
  version: number
  createdAt: number
}

export interface StoreInput {
  code: string
  name: string
  brand: string
  address: string
  phone: string
  letterhead: string
}

export interface StoreUpdate extends StoreInput {
  status: StoreStatus
  version: number
}

export const DEPARTMENT_KINDS = [
  'sales',
  'dcc',
  'service',
  'parts',
  'finance',
  'admin',
  'marketing',
  'management',
  'other',
] as const
export type DepartmentKind = (typeof DEPARTMENT_KINDS)[number]

export interface Department {
  id: number
  storeId: number
  name: string
  kind: DepartmentKind
  parentId: number | null
  managerId: number | null
  version: number
}

export interface DepartmentInput {
  storeId: number
  name: string
  kind: DepartmentKind
  parentId?: number | null
  managerId?: number | null
}

export interface DepartmentUpdate {
  name: string
  kind: DepartmentKind
  parentId?: number | null
  managerId?: number | null
  version: number
}

export type UserStatus = 'active' | 'disabled'

export interface User {
  id: number
  username: string
  name: string
  phone: string
  roleId: number
  roleCode: string
  roleName: string
  roleBuiltin: boolean
  storeId: number
  storeName: string
  departmentId: number | null
  departmentName: string
  status: UserStatus
  mustChangePassword: boolean
  lastLoginAt: number | null
  createdAt: number
  version: number
}

export interface UserQuery {
  q?: string
  storeId?: number | ''
  roleId?: number | ''
  departmentId?: number | ''
  status?: UserStatus | ''
  cursor?: string
  limit?: number
}

export interface UserInput {
  username: string
  name: string
  phone: string
  roleId: number
  storeId: number
  departmentId?: number | null
  password: string
}

export interface UserUpdate {
  name: string
  phone: string
  roleId: number
  storeId: number
  departmentId?: number | null
  version: number
}

export interface Role {
  id: number
  code: string
  name: string
  builtin: boolean
  scope: Scope
  permissions: string[]
  userCount: number
  version: number
}

export interface RoleInput {
  code: string
  name: string
  scope: Scope
  permissions: string[]
}

export interface RoleUpdate {
  name: string
  scope: Scope
  permissions: string[]
  version: number
}

export interface Permission {
  code: string
  group: string
}

export interface APIKey {
  id: number
  name: string
  prefix: string
  roleId: number
  roleName: string
  storeId: number
  storeName: string
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

export interface APIKeyInput {
  name: string
  roleId: number
  storeId: number
}

export interface CreatedAPIKey {
  key: string
  apiKey: APIKey
}

export const orgApi = {
  getGroup: () => http.get<Group>('/group'),
  updateGroup: (name: string, version: number) => http.put<Group>('/group', { name, version }),

  listStores: () => http.get<ListResult<Store>>('/stores'),
  getStore: (id: number) => http.get<Store>(`/stores/${id}`),
  createStore: (in_: StoreInput) => http.post<Store>('/stores', in_),
  updateStore: (id: number, in_: StoreUpdate) => http.put<Store>(`/stores/${id}`, in_),

  listDepartments: (storeId: number) => http.get<ListResult<Department>>('/departments', { query: { storeId } }),
  createDepartment: (in_: DepartmentInput) => http.post<Department>('/departments', in_),
  updateDepartment: (id: number, in_: DepartmentUpdate) => http.put<Department>(`/departments/${id}`, in_),
  deleteDepartment: (id: number) => http.del<void>(`/departments/${id}`),

  listUsers: (q: UserQuery = {}) => http.get<ListResult<User>>('/users', { query: { ...q } }),
  getUser: (id: number) => http.get<User>(`/users/${id}`),
  createUser: (in_: UserInput) => http.post<User>('/users', in_),
  updateUser: (id: number, in_: UserUpdate) => http.put<User>(`/users/${id}`, in_),
  disableUser: (id: number) => http.post<User>(`/users/${id}/disable`),
  enableUser: (id: number) => http.post<User>(`/users/${id}/enable`),
  resetPassword: (id: number, password: string) => http.post<void>(`/users/${id}/reset-password`, { password }),
  unlockUser: (id: number) => http.post<void>(`/users/${id}/unlock`),
  /** revealPhone returns the full number (needs pi.reveal and a recent password; audited). */
  revealPhone: (id: number) => http.post<{ phone: string }>(`/users/${id}/reveal-phone`),

  listRoles: () => http.get<ListResult<Role>>('/roles'),
  createRole: (in_: RoleInput) => http.post<Role>('/roles', in_),
  updateRole: (id: number, in_: RoleUpdate) => http.put<Role>(`/roles/${id}`, in_),
  deleteRole: (id: number) => http.del<void>(`/roles/${id}`),
  listPermissions: () => http.get<ListResult<Permission>>('/permissions'),

  listAPIKeys: () => http.get<ListResult<APIKey>>('/apikeys'),
  createAPIKey: (in_: APIKeyInput) => http.post<CreatedAPIKey>('/apikeys', in_),
  revokeAPIKey: (id: number) => http.post<APIKey>(`/apikeys/${id}/revoke`),
}
