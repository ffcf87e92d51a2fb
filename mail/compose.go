package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"

	gomail "github.com/wneessen/go-mail"

	"cardflow/config"
)

// The letters' words live in templates/, one text and one HTML file per
// language. Each event is a named template in each file ("order.delivered"
// for the text body and the HTML opening, "subject order.delivered" for the
// subject), so a new event is a block in each of the four files and its
// name in Events. HTML escapes every value; the text part is plain text
// and needs none.
//
//go:embed templates/*.tmpl
var templateFiles embed.FS

// Events are the events this package has letters for.
var Events = []string{config.MailDelivered, config.MailDelayed, config.MailRefunded, config.MailClaimResolved}

// Languages are the languages letters are written in.
var Languages = []string{"zh", "en"}

// templates holds the parsed letters of every language.
type templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

var funcs = map[string]any{"inc": func(i int) int { return i + 1 }}

func parseTemplates() (*templates, error) {
	t := &templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, lang := range Languages {
		tt, err := texttemplate.New(lang).Funcs(funcs).ParseFS(templateFiles, "templates/"+lang+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s text letters: %w", lang, err)
		}
		ht, err := htmltemplate.New(lang).Funcs(funcs).ParseFS(templateFiles, "templates/"+lang+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s HTML letters: %w", lang, err)
		}
		for _, ev := range Events {
			for _, name := range []string{ev, "subject " + ev} {
				if tt.Lookup(name) == nil {
					return nil, fmt.Errorf("%s text letters lack %q", lang, name)
				}
			}
			if ht.Lookup(ev) == nil {
				return nil, fmt.Errorf("%s HTML letters lack %q", lang, ev)
			}
		}
		t.text[lang], t.html[lang] = tt, ht
	}
	return t, nil
}

// page is what the HTML page template reads: the letter, its subject and
// the event's own opening, already escaped.
type page struct {
	Letter
	Subject string
	Intro   htmltemplate.HTML
}

// Rendered is a letter written out.
type Rendered struct {
	Subject, Text, HTML string
}

// render writes a letter in its language (Chinese when it names none this
// package knows).
func (t *templates) render(l Letter) (Rendered, error) {
	lang := l.Language
	if t.text[lang] == nil {
		lang = "zh"
	}
	if l.Event != config.MailDelivered {
		l.Cards, l.Reissue = nil, false // keys go out in a delivery mail only
	}
	if l.Event == config.MailClaimResolved && l.Claim == nil {
		return Rendered{}, fmt.Errorf("a %s letter needs its claim", l.Event)
	}
	tt, ht := t.text[lang], t.html[lang]
	if tt.Lookup(l.Event) == nil {
		return Rendered{}, fmt.Errorf("no letter for event %q", l.Event)
	}
	var subject, text, intro, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject "+l.Event, l); err != nil {
		return Rendered{}, fmt.Errorf("write subject: %w", err)
	}
	if err := tt.ExecuteTemplate(&text, l.Event, l); err != nil {
		return Rendered{}, fmt.Errorf("write text: %w", err)
	}
	if err := ht.ExecuteTemplate(&intro, l.Event, l); err != nil {
		return Rendered{}, fmt.Errorf("write HTML: %w", err)
	}
	p := page{Letter: l, Subject: oneLine(subject.String()), Intro: htmltemplate.HTML(intro.String())} //nolint:gosec // our own escaped output
	if err := ht.ExecuteTemplate(&html, "page", p); err != nil {
		return Rendered{}, fmt.Errorf("write HTML: %w", err)
	}
	return Rendered{Subject: p.Subject, Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String()}, nil
}

// oneLine keeps a subject on one line whatever a value held.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// message builds the MIME message of a letter: UTF-8 text with an HTML
// alternative, From the configured sender under the shop's name.
func message(l Letter, r Rendered, from *mail.Address) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	name := from.Name
	if l.Shop != "" {
		name = l.Shop
	}
	if err := m.FromFormat(name, from.Address); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if !IsAddress(l.To) {
		return nil, &RejectedError{Text: "the buyer's contact is not a mail address"}
	}
	if err := m.To(l.To); err != nil {
		return nil, &RejectedError{Text: "the buyer's contact is not a mail address"}
	}
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(MessageID(l.ID, from.Address))
	m.SetDateWithValue(l.At)
	m.SetGenHeader("Auto-Submitted", "auto-generated") // no vacation replies (RFC 3834)
	m.SetBodyString(gomail.TypeTextPlain, r.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return m, nil
}

// MessageID is the Message-ID (without brackets) of the letter with id
// sent from address: the same for every try of one letter.
func MessageID(id, from string) string {
	domain := "cardflow.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at+1 < len(from) {
		domain = from[at+1:]
	}
	return id + "@" + domain
}
