// The side menu: modules (groups) and their pages, each shown only with its permission.
import type { Component } from 'vue'
import { House, OfficeBuilding, Connection, User, Stamp, Key, Tickets, Lock, Finished, Promotion, SetUp } from '@element-plus/icons-vue'
import { Avatar, Collection } from '@element-plus/icons-vue'
import { Shop, Share, CopyDocument, Switch, Setting } from '@element-plus/icons-vue'
import { Upload } from '@element-plus/icons-vue'
import { Van, Memo } from '@element-plus/icons-vue'
import { ChatLineRound, FolderChecked, Link } from '@element-plus/icons-vue'
import { Operation, Calendar, Document, Refresh, Guide, Coin } from '@element-plus/icons-vue'

export interface MenuItem {
  route: string
  path: string
  label: string
  icon: Component
  perm?: string
  test: string
}

export interface MenuGroup {
  key: string
  label: string
  items: MenuItem[]
}

export const HOME_ITEM: MenuItem = { route: 'home', path: '/', label: 'menu.home', icon: House, test: 'menu-home' }

export const MENU: MenuGroup[] = [
  {
    key: 'crm',
    label: 'menu.crm',
    items: [
      { route: 'crm-customers', path: '/crm/customers', label: 'menu.customers', icon: Avatar, perm: 'customer.read', test: 'menu-customers' },
      { route: 'crm-pool', path: '/crm/pool', label: 'menu.pool', icon: Collection, perm: 'customer.write', test: 'menu-pool' },
      { route: 'crm-visits', path: '/crm/visits', label: 'menu.visits', icon: Shop, perm: 'lead.create', test: 'menu-visits' },
      { route: 'crm-rules', path: '/crm/rules', label: 'menu.assignRules', icon: Share, perm: 'customer.assign', test: 'menu-assign-rules' },
      { route: 'crm-import', path: '/crm/import', label: 'menu.crmImport', icon: Upload, perm: 'customer.assign', test: 'menu-crm-import' },
      { route: 'crm-duplicates', path: '/crm/duplicates', label: 'menu.duplicates', icon: CopyDocument, perm: 'customer.assign', test: 'menu-duplicates' },
      { route: 'crm-transfer', path: '/crm/transfer', label: 'menu.transfer', icon: Switch, perm: 'customer.assign', test: 'menu-transfer' },
      { route: 'crm-settings', path: '/crm/settings', label: 'menu.crmSettings', icon: Setting, perm: 'customer.assign', test: 'menu-crm-settings' },
    ],
  },
  {
    key: 'sales',
    label: 'menu.sales',
    items: [
      { route: 'sales-pipeline', path: '/sales/pipeline', label: 'menu.pipeline', icon: Operation, perm: 'customer.read', test: 'menu-pipeline' },
      { route: 'sales-test-drives', path: '/sales/test-drives', label: 'menu.testDrives', icon: Calendar, perm: 'customer.read', test: 'menu-test-drives' },
      { route: 'sales-quotes', path: '/sales/quotes', label: 'menu.quotes', icon: Document, perm: 'customer.read', test: 'menu-quotes' },
      { route: 'sales-orders', path: '/sales/orders', label: 'menu.orders', icon: Tickets, perm: 'customer.read', test: 'menu-orders' },
      { route: 'sales-trade-ins', path: '/sales/trade-ins', label: 'menu.tradeIns', icon: Refresh, perm: 'customer.read', test: 'menu-trade-ins' },
      { route: 'sales-test-drive-cars', path: '/sales/test-drive-cars', label: 'menu.testDriveCars', icon: Van, perm: 'vehicle.read', test: 'menu-test-drive-cars' },
      { route: 'sales-stages', path: '/sales/stages', label: 'menu.stages', icon: Guide, perm: 'customer.assign', test: 'menu-stages' },
      { route: 'sales-quote-settings', path: '/sales/quote-settings', label: 'menu.quoteSettings', icon: Coin, perm: 'customer.assign', test: 'menu-quote-settings' },
      { route: 'sales-order-settings', path: '/sales/order-settings', label: 'menu.orderSettings', icon: Setting, perm: 'customer.assign', test: 'menu-order-settings' },
    ],
  },
  {
    key: 'inventory',
    label: 'menu.inventory',
    items: [
      { route: 'inventory-vehicles', path: '/inventory/vehicles', label: 'menu.vehicles', icon: Van, perm: 'vehicle.read', test: 'menu-vehicles' },
      { route: 'inventory-import', path: '/inventory/import', label: 'menu.vehicleImport', icon: Upload, perm: 'vehicle.write', test: 'menu-vehicle-import' },
      { route: 'inventory-catalog', path: '/inventory/catalog', label: 'menu.catalog', icon: Memo, perm: 'vehicle.read', test: 'menu-catalog' },
    ],
  },
  {
    key: 'approval',
    label: 'menu.approval',
    items: [
      { route: 'approval-inbox', path: '/approvals/inbox', label: 'menu.approvalInbox', icon: Finished, test: 'menu-approval-inbox' },
      { route: 'approval-mine', path: '/approvals/mine', label: 'menu.approvalMine', icon: Promotion, test: 'menu-approval-mine' },
      { route: 'approval-settings', path: '/approvals/settings', label: 'menu.approvalSettings', icon: SetUp, perm: 'approval.manage', test: 'menu-approval-settings' },
    ],
  },
  {
    key: 'system',
    label: 'menu.system',
    items: [
      { route: 'stores', path: '/system/stores', label: 'menu.stores', icon: OfficeBuilding, perm: 'org.read', test: 'menu-stores' },
      { route: 'departments', path: '/system/departments', label: 'menu.departments', icon: Connection, perm: 'org.read', test: 'menu-departments' },
      { route: 'users', path: '/system/users', label: 'menu.users', icon: User, perm: 'user.read', test: 'menu-users' },
      { route: 'roles', path: '/system/roles', label: 'menu.roles', icon: Stamp, perm: 'role.read', test: 'menu-roles' },
      { route: 'apikeys', path: '/system/apikeys', label: 'menu.apikeys', icon: Key, perm: 'apikey.manage', test: 'menu-apikeys' },
      { route: 'audit', path: '/system/audit', label: 'menu.audit', icon: Tickets, perm: 'audit.read', test: 'menu-audit' },
      { route: 'security', path: '/system/security', label: 'menu.security', icon: Lock, perm: 'settings.manage', test: 'menu-security' },
      { route: 'channels', path: '/system/channels', label: 'menu.channels', icon: ChatLineRound, perm: 'settings.manage', test: 'menu-channels' },
      { route: 'webhooks', path: '/system/webhooks', label: 'menu.webhooks', icon: Link, perm: 'settings.manage', test: 'menu-webhooks' },
      { route: 'backup', path: '/system/backup', label: 'menu.backup', icon: FolderChecked, perm: 'system.backup', test: 'menu-backup' },
    ],
  },
]

/** visibleMenu keeps the items the user may open and drops groups left empty. */
export function visibleMenu(can: (perm?: string) => boolean): MenuGroup[] {
  return MENU.map((g) => ({ ...g, items: g.items.filter((i) => can(i.perm)) })).filter((g) => g.items.length > 0)
}
