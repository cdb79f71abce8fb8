package storetest

// accountTests check the dashboard's accounts.
var accountTests = []test{}
