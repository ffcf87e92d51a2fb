package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
)

// maxDownload is what the Bot API lets a bot download.
const maxDownload = 20 << 20

// downloadTimeout bounds fetching one import file.
const downloadTimeout = 5 * time.Minute

// importExts are the files "/import <sku>" takes.
var importExts = map[string]bool{".txt": true, ".csv": true}

var errTooBig = errors.New("file is larger than the Bot API's 20 MB download limit")

// tooBig tells an admin why a large file was not imported.
var tooBig = [2]string{"文件超过 20 MB，Telegram 不允许机器人下载；请拆分后分别发送。",
	"The file is over 20 MB, more than Telegram lets a bot download; split it and send the parts."}

// onDocument imports a .txt/.csv sent with the caption "/import <sku>". The
// file is fetched only when the operator layer reads it, that is after it
// has checked the sender may import: a stranger's upload is never fetched.
func (a *Adapter) onDocument(ctx context.Context, m *models.Message) {
	caption, ok := a.forUs(ctx, m.Caption)
	if !ok {
		return
	}
	if name, _, _ := operator.ParseCommand(caption); name != "import" {
		return
	}
	if !importExts[strings.ToLower(path.Ext(m.Document.FileName))] {
		a.log.Info().Int64("chat", m.Chat.ID).Str("file_ext", path.Ext(m.Document.FileName)).
			Msg("import document ignored: not .txt or .csv")
		return
	}
	body := &download{a: a, ctx: ctx, doc: m.Document}
	defer body.Close()
	r, ok := a.handler.HandleImport(ctx, identity(m.From), caption, body)
	if !ok {
		return
	}
	switch {
	case body.tooBig:
		r = chat.Reply{Text: tooBig[0]}
		if a.handler.Lang() == chat.LangEN {
			r = chat.Reply{Text: tooBig[1]}
		}
	case body.err != nil:
		a.log.Warn().Err(body.err).Int64("chat", m.Chat.ID).Int64("read", body.n).Msg("import file download failed")
	}
	a.reply(ctx, m.Chat.ID, m.ID, r, "import")
}

// download reads a Telegram document, fetching it on the first Read.
type download struct {
	a      *Adapter
	ctx    context.Context
	doc    *models.Document
	opened bool
	body   io.ReadCloser
	cancel context.CancelFunc
	n      int64
	err    error
	tooBig bool
}

func (d *download) Read(p []byte) (int, error) {
	if !d.opened {
		d.opened = true
		d.err = d.open()
	}
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.body.Read(p)
	d.n += int64(n)
	if d.n > maxDownload {
		d.tooBig, d.err = true, errTooBig
		return n - int(d.n-maxDownload), d.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		d.err = d.opaque("download import file", err)
		return n, d.err
	}
	return n, err
}

// open asks getFile where the document is and starts downloading it from
// {server}/file/bot{token}/{file_path}.
func (d *download) open() error {
	if d.doc.FileSize > maxDownload {
		d.tooBig = true
		return errTooBig
	}
	ctx, cancel := context.WithTimeout(d.ctx, sendTimeout)
	f, err := d.a.api.GetFile(ctx, &tg.GetFileParams{FileID: d.doc.FileID})
	cancel()
	if err != nil {
		if isBadRequest(err, "file is too big") {
			d.tooBig = true
			return errTooBig
		}
		return d.opaque("getFile", err)
	}
	if f.FileSize > maxDownload {
		d.tooBig = true
		return errTooBig
	}
	if f.FilePath == "" {
		return errors.New("getFile: no file_path in the answer")
	}
	ctx, d.cancel = context.WithTimeout(d.ctx, downloadTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.a.server+"/file/bot"+d.a.token+"/"+f.FilePath, nil)
	if err != nil {
		return d.opaque("download import file", err)
	}
	resp, err := d.a.client.Do(req)
	if err != nil {
		return d.opaque("download import file", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return fmt.Errorf("download import file: status %d", resp.StatusCode)
	}
	if resp.ContentLength > maxDownload {
		resp.Body.Close()
		d.tooBig = true
		return errTooBig
	}
	d.body = resp.Body
	return nil
}

// opaque is a download failure, token redacted, that does not unwrap: a
// dropped connection wraps io.EOF, which the importer would take for the
// end of a complete file.
func (d *download) opaque(what string, err error) error {
	return errors.New(what + ": " + d.a.clean(err).Error())
}

// Close ends the download, if one started.
func (d *download) Close() error {
	if d.body != nil {
		d.body.Close()
	}
	if d.cancel != nil {
		d.cancel()
	}
	return nil
}
