package ports

// OperatorRepo is a placeholder slot; its methods are being defined.
type OperatorRepo interface{}

// ImpersonationRepo is a placeholder slot; its methods are being defined.
type ImpersonationRepo interface{}
