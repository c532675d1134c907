// Package app composes Stockade: configuration, logging, store and HTTP
// wiring, as plain constructors and as fx modules built from them.
//
// Without fx:
//
//	cfg, err := app.LoadConfig(os.Environ(), "")      // or fill app.Config by hand
//	err = cfg.Validate()
//	err = app.PrepareDataDir(cfg)
//	log, err := app.NewLogger(cfg, os.Stderr)
//	store, err := app.OpenStore(ctx, cfg, log)        // migrates, then opens
//	srv := app.NewServer(cfg, httpapi.NewHandler(httpapi.Deps{Logger: log, Ready: store}), log)
//	err = srv.Start(ctx)                              // binds, logs "listening"
//	…
//	err = srv.Stop(ctx)                               // graceful, within HTTP.ShutdownTimeout
//
// With fx, app.New(cfg) (or app.Module(cfg) inside your own app) provides
// the same pieces: *zap.Logger, ports.Store, http.Handler and *Server, with
// the store opened and the server started in OnStart and both stopped in
// OnStop. Swap any of them with fx.Decorate or fx.Replace.
//
// This package is the only one that knows every adapter and the only one
// that imports fx. It never reads the process environment: callers pass it
// (see LoadConfig).
package app
