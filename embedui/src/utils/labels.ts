// Translated labels for codes the API returns (roles, permissions, audit actions…),
// falling back to what the server sent when a code has no translation yet.
import { labelOr } from '@/i18n'

export function roleLabel(r: { code?: string; name: string; builtin?: boolean } | null | undefined): string {
  if (!r) return ''
  if (r.builtin && r.code) return labelOr('roles.' + r.code, r.name)
  return r.name
}

/** roleLabelOfMe names the signed-in user's role (Me carries roleCode and roleName). */
export function roleLabelByCode(code: string | undefined, name: string): string {
  return code ? labelOr('roles.' + code, name) : name
}

export function permLabel(code: string): string {
  return labelOr('perm.' + code, code)
}

export function permGroupLabel(group: string): string {
  return labelOr('permGroup.' + group, group)
}

export function auditActionLabel(action: string): string {
  return labelOr('audit.action.' + action, action)
}

export function auditEntityLabel(entity: string): string {
  return labelOr('auditPage.entities.' + entity, entity)
}

export function auditResultLabel(result: string): string {
  return labelOr('auditPage.results.' + result, result)
}

export function scopeLabel(scope: string): string {
  return labelOr('scope.' + scope + '.label', scope)
}

export function kindLabel(kind: string): string {
  return labelOr('departmentKind.' + kind, kind)
}

export function storeStatusLabel(s: string): string {
  return labelOr('storePage.status.' + s, s)
}

export function userStatusLabel(s: string): string {
  return labelOr('userPage.status.' + s, s)
}

