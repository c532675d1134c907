package app

import (
	"io"
	"log/slog"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// NewLogger returns the process logger described by cfg.Log, writing to
// out (os.Stderr when nil): JSON lines when Log.Format is "json" (the
// production default), human-readable console lines otherwise. Records
// carry an ISO-8601 time, level, logger name, caller and message; errors
// and above carry a stack trace in development.
//
// The logger is the only sink for logs; callers must never pass it a
// secret (see RedactURL). cfg must be valid (see Config.Validate).
func NewLogger(cfg Config, out io.Writer) (*zap.Logger, error) {
	level, err := parseLevel(cfg.Log.Level)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = os.Stderr
	}
	var enc zapcore.Encoder
	if cfg.Log.Format == LogFormatJSON {
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	} else {
		ec := zap.NewDevelopmentEncoderConfig()
		enc = zapcore.NewConsoleEncoder(ec)
	}
	sink := zapcore.Lock(zapcore.AddSync(out))
	stackAt := zapcore.ErrorLevel
	if cfg.Env == EnvProduction {
		stackAt = zapcore.DPanicLevel // production logs stay one line per record
	}
	return zap.New(zapcore.NewCore(enc, sink, level),
		zap.AddCaller(),
		zap.AddStacktrace(stackAt),
		zap.ErrorOutput(sink),
	), nil
}

// SlogLogger returns a *slog.Logger that writes through log's core, for
// libraries and embedding apps that speak log/slog: their records land in
// the same stream, format and level as Stockade's own.
func SlogLogger(log *zap.Logger) *slog.Logger {
	return slog.New(zapslog.NewHandler(log.Core(), zapslog.WithCaller(true)))
}
