package acgshop

import "cardflow/api/acgfaka"

// BuildQuery writes fields as PHP's http_build_query writes a form (what
// Guzzle's form_params sends): in order, names and values escaped as
// urlencode does, a space as '+', a nested field's brackets escaped too.
// An empty value is written ("password="); a field not given is not.
func BuildQuery(fields []acgfaka.Field) string {
	b := make([]byte, 0, 64*len(fields))
	for i, f := range fields {
		if i > 0 {
			b = append(b, '&')
		}
		b = urlencode(b, f.Name)
		b = append(b, '=')
		b = urlencode(b, f.Value)
	}
	return string(b)
}

// urlencode appends s escaped as PHP's urlencode does: letters, digits and
// "-_." as they are, a space as '+', every other byte as %XX.
func urlencode(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
