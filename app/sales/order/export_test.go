package order

// TierFor is tierFor for the tests.
var TierFor = tierFor
