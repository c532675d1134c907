package ports

// BillingRepo is a placeholder slot; its methods are being defined.
type BillingRepo interface{}

// BillingDirectoryRepo is a placeholder slot; its methods are being defined.
type BillingDirectoryRepo interface{}
