package health

import (
	"strings"
	"testing"

	"cardflow/config"
)

// TestRankSourcesMovesASourceAheadOnlyWhenItScoresMoreThanTheMarginBetter
// states adaptive routing's order: a source goes ahead of one configured
// before it only when its score is more than 0.05 higher, and a source
// without a score (own stock, a supplier with fewer than 10 ended purchases
// in the hour) keeps its configured position while the others are ordered
// around it.
func TestRankSourcesMovesASourceAheadOnlyWhenItScoresMoreThanTheMarginBetter(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		scores     map[string]float64 // a source missing here has no score
		want       string
	}{
		{"close scores across a 0.05 step keep the order", "a b", map[string]float64{"a": 0.524, "b": 0.526}, "a b"},
		{"a lead of exactly 0.05 keeps the order", "a b", map[string]float64{"a": 0.50, "b": 0.55}, "a b"},
		{"a lead over 0.05 moves ahead", "a b", map[string]float64{"a": 0.50, "b": 0.551}, "b a"},
		{"a worse source stays behind", "a b", map[string]float64{"a": 0.90, "b": 0.20}, "a b"},
		{"a failing first source goes last", "a b c", map[string]float64{"a": 0, "b": 0.9, "c": 0.92}, "b c a"},
		{"equal scores keep the order", "a b c d", map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1}, "a b c d"},

		{"a new supplier does not jump ahead", "a new", map[string]float64{"a": 0.60}, "a new"},
		{"a new supplier first stays first", "new a", map[string]float64{"a": 0.99}, "new a"},
		{"the others are ordered around a new supplier", "a new c", map[string]float64{"a": 0.80, "c": 0.95}, "c new a"},
		{"own stock keeps its place too", "own a b", map[string]float64{"a": 0.3, "b": 0.9}, "own b a"},
		{"nothing scored keeps the order", "own new", nil, "own new"},

		// Closeness is not transitive: a source passes the ones before it
		// one at a time, each by more than 0.05.
		{"a chain of small steps keeps the order", "a b c", map[string]float64{"a": 0.50, "b": 0.54, "c": 0.58}, "a b c"},
		{"a big step passes a small one", "a c b", map[string]float64{"a": 0.50, "b": 0.54, "c": 0.58}, "c a b"},
		{"a big lead passes every source it beats", "a b c", map[string]float64{"a": 0.50, "b": 0.54, "c": 0.60}, "c a b"},
		{"a passing source stops behind one it is close to", "a b c", map[string]float64{"a": 0.50, "b": 0.60, "c": 0.62}, "b c a"},
		{"already best first", "a b c", map[string]float64{"a": 0.58, "b": 0.54, "c": 0.50}, "a b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sources []config.Source
			for _, name := range strings.Fields(tt.configured) {
				sources = append(sources, config.Source{Supplier: name})
			}
			got := rankSources(sources, func(supplier string) (float64, bool) {
				s, ok := tt.scores[supplier]
				return s, ok
			})
			names := make([]string, len(got))
			for i, s := range got {
				names[i] = s.Supplier
			}
			if strings.Join(names, " ") != tt.want {
				t.Errorf("configured %q with scores %v: tried %q, want %q", tt.configured, tt.scores, strings.Join(names, " "), tt.want)
			}
		})
	}
}
