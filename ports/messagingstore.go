package ports

// ConsentRepo is a placeholder slot; its methods are being defined.
type ConsentRepo interface{}

// OutboxRepo is a placeholder slot; its methods are being defined.
type OutboxRepo interface{}

// MessagingDirectoryRepo is a placeholder slot; its methods are being defined.
type MessagingDirectoryRepo interface{}
