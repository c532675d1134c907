package ports

// CapabilityRepo is a placeholder slot; its methods are being defined.
type CapabilityRepo interface{}
