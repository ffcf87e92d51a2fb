package qq

import (
	"fmt"

	"github.com/rs/zerolog"
	botlog "github.com/tencent-connect/botgo/log"
)

// botgoLogger sends botgo's own log lines (its signature helpers log their
// errors) to our logger at debug level, instead of botgo's default of
// printing to stdout: a refused webhook call is already logged once, as a
// warning, by the adapter.
type botgoLogger struct{ log zerolog.Logger }

func (l botgoLogger) Debug(v ...any)                 { l.log.Debug().Msg(fmt.Sprint(v...)) }
func (l botgoLogger) Info(v ...any)                  { l.log.Debug().Msg(fmt.Sprint(v...)) }
func (l botgoLogger) Warn(v ...any)                  { l.log.Debug().Msg(fmt.Sprint(v...)) }
func (l botgoLogger) Error(v ...any)                 { l.log.Debug().Msg(fmt.Sprint(v...)) }
func (l botgoLogger) Debugf(format string, v ...any) { l.log.Debug().Msgf(format, v...) }
func (l botgoLogger) Infof(format string, v ...any)  { l.log.Debug().Msgf(format, v...) }
func (l botgoLogger) Warnf(format string, v ...any)  { l.log.Debug().Msgf(format, v...) }
func (l botgoLogger) Errorf(format string, v ...any) { l.log.Debug().Msgf(format, v...) }
func (l botgoLogger) Sync() error                    { return nil }

// quietBotgo points botgo's package-level logger at ours. botgo has one
// logger for the process; the last adapter built wins, which is the only
// one in a process.
func quietBotgo(log zerolog.Logger) {
	botlog.DefaultLogger = botgoLogger{log: log.With().Str("from", "botgo").Logger()}
}
