package storetest

// monitorTests check what the probes and alerts keep in the store.
var monitorTests = []test{}
