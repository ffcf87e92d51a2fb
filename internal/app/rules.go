package app

import (
	"strings"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/rules"
	"cardflow/storage"
)

// LoadConfig loads a config file and checks its rules as well: each must
// compile within its limits, the problem reported at its line.
func LoadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if ps := rules.Problems(cfg, compileErrors(cfg)); len(ps) > 0 {
		return nil, ps
	}
	return cfg, nil
}

// ReloadRules re-reads the config file's [[rules]] (SIGHUP). A file that
// does not load, or a rule that does not compile, changes nothing: the old
// rules stay and an alert says why.
func (a *App) ReloadRules(path string) {
	al := storage.Alert{Key: string(alert.ConfigReload), Type: alert.ConfigReload, Target: path}
	cfg, err := LoadConfig(path)
	if err == nil {
		err = a.rules.Reload(cfg.Rules)
	}
	if err != nil {
		a.log.Error().Err(err).Str("config", path).Msg("rules not reloaded; the old rules stay")
		al.Detail = firstLine(err.Error())
	} else {
		a.log.Info().Int("rules", len(cfg.Rules)).Msg("rules reloaded")
		al.Resolved = true
	}
	if aerr := a.engine.RaiseAlert(al); aerr != nil {
		a.log.Error().Err(aerr).Msg("raise reload alert")
	}
}

func compileErrors(cfg *config.Config) []error {
	_, errs := rules.CompileAll(cfg.Rules)
	return errs
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
