// Routes (all lazy-loaded) and the guards: first-run setup, sign-in, forced password change, permissions.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import { authApi } from '@/api/auth'
import { t } from '@/i18n'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string
    /** Reachable without signing in. */
    public?: boolean
    /** Permission the page needs (me.permissions). */
    perm?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/setup', name: 'setup', component: () => import('@/views/auth/SetupView.vue'), meta: { public: true, title: 'setup.title' } },
  { path: '/login', name: 'login', component: () => import('@/views/auth/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  {
    path: '/change-password',
    name: 'change-password',
    component: () => import('@/views/auth/ChangePasswordView.vue'),
    meta: { title: 'password.title' },
  },
  // Print views: outside the main layout, so the browser prints only the document.
  { path: '/print/quotes/:id(\\d+)', name: 'print-quote', component: () => import('@/views/sales/QuotePrintView.vue'), meta: { title: 'quote.print.title', perm: 'customer.read' } },
  { path: '/print/orders/:id(\\d+)', name: 'print-order', component: () => import('@/views/sales/OrderPrintView.vue'), meta: { title: 'order.print.title', perm: 'customer.read' } },
  {
    path: '/',
    component: () => import('@/layouts/MainLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeView.vue'), meta: { title: 'home.title' } },
      { path: 'profile', name: 'profile', component: () => import('@/views/ProfileView.vue'), meta: { title: 'profile.title' } },
      { path: 'notifications', name: 'notifications', component: () => import('@/views/notify/NotificationsView.vue'), meta: { title: 'notify.title' } },
      { path: 'crm/customers', name: 'crm-customers', component: () => import('@/views/crm/CustomersView.vue'), meta: { title: 'menu.customers', perm: 'customer.read' } },
      { path: 'crm/customers/:id(\\d+)', name: 'crm-customer', component: () => import('@/views/crm/CustomerView.vue'), meta: { title: 'crm.detail.title', perm: 'customer.read' } },
      { path: 'crm/leads/new', name: 'crm-lead-new', component: () => import('@/views/crm/QuickLeadView.vue'), meta: { title: 'crm.lead.title', perm: 'lead.create' } },
      { path: 'crm/pool', name: 'crm-pool', component: () => import('@/views/crm/PoolView.vue'), meta: { title: 'menu.pool', perm: 'customer.write' } },
      { path: 'crm/visits', name: 'crm-visits', component: () => import('@/views/crm/VisitsView.vue'), meta: { title: 'menu.visits', perm: 'lead.create' } },
      { path: 'crm/rules', name: 'crm-rules', component: () => import('@/views/crm/RulesView.vue'), meta: { title: 'menu.assignRules', perm: 'customer.assign' } },
      { path: 'crm/import', name: 'crm-import', component: () => import('@/views/crm/ImportView.vue'), meta: { title: 'menu.crmImport', perm: 'customer.assign' } },
      { path: 'crm/duplicates', name: 'crm-duplicates', component: () => import('@/views/crm/DuplicatesView.vue'), meta: { title: 'menu.duplicates', perm: 'customer.assign' } },
      { path: 'crm/transfer', name: 'crm-transfer', component: () => import('@/views/crm/TransferView.vue'), meta: { title: 'menu.transfer', perm: 'customer.assign' } },
      { path: 'crm/settings', name: 'crm-settings', component: () => import('@/views/crm/CrmSettingsView.vue'), meta: { title: 'menu.crmSettings', perm: 'customer.assign' } },
      { path: 'inventory/vehicles', name: 'inventory-vehicles', component: () => import('@/views/inventory/VehiclesView.vue'), meta: { title: 'menu.vehicles', perm: 'vehicle.read' } },
      { path: 'inventory/vehicles/:id(\\d+)', name: 'inventory-vehicle', component: () => import('@/views/inventory/VehicleView.vue'), meta: { title: 'vehicle.detail.title', perm: 'vehicle.read' } },
      { path: 'inventory/import', name: 'inventory-import', component: () => import('@/views/inventory/VehicleImportView.vue'), meta: { title: 'menu.vehicleImport', perm: 'vehicle.write' } },
      { path: 'inventory/catalog', name: 'inventory-catalog', component: () => import('@/views/inventory/CatalogView.vue'), meta: { title: 'menu.catalog', perm: 'vehicle.read' } },
      { path: 'inventory/catalog/import', name: 'inventory-catalog-import', component: () => import('@/views/inventory/CatalogImportView.vue'), meta: { title: 'catalog.sheet.title', perm: 'vehicle.write' } },
      { path: 'sales/pipeline', name: 'sales-pipeline', component: () => import('@/views/sales/PipelineView.vue'), meta: { title: 'menu.pipeline', perm: 'customer.read' } },
      { path: 'sales/stages', name: 'sales-stages', component: () => import('@/views/sales/StagesView.vue'), meta: { title: 'menu.stages', perm: 'customer.assign' } },
      { path: 'sales/test-drives', name: 'sales-test-drives', component: () => import('@/views/sales/TestDrivesView.vue'), meta: { title: 'menu.testDrives', perm: 'customer.read' } },
      { path: 'sales/test-drives/:id(\\d+)', name: 'sales-test-drive', component: () => import('@/views/sales/TestDriveView.vue'), meta: { title: 'testdrive.detail.title', perm: 'customer.read' } },
      { path: 'sales/test-drive-cars', name: 'sales-test-drive-cars', component: () => import('@/views/sales/TestDriveCarsView.vue'), meta: { title: 'menu.testDriveCars', perm: 'vehicle.read' } },
      { path: 'sales/quotes', name: 'sales-quotes', component: () => import('@/views/sales/QuotesView.vue'), meta: { title: 'menu.quotes', perm: 'customer.read' } },
      { path: 'sales/quotes/new', name: 'sales-quote-new', component: () => import('@/views/sales/QuoteEditView.vue'), meta: { title: 'quote.edit.newTitle', perm: 'sales.write' } },
      { path: 'sales/quotes/:id(\\d+)', name: 'sales-quote', component: () => import('@/views/sales/QuoteView.vue'), meta: { title: 'quote.detail.title', perm: 'customer.read' } },
      { path: 'sales/quotes/:id(\\d+)/edit', name: 'sales-quote-edit', component: () => import('@/views/sales/QuoteEditView.vue'), meta: { title: 'quote.edit.title', perm: 'sales.write' } },
      { path: 'sales/trade-ins', name: 'sales-trade-ins', component: () => import('@/views/sales/TradeInsView.vue'), meta: { title: 'menu.tradeIns', perm: 'customer.read' } },
      { path: 'sales/trade-ins/:id(\\d+)', name: 'sales-trade-in', component: () => import('@/views/sales/TradeInView.vue'), meta: { title: 'tradein.detail.title', perm: 'customer.read' } },
      { path: 'sales/quote-settings', name: 'sales-quote-settings', component: () => import('@/views/sales/QuoteSettingsView.vue'), meta: { title: 'menu.quoteSettings', perm: 'customer.assign' } },
      { path: 'sales/orders', name: 'sales-orders', component: () => import('@/views/sales/OrdersView.vue'), meta: { title: 'menu.orders', perm: 'customer.read' } },
      { path: 'sales/orders/:id(\\d+)', name: 'sales-order', component: () => import('@/views/sales/OrderView.vue'), meta: { title: 'order.detail.title', perm: 'customer.read' } },
      { path: 'sales/order-settings', name: 'sales-order-settings', component: () => import('@/views/sales/OrderSettingsView.vue'), meta: { title: 'menu.orderSettings', perm: 'customer.assign' } },
      { path: 'approvals/inbox', name: 'approval-inbox', component: () => import('@/views/approval/InboxView.vue'), meta: { title: 'menu.approvalInbox' } },
      { path: 'approvals/mine', name: 'approval-mine', component: () => import('@/views/approval/MineView.vue'), meta: { title: 'menu.approvalMine' } },
      { path: 'approvals/settings', name: 'approval-settings', component: () => import('@/views/approval/DefinitionsView.vue'), meta: { title: 'menu.approvalSettings', perm: 'approval.manage' } },
      { path: 'approvals/:id(\\d+)', name: 'approval-detail', component: () => import('@/views/approval/DetailView.vue'), meta: { title: 'approval.detailTitle' } },
      { path: 'system/stores', name: 'stores', component: () => import('@/views/system/StoresView.vue'), meta: { title: 'menu.stores', perm: 'org.read' } },
      { path: 'system/departments', name: 'departments', component: () => import('@/views/system/DepartmentsView.vue'), meta: { title: 'menu.departments', perm: 'org.read' } },
      { path: 'system/users', name: 'users', component: () => import('@/views/system/UsersView.vue'), meta: { title: 'menu.users', perm: 'user.read' } },
      { path: 'system/roles', name: 'roles', component: () => import('@/views/system/RolesView.vue'), meta: { title: 'menu.roles', perm: 'role.read' } },
      { path: 'system/apikeys', name: 'apikeys', component: () => import('@/views/system/ApiKeysView.vue'), meta: { title: 'menu.apikeys', perm: 'apikey.manage' } },
      { path: 'system/audit', name: 'audit', component: () => import('@/views/system/AuditView.vue'), meta: { title: 'menu.audit', perm: 'audit.read' } },
      { path: 'system/security', name: 'security', component: () => import('@/views/system/SecurityView.vue'), meta: { title: 'menu.security', perm: 'settings.manage' } },
      { path: 'system/backup', name: 'backup', component: () => import('@/views/system/BackupView.vue'), meta: { title: 'menu.backup', perm: 'system.backup' } },
      { path: 'system/channels', name: 'channels', component: () => import('@/views/system/ChannelsView.vue'), meta: { title: 'menu.channels', perm: 'settings.manage' } },
      { path: 'system/webhooks', name: 'webhooks', component: () => import('@/views/system/WebhooksView.vue'), meta: { title: 'menu.webhooks', perm: 'settings.manage' } },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { title: 'notFound.title' } },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

