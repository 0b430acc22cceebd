package auth

// Permission codes. Each is an i18n key under "perm." in the UI locale files.
const (
	PermOrgRead        = "org.read"
	PermOrgManage      = "org.manage"
	PermUserRead       = "user.read"
	PermUserManage     = "user.manage"
	PermRoleRead       = "role.read"
	PermRoleManage     = "role.manage"
	PermAPIKeyManage   = "apikey.manage"
	PermAuditRead      = "audit.read"
	PermSettingsManage = "settings.manage"
	PermPIReveal       = "pi.reveal"
	PermCostRead       = "cost.read"
	PermCustomerRead   = "customer.read"
	PermCustomerWrite  = "customer.write"
	PermCustomerAssign = "customer.assign"
	PermCustomerExport = "customer.export"
	PermLeadCreate     = "lead.create"
	PermApprovalAct    = "approval.act"
	PermApprovalManage = "approval.manage"
	PermVehicleRead    = "vehicle.read"
	PermVehicleWrite   = "vehicle.write"
	PermSalesWrite     = "sales.write"
	PermServiceRead    = "service.read"
	PermServiceWrite   = "service.write"
	PermPartsRead      = "parts.read"
	PermPartsWrite     = "parts.write"
	PermFinanceRead    = "finance.read"
	PermFinanceWrite   = "finance.write"
	PermOfficeUse      = "office.use"
	PermHRManage       = "hr.manage"
	PermMarketing      = "marketing.manage"
	PermReportRead     = "report.read"
	PermAttachWrite    = "attachment.write"
	// PermBackup runs, downloads and restores backups: a backup is the whole
	// database, so it is as strong as every other permission together.
	PermBackup = "system.backup"
)

// PermissionInfo describes a permission for the role editor.
type PermissionInfo struct {
	Code  string `json:"code"`
	Group string `json:"group"`
}

// Permissions is the catalogue, in display order.
var Permissions = []PermissionInfo{
	{PermOrgRead, "system"}, {PermOrgManage, "system"}, {PermUserRead, "system"}, {PermUserManage, "system"},
	{PermRoleRead, "system"}, {PermRoleManage, "system"}, {PermAPIKeyManage, "system"}, {PermAuditRead, "system"},
	{PermSettingsManage, "system"}, {PermBackup, "system"},
	{PermPIReveal, "privacy"}, {PermCostRead, "privacy"},
	{PermCustomerRead, "crm"}, {PermCustomerWrite, "crm"}, {PermCustomerAssign, "crm"}, {PermCustomerExport, "crm"},
	{PermLeadCreate, "crm"}, {PermAttachWrite, "crm"},
	{PermApprovalAct, "sales"}, {PermApprovalManage, "sales"}, {PermSalesWrite, "sales"},
	{PermVehicleRead, "inventory"}, {PermVehicleWrite, "inventory"}, {PermPartsRead, "inventory"}, {PermPartsWrite, "inventory"},
	{PermServiceRead, "aftersales"}, {PermServiceWrite, "aftersales"},
	{PermFinanceRead, "finance"}, {PermFinanceWrite, "finance"},
	{PermOfficeUse, "office"}, {PermHRManage, "office"}, {PermMarketing, "office"},
	{PermReportRead, "report"},
}

// KnownPermission reports whether code is in the catalogue.
func KnownPermission(code string) bool {
	for _, p := range Permissions {
		if p.Code == code {
			return true
		}
	}
	return false
}

// DefaultRole is a role shipped with DealerDesk (DOMAIN.md section 0).
type DefaultRole struct {
	Code  string
	Name  string // zh-CN name stored in the database; the UI shows roles.<code>
	Scope Scope
	Perms []string
}

// RoleAdmin is the code of the group administrator role created at setup.
const RoleAdmin = "admin"

// DefaultRoles are created by the first migration-time seed (see org.SeedRoles).
var DefaultRoles = []DefaultRole{
	{RoleAdmin, "系统管理员", ScopeGroup, allPerms()},
	{"gm", "总经理", ScopeStore, []string{PermOrgRead, PermUserRead, PermRoleRead, PermAuditRead, PermPIReveal, PermCostRead,
		PermCustomerRead, PermCustomerWrite, PermCustomerAssign, PermCustomerExport, PermLeadCreate, PermApprovalAct, PermApprovalManage,
		PermVehicleRead, PermVehicleWrite, PermSalesWrite, PermServiceRead, PermPartsRead, PermFinanceRead, PermOfficeUse, PermReportRead, PermAttachWrite}},
	// The sales manager keeps the store's vehicle stock (arrivals, allocation
	// sheets, ageing thresholds); consultants reserve and sell with sales.write.
	{"sales_manager", "销售经理", ScopeStore, []string{PermOrgRead, PermUserRead, PermPIReveal, PermCustomerRead, PermCustomerWrite,
		PermCustomerAssign, PermCustomerExport, PermLeadCreate, PermApprovalAct, PermVehicleRead, PermVehicleWrite, PermSalesWrite, PermOfficeUse,
		PermReportRead, PermAttachWrite}},
	// Consultants and DCC agents call their customers: they may reveal a phone
	// (each reveal is audited); lists and exports stay masked for them.
	{"sales", "销售顾问", ScopeOwn, []string{PermPIReveal, PermCustomerRead, PermCustomerWrite, PermLeadCreate, PermVehicleRead, PermSalesWrite,
		PermOfficeUse, PermAttachWrite}},
	{"dcc", "DCC专员", ScopeOwn, []string{PermPIReveal, PermCustomerRead, PermCustomerWrite, PermLeadCreate, PermOfficeUse, PermAttachWrite}},
	{"service_advisor", "服务顾问", ScopeOwn, []string{PermCustomerRead, PermServiceRead, PermServiceWrite, PermPartsRead,
		PermVehicleRead, PermOfficeUse, PermAttachWrite}},
	{"technician", "技师", ScopeOwn, []string{PermServiceRead, PermPartsRead, PermOfficeUse, PermAttachWrite}},
	{"parts", "配件管理员", ScopeStore, []string{PermPartsRead, PermPartsWrite, PermServiceRead, PermCostRead, PermOfficeUse}},
	{"finance", "财务", ScopeStore, []string{PermOrgRead, PermFinanceRead, PermFinanceWrite, PermCostRead, PermApprovalAct,
		PermCustomerRead, PermReportRead, PermOfficeUse}},
	// HR manages every account, so it holds what consultants hold (pi.reveal):
	// nobody manages a user with rights they lack.
	{"hr", "行政人事", ScopeStore, []string{PermPIReveal, PermOrgRead, PermUserRead, PermUserManage, PermHRManage, PermOfficeUse, PermAttachWrite}},
	{"marketing", "市场专员", ScopeStore, []string{PermCustomerRead, PermLeadCreate, PermMarketing, PermReportRead, PermOfficeUse}},
}

func allPerms() []string {
	out := make([]string, len(Permissions))
	for i, p := range Permissions {
		out[i] = p.Code
	}
	return out
}
