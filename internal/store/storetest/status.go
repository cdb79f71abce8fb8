package storetest

// statusTests check the status page's document in the store.
var statusTests = []test{}
