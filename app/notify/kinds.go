package notify

// Kind is one sort of notification: its code (what domains put in Message.Kind),
// the group the preferences page files it under, and whether users may mute it.
// Labels are the UI's notify.kind.<code> and notify.group.<group>.
type Kind struct {
	Code      string `json:"code"`
	Group     string `json:"group"`
	Mandatory bool   `json:"mandatory"`
}

// Kinds is the registry of every kind a domain may send; Send refuses others, so
// a new kind gets its label and its place on the preferences page when added here.
// Mandatory kinds are the ones whose silence costs a customer or blocks a
// colleague: overdue-lead escalations and approvals waiting for a decision.
var Kinds = []Kind{
	{Code: "lead.assigned", Group: "crm"},
	{Code: "lead.returned", Group: "crm"},
	{Code: "lead.unassigned", Group: "crm"},
	{Code: "lead.sla_overdue", Group: "crm", Mandatory: true},
	{Code: "lead.sla_escalated", Group: "crm", Mandatory: true},
	{Code: "customer.reassigned", Group: "crm"},
	{Code: "customer.pooled", Group: "crm"},
	{Code: "import.done", Group: "crm"},                       // a customer import the user started has finished or failed
	{Code: "vehicle.reservation_expired", Group: "inventory"}, // a car the consultant reserved went back to stock
	{Code: "vehicle.ageing", Group: "inventory"},              // a car passed the store's ageing threshold (to sales managers)
	{Code: "task.reminder", Group: "task"},
	{Code: "order.balance_due", Group: "sales"}, // an order has an unpaid balance shortly before its delivery date (to the consultant)
	{Code: "tradein.expired", Group: "sales"},   // a trade-in appraisal offer passed its valid-until (to the consultant)
	{Code: "approval.pending", Group: "approval", Mandatory: true},
	{Code: "approval.reminder", Group: "approval", Mandatory: true},
	{Code: "approval.decided", Group: "approval"},
	{Code: "approval.commented", Group: "approval"},
	{Code: "channel.failed", Group: "system"}, // a chat robot or mailbox gave up on a message (to settings managers)
	{Code: "webhook.failed", Group: "system"}, // a webhook gave up on an event (to settings managers)
	// a backup failed, its copy to the extra folder failed, or none succeeded for
	// 26 hours (to users holding system.backup): silence here loses data
	{Code: "backup.failed", Group: "system", Mandatory: true},
}

// LookupKind returns the registered kind with the code.
func LookupKind(code string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Code == code {
			return k, true
		}
	}
	return Kind{}, false
}

// The levels of a notification: how loudly the UI shows it.
const (
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelUrgent  = "urgent"
)

// The channels a user can switch per kind. In-app is the inbox itself; popup is
// the toast a live browser shows for a new in-app notification.
const (
	ChannelInApp = "in_app"
	ChannelPopup = "popup"
)
