package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	toml "github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// setting ties one Config field's koanf key to its environment variable.
type setting struct {
	key      string // koanf key, also the dotted TOML key
	env      string // environment variable
	duration bool   // value is a Go duration string
}

// settings lists every configurable field. It is the one place that knows
// the environment variable names.
func settings() []setting {
	return []setting{
		{key: "data_dir", env: "STOCKADE_DATA_DIR"},
		{key: "database.url", env: "STOCKADE_DATABASE_URL"},
		{key: "database.migrate_url", env: "STOCKADE_DATABASE_MIGRATE_URL"},
		{key: "objects.url", env: "STOCKADE_OBJECTS_URL"},
		{key: "http.addr", env: "STOCKADE_HTTP_ADDR"},
		{key: "http.shutdown_timeout", env: "STOCKADE_HTTP_SHUTDOWN_TIMEOUT", duration: true},
		{key: "log.format", env: "STOCKADE_LOG_FORMAT"},
		{key: "log.level", env: "STOCKADE_LOG_LEVEL"},
		{key: "env", env: "STOCKADE_ENV"},
	}
}

// LoadConfig builds a Config from, in increasing precedence: Default, the
// TOML file at path file (skipped when file is ""), and the STOCKADE_*
// variables in environ (KEY=value strings, as os.Environ returns them).
// LoadConfig never reads the process environment itself.
//
// An empty variable counts as unset. Unknown STOCKADE_* variables are
// ignored (tests and tools use the prefix too), but an unknown key in the
// file is an error, so a typo cannot silently fall back to a default. The
// result is not validated; call Config.Validate.
func LoadConfig(environ []string, file string) (Config, error) {
	k := koanf.New(".")
	if file != "" {
		if err := loadFile(k, file); err != nil {
			return Config{}, err
		}
	}
	var envErrs []error
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:        "STOCKADE_",
		EnvironFunc:   func() []string { return environ },
		TransformFunc: envTransform(&envErrs),
	}), nil); err != nil {
		return Config{}, fmt.Errorf("read environment: %w", err)
	}
	if err := errors.Join(envErrs...); err != nil {
		return Config{}, err
	}

	cfg := Default()
	if err := k.Unmarshal("", &cfg); err != nil {
		return Config{}, fmt.Errorf("decode configuration: %w", err)
	}
	if !k.Exists("log.format") && cfg.Env == EnvProduction {
		cfg.Log.Format = LogFormatJSON
	}
	return cfg, nil
}

// loadFile merges the TOML file at path into k after checking that it sets
// only known keys, each to a value of the right type.
func loadFile(k *koanf.Koanf, path string) error {
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), toml.Parser()); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]setting{}
	for _, s := range settings() {
		known[s.key] = s
	}
	var errs []error
	keys := fk.Keys()
	slices.Sort(keys)
	for _, key := range keys {
		s, ok := known[key]
		if !ok {
			errs = append(errs, fmt.Errorf("config file %s: unknown setting %q", path, key))
			continue
		}
		v, isString := fk.Get(key).(string)
		switch {
		case !isString && s.duration:
			errs = append(errs, fmt.Errorf("config file %s: %s: want a duration string such as \"10s\"", path, key))
		case !isString:
			errs = append(errs, fmt.Errorf("config file %s: %s: want a string", path, key))
		case s.duration:
			if _, err := time.ParseDuration(v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: invalid duration %q (want e.g. \"10s\")", path, key, v))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return k.Merge(fk)
}

// envTransform maps a known STOCKADE_* variable to its koanf key, drops
// unknown and empty ones, and records malformed durations in errs (the env
// provider's transform cannot return an error).
func envTransform(errs *[]error) func(key, value string) (string, any) {
	byEnv := map[string]setting{}
	for _, s := range settings() {
		byEnv[s.env] = s
	}
	return func(key, value string) (string, any) {
		s, ok := byEnv[key]
		if !ok || strings.TrimSpace(value) == "" {
			return "", nil
		}
		if s.duration {
			if _, err := time.ParseDuration(value); err != nil {
				*errs = append(*errs, fmt.Errorf("%s: invalid duration %q (want e.g. 10s)", s.env, value))
				return "", nil
			}
		}
		return s.key, value
	}
}