async function setupNeeded(): Promise<boolean> {
  try {
    return (await authApi.setupStatus()).needed
  } catch {
    return false
  }
}

router.beforeEach(async (to) => {
  const session = useSessionStore()
  if (!session.loaded) {
    try {
      await session.fetchMe()
    } catch {
      /* server unreachable: the page shows its own error when it loads data */
    }
  }

  if (to.name === 'setup') {
    if (!(await setupNeeded())) return { name: session.signedIn ? 'home' : 'login' }
    return true
  }
  if (to.name === 'login') {
    if (await setupNeeded()) return { name: 'setup' }
    if (session.signedIn) return safeRedirect(to.query.redirect)
    return true
  }
  if (to.name === 'change-password') {
    if (!session.signedIn && !session.passwordChangeRequired) return { name: 'login', query: { redirect: to.fullPath } }
    return true
  }
  if (!session.signedIn) {
    if (session.passwordChangeRequired) return { name: 'change-password' }
    if (to.name === 'home' && (await setupNeeded())) return { name: 'setup' }
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (session.me?.mustChangePassword) return { name: 'change-password' }
  if (to.meta.perm && !session.can(to.meta.perm)) return { name: 'home' }
  return true
})

router.afterEach((to) => {
  const title = to.meta.title ? t(to.meta.title) : ''
  document.title = title ? `${title} · DealerDesk` : 'DealerDesk'
})

/** safeRedirect returns the in-app path to go to after sign-in (never another origin). */
export function safeRedirect(r: unknown): string {
  const s = typeof r === 'string' ? r : ''
  return s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/login') ? s : '/'
}
