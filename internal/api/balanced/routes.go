package balanced

import (
	"net/http"

	"github.com/poise-payments/poise/internal/achfile"
)

// routes registers every endpoint of the API.
func (a *API) routes() {
	r := &a.router
	r.public(http.MethodGet, "/", a.root)
	r.opensTenant(http.MethodPost, "/api_keys", a.createAPIKey)
	r.handle(http.MethodGet, "/api_keys", a.listAPIKeys)
	r.handle(http.MethodGet, "/api_keys/:id", a.getAPIKey)
	r.handle(http.MethodDelete, "/api_keys/:id", a.deleteAPIKey)

	r.handle(http.MethodPost, "/marketplaces", a.createMarketplace)
	r.handle(http.MethodGet, "/marketplaces", a.listMarketplaces)
	r.handle(http.MethodGet, "/marketplaces/:id", a.getTyped("marketplaces"))
	r.handle(http.MethodPut, "/marketplaces/:id", a.updateMarketplace)
	r.handle(http.MethodGet, "/marketplaces/:id/test_clock", a.testClock)
	r.handle(http.MethodPost, "/marketplaces/:id/test_clock", a.advanceTestClock)
	r.handle(http.MethodGet, "/marketplaces/:id/ach_settings", a.getACHSettings)
	r.handle(http.MethodPut, "/marketplaces/:id/ach_settings", a.putACHSettings)
	r.handle(http.MethodGet, "/marketplaces/:id/escrow", a.marketplaceEscrow)
	r.handle(http.MethodGet, "/marketplaces/:id/escrow_policy", a.getEscrowPolicy)
	r.handle(http.MethodPut, "/marketplaces/:id/escrow_policy", a.putEscrowPolicy)
	r.handle(http.MethodGet, "/ach_files", a.listACHFiles)
	r.handle(http.MethodGet, "/ach_files/:id", a.getACHFile)
	r.handle(http.MethodGet, "/ach_files/:id/content", a.achFileContent)
	r.handle(http.MethodPost, "/ach_returns", a.postACHReturns)
	r.routes[len(r.routes)-1].maxBody = achfile.MaxReturnsFileBytes

	r.handle(http.MethodGet, "/resources/:id", a.getResource)

	r.handle(http.MethodPost, "/customers", a.createCustomer)
	r.handle(http.MethodGet, "/customers", a.listAll("customers"))
	r.handle(http.MethodGet, "/customers/:id", a.getTyped("customers"))
	r.handle(http.MethodPut, "/customers/:id", a.updateCustomer)
	r.handle(http.MethodPatch, "/customers/:id", a.updateCustomer)
	r.handle(http.MethodDelete, "/customers/:id", a.deleteCustomer)
	for _, sub := range []struct{ typ, rel string }{
		{"cards", "customer"}, {"bank_accounts", "customer"}, {"external_accounts", "customer"},
		{"debits", "customer"}, {"credits", "customer"}, {"refunds", "customer"}, {"reversals", "customer"},
		{"card_holds", "customer"}, {"disputes", "customer"}, {"accounts", "customer"},
	} {
		r.handle(http.MethodGet, "/customers/:id/"+sub.typ, a.listLinked(sub.typ, sub.rel))
	}
	r.handle(http.MethodGet, "/customers/:id/orders", a.listLinked("orders", "merchant"))
	r.handle(http.MethodPost, "/customers/:id/orders", a.createOrder)
	r.handle(http.MethodPost, "/customers/:id/debits", a.debitCustomer)
	r.handle(http.MethodPost, "/customers/:id/credits", a.creditCustomer)
	r.handle(http.MethodPost, "/customers/:id/cards", a.tokenize("cards", true))
	r.handle(http.MethodPost, "/customers/:id/bank_accounts", a.tokenize("bank_accounts", true))

	r.public(http.MethodPost, "/cards", a.tokenize("cards", false))
	r.handle(http.MethodGet, "/cards", a.listAll("cards"))
	r.handle(http.MethodGet, "/cards/:id", a.getTyped("cards"))
	r.handle(http.MethodPut, "/cards/:id", a.updateInstrument("cards"))
	r.handle(http.MethodPatch, "/cards/:id", a.updateInstrument("cards"))
	r.handle(http.MethodDelete, "/cards/:id", a.deleteInstrument("cards"))
	r.handle(http.MethodPost, "/cards/:id/debits", a.debitInstrument("cards"))
	r.handle(http.MethodGet, "/cards/:id/debits", a.listLinked("debits", "source"))
	r.handle(http.MethodPost, "/cards/:id/credits", a.creditInstrument("cards"))
	r.handle(http.MethodGet, "/cards/:id/credits", a.listLinked("credits", "destination"))
	r.handle(http.MethodPost, "/cards/:id/card_holds", a.createHold)
	r.handle(http.MethodGet, "/cards/:id/card_holds", a.listLinked("card_holds", "card"))
	r.handle(http.MethodGet, "/cards/:id/disputes", a.listLinked("disputes", "source"))

	r.public(http.MethodPost, "/bank_accounts", a.tokenize("bank_accounts", false))
	r.handle(http.MethodGet, "/bank_accounts", a.listAll("bank_accounts"))
	r.handle(http.MethodGet, "/bank_accounts/:id", a.getTyped("bank_accounts"))
	r.handle(http.MethodPut, "/bank_accounts/:id", a.updateInstrument("bank_accounts"))
	r.handle(http.MethodPatch, "/bank_accounts/:id", a.updateInstrument("bank_accounts"))
	r.handle(http.MethodDelete, "/bank_accounts/:id", a.deleteInstrument("bank_accounts"))
	r.handle(http.MethodPost, "/bank_accounts/:id/debits", a.debitInstrument("bank_accounts"))
	r.handle(http.MethodGet, "/bank_accounts/:id/debits", a.listLinked("debits", "source"))
	r.handle(http.MethodPost, "/bank_accounts/:id/credits", a.creditInstrument("bank_accounts"))
	r.handle(http.MethodGet, "/bank_accounts/:id/credits", a.listLinked("credits", "destination"))
	r.handle(http.MethodPost, "/bank_accounts/:id/verifications", a.createVerification)
	r.handle(http.MethodGet, "/bank_accounts/:id/verifications", a.listLinked("bank_account_verifications", "bank_account"))
	r.handle(http.MethodGet, "/bank_accounts/:id/settlements", a.listSettlementsOf)
	r.handle(http.MethodGet, "/verifications", a.listAll("bank_account_verifications"))
	r.handle(http.MethodGet, "/verifications/:id", a.getTyped("bank_account_verifications"))
	r.handle(http.MethodPut, "/verifications/:id", a.confirmVerification)

	r.public(http.MethodPost, "/external_accounts", a.createExternalAccount)
	r.handle(http.MethodGet, "/external_accounts", a.listAll("external_accounts"))
	r.handle(http.MethodGet, "/external_accounts/:id", a.getTyped("external_accounts"))
	r.handle(http.MethodPut, "/external_accounts/:id", a.updateInstrument("external_accounts"))
	r.handle(http.MethodPatch, "/external_accounts/:id", a.updateInstrument("external_accounts"))
	r.handle(http.MethodDelete, "/external_accounts/:id", a.deleteInstrument("external_accounts"))
	r.handle(http.MethodPost, "/external_accounts/:id/debits", a.debitInstrument("external_accounts"))
	r.handle(http.MethodGet, "/external_accounts/:id/debits", a.listLinked("debits", "source"))

	for _, base := range []string{"/card_holds", "/holds"} {
		r.handle(http.MethodGet, base, a.listAll("card_holds"))
		r.handle(http.MethodGet, base+"/:id", a.getTyped("card_holds"))
		r.handle(http.MethodPut, base+"/:id", a.updateHold)
		r.handle(http.MethodDelete, base+"/:id", a.voidHold)
		r.handle(http.MethodPost, base+"/:id/debits", a.fromParent("debits", a.svc.CaptureHold))
		r.handle(http.MethodGet, base+"/:id/debits", a.listLinked("debits", "card_hold"))
		r.handle(http.MethodGet, base+"/:id/events", a.listLinked("events", "entity"))
	}

	r.handle(http.MethodPost, "/debits", a.createDebit)
	r.handle(http.MethodPost, "/credits", a.createCredit)
	for _, typ := range []string{"debits", "credits", "refunds", "reversals", "settlements", "disputes", "orders", "accounts", "events", "callbacks"} {
		r.handle(http.MethodGet, "/"+typ, a.listAll(typ))
		r.handle(http.MethodGet, "/"+typ+"/:id/events", a.listLinked("events", "entity"))
	}
	for _, typ := range []string{"debits", "credits", "refunds", "reversals", "settlements"} {
		r.handle(http.MethodGet, "/"+typ+"/:id", a.getTyped(typ))
		r.handle(http.MethodPut, "/"+typ+"/:id", a.updateTransaction(typ))
	}
	r.handle(http.MethodPost, "/debits/:id/refunds", a.fromParent("refunds", a.svc.Refund))
	r.handle(http.MethodGet, "/debits/:id/refunds", a.listLinked("refunds", "debit"))
	r.handle(http.MethodPost, "/credits/:id/reversals", a.fromParent("reversals", a.svc.Reverse))
	r.handle(http.MethodGet, "/credits/:id/reversals", a.listLinked("reversals", "credit"))

	r.handle(http.MethodGet, "/orders/:id", a.getTyped("orders"))
	r.handle(http.MethodPut, "/orders/:id", a.updateOrder)
	for _, typ := range []string{"debits", "credits", "refunds", "reversals"} {
		r.handle(http.MethodGet, "/orders/:id/"+typ, a.listLinked(typ, "order"))
	}
	r.handle(http.MethodGet, "/orders/:id/buyers", a.listBuyers)
	r.handle(http.MethodGet, "/orders/:id/escrow", a.orderEscrow)

	r.handle(http.MethodGet, "/accounts/:id", a.getTyped("accounts"))
	r.handle(http.MethodPost, "/accounts/:id/credits", a.creditAccount)
	r.handle(http.MethodGet, "/accounts/:id/credits", a.listLinked("credits", "destination"))
	r.handle(http.MethodGet, "/accounts/:id/reversals", a.listLinked("reversals", "destination"))
	r.handle(http.MethodGet, "/accounts/:id/debits", a.listLinked("debits", "source"))
	r.handle(http.MethodGet, "/accounts/:id/refunds", a.listLinked("refunds", "source"))
	r.handle(http.MethodPost, "/accounts/:id/settlements", a.settle)
	r.handle(http.MethodGet, "/accounts/:id/settlements", a.listSettlementsOf)
	r.handle(http.MethodGet, "/settlements/:id/credits", a.listLinked("credits", "settlement"))
	r.handle(http.MethodGet, "/settlements/:id/reversals", a.listLinked("reversals", "settlement"))
	r.handle(http.MethodGet, "/credits/:id/settlements", a.listSettlementOfTx)
	r.handle(http.MethodGet, "/reversals/:id/settlements", a.listSettlementOfTx)

	r.handle(http.MethodGet, "/disputes/:id", a.getTyped("disputes"))
	r.handle(http.MethodPut, "/disputes/:id", a.decideDispute)
	r.handle(http.MethodGet, "/events/:id", a.getTyped("events"))
	r.handle(http.MethodGet, "/events/:id/callbacks", a.eventDeliveries)
	// Parties of the merchant balance API, managed with the marketplace's key.
	r.handle(http.MethodPost, "/merchants", a.createParty("merchants"))
	r.handle(http.MethodGet, "/merchants", a.listAll("merchants"))
	r.handle(http.MethodGet, "/merchants/:id", a.getTyped("merchants"))
	r.handle(http.MethodPost, "/managers", a.createParty("managers"))
	r.handle(http.MethodGet, "/managers", a.listAll("managers"))
	r.handle(http.MethodGet, "/managers/:id", a.getTyped("managers"))
	r.handle(http.MethodPost, "/merchants/:id/adjustments", a.createAdjustment)
	r.handle(http.MethodGet, "/merchants/:id/adjustments", a.listAdjustments)
	r.handle(http.MethodGet, "/merchants/:id/adjustments.csv", a.exportAdjustments)
	r.handle(http.MethodGet, "/adjustments/:id", a.getTyped("adjustments"))
	r.handle(http.MethodPut, "/merchants/:id", a.updateMerchant)
	r.handle(http.MethodGet, "/merchants/:id/transactions.csv", a.exportTransactions)
	r.handle(http.MethodGet, "/merchants/:id/reconciliation", a.reconcile)
	r.handle(http.MethodPost, "/merchants/:id/balance_rules", a.setBalanceRule)
	r.handle(http.MethodGet, "/merchants/:id/balance_rules", a.listLinked("balance_rules", "merchant"))
	r.handle(http.MethodGet, "/balance_rules/:id", a.getTyped("balance_rules"))
	r.handle(http.MethodPut, "/balance_rules/:id", a.endBalanceRule)
	r.handle(http.MethodDelete, "/balance_rules/:id", a.endBalanceRule)
	r.handle(http.MethodPost, "/merchants/:id/reserve_moves", a.moveReserve)
	r.handle(http.MethodPost, "/merchants/:id/endpoints", a.createEndpoint)
	r.handle(http.MethodGet, "/merchants/:id/endpoints", a.listLinked("endpoints", "merchant"))
	r.handle(http.MethodPost, "/merchants/:id/balances", a.createBalance)
	r.handle(http.MethodGet, "/merchants/:id/balances", a.listLinked("balances", "merchant"))
	r.handle(http.MethodGet, "/balances/:id", a.getTyped("balances"))
	r.handle(http.MethodPut, "/balances/:id", a.updateBalance)
	r.handle(http.MethodPut, "/managers/:id", a.updateManager)
	r.handle(http.MethodPost, "/managers/:id/balances", a.createBalance)
	r.handle(http.MethodGet, "/managers/:id/balances", a.listLinked("balances", "merchant"))
	r.handle(http.MethodPost, "/managers/:id/balance_rules", a.setBalanceRule)
	r.handle(http.MethodGet, "/managers/:id/balance_rules", a.listLinked("balance_rules", "merchant"))
	r.handle(http.MethodPost, "/merchants/:id/scheduled_adjustments", a.createSchedule)
	r.handle(http.MethodGet, "/merchants/:id/scheduled_adjustments", a.listLinked("scheduled_adjustments", "merchant"))
	r.handle(http.MethodGet, "/scheduled_adjustments/:id", a.getTyped("scheduled_adjustments"))
	r.handle(http.MethodPut, "/scheduled_adjustments/:id", a.updateSchedule)
	r.handle(http.MethodDelete, "/scheduled_adjustments/:id", a.deleteSchedule)
	r.handle(http.MethodPost, "/adjustments/uploads", a.uploadAdjustments)
	r.routes[len(r.routes)-1].maxBody = maxUploadBytes
	// The operator's own transactions and the gates they come by.
	r.handle(http.MethodPost, "/operator_transactions", a.recordOperatorTransactions)
	r.routes[len(r.routes)-1].maxBody = maxOperatorCallBytes
	r.handle(http.MethodGet, "/operator_transactions/:id", a.getOperatorTransaction)
	r.handle(http.MethodPost, "/operator_transactions/imports", a.importOperatorTransactions)
	r.routes[len(r.routes)-1].maxBody = maxUploadBytes
	r.handle(http.MethodPost, "/gates", a.createGate)
	r.handle(http.MethodGet, "/gates", a.listAll("gates"))
	r.handle(http.MethodGet, "/gates/:id", a.getTyped("gates"))
	r.handle(http.MethodPost, "/gate_groups", a.createGateGroup)
	r.handle(http.MethodGet, "/gate_groups", a.listAll("gate_groups"))
	r.handle(http.MethodGet, "/gate_groups/:id", a.getTyped("gate_groups"))
	r.handle(http.MethodPut, "/gate_groups/:id", a.updateGateGroup)

	r.handle(http.MethodPost, "/callbacks", a.createCallback)
	r.handle(http.MethodGet, "/callbacks/:id", a.getTyped("callbacks"))
	r.handle(http.MethodDelete, "/callbacks/:id", a.deleteCallback)
}
