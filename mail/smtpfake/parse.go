package smtpfake

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parsed is a received mail read the way a mail client reads it.
type Parsed struct {
	Header    mail.Header
	Subject   string // decoded
	From      string // decoded
	MessageID string
	Text      string // the text/plain part, decoded
	HTML      string // the text/html part, decoded
}

// Parse reads a received mail's headers and its text and HTML parts.
func (m Mail) Parse() (Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return Parsed{}, fmt.Errorf("read message: %w", err)
	}
	dec := new(mime.WordDecoder)
	p := Parsed{Header: msg.Header, MessageID: msg.Header.Get("Message-ID")}
	if p.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return p, fmt.Errorf("decode subject: %w", err)
	}
	if p.From, err = dec.DecodeHeader(msg.Header.Get("From")); err != nil {
		return p, fmt.Errorf("decode from: %w", err)
	}
	if err := p.part(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return p, err
	}
	if p.Text == "" {
		return p, ErrNoPart
	}
	return p, nil
}

// part reads one MIME part into Text or HTML, or walks a multipart.
func (p *Parsed) part(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read part: %w", err)
			}
			if err := p.part(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("read %s: %w", mt, err)
	}
	switch mt {
	case "text/plain":
		p.Text = string(b)
	case "text/html":
		p.HTML = string(b)
	}
	return nil
}
