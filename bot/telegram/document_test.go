package telegram

import (
	"bytes"
	"strings"
	"testing"
)

// newCards is an import file of three cards not in stock yet.
var newCards = []byte("number,password\nTG-IMPORT-0001,PW-TG-01\nTG-IMPORT-0002,PW-TG-02\nTG-IMPORT-0003,PW-TG-03\n")

// TestImportDocumentByAnAdminAddsStock: the answer counts the cards and
// names the import's batch (the fixture's own import was batch 1).
func TestImportDocumentByAnAdminAddsStock(t *testing.T) {
	f := newFixture(t)
	f.rememberSecrets(newCards)
	f.start()
	before := f.stock()
	doc := f.fake.SendDocument(group, adminUID, "/import qb-10", "more-cards.csv", newCards)
	f.settle(1)
	if got := f.stock(); got != before+3 {
		t.Errorf("stock = %d, want %d", got, before+3)
	}
	msgs := f.fake.Messages(group)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "qb-10") || !strings.Contains(msgs[0].Text, "新增 3") ||
		!strings.Contains(msgs[0].Text, "（批次 #2）") {
		t.Fatalf("reply = %+v", msgs)
	}
	if msgs[0].ReplyTo != doc {
		t.Errorf("reply is to %d, want the document %d", msgs[0].ReplyTo, doc)
	}
	if f.fake.Calls("getFile") != 1 || f.fake.Calls("file") != 1 {
		t.Errorf("getFile %d, downloads %d; want 1 and 1", f.fake.Calls("getFile"), f.fake.Calls("file"))
	}
}

func TestImportDocumentCaptionForms(t *testing.T) {
	f := newFixture(t)
	f.start()
	before := f.stock()
	f.fake.SendDocument(group, adminUID, "/import@cardflow_test_bot qb-10", "a.TXT", []byte("TG-CAP-0001,PW-1\n"))
	f.settle(1)
	if got := f.stock(); got != before+1 {
		t.Errorf("stock = %d, want %d", got, before+1)
	}
}

func TestImportDocumentIsRefusedBeforeItIsDownloaded(t *testing.T) {
	f := newFixture(t)
	f.rememberSecrets(newCards)
	f.start()
	before := f.stock()
	f.fake.SendDocument(group, aliceUID, "/import qb-10", "cards.txt", newCards)
	f.fake.SendDocument(group, strangerUID, "/import qb-10", "cards.txt", newCards)
	f.settle(2)
	if got := f.stock(); got != before {
		t.Errorf("stock = %d, want %d", got, before)
	}
	var texts []string
	for _, m := range f.fake.Messages(group) {
		texts = append(texts, m.Text)
	}
	all := strings.Join(texts, "\n")
	if len(texts) != 2 || !strings.Contains(all, "operator") || !strings.Contains(all, "/import") ||
		!strings.Contains(all, "不是本店的操作员") {
		t.Errorf("replies = %q, want the role refusal and the stranger refusal", texts)
	}
	if f.fake.Calls("getFile") != 0 || f.fake.Calls("file") != 0 {
		t.Errorf("a refused upload was fetched: getFile %d, downloads %d", f.fake.Calls("getFile"), f.fake.Calls("file"))
	}
}

func TestOtherDocumentsAreIgnored(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.fake.SendDocument(group, adminUID, "/import qb-10", "cards.pdf", newCards)
	f.fake.SendDocument(group, adminUID, "", "cards.txt", newCards)
	f.fake.SendDocument(group, adminUID, "look at this", "cards.txt", newCards)
	f.fake.SendDocument(group, adminUID, "/stock", "cards.txt", newCards)
	f.fake.SendDocument(group, adminUID, "/import@otherbot qb-10", "cards.txt", newCards)
	f.settle(5)
	if n := len(f.fake.Messages(group)); n != 0 {
		t.Errorf("posted %d messages", n)
	}
	if f.fake.Calls("getFile") != 0 {
		t.Errorf("getFile called %d times", f.fake.Calls("getFile"))
	}
}

func TestImportDocumentDownloadFailureIsReportedWithoutTheToken(t *testing.T) {
	f := newFixture(t)
	f.start()
	before := f.stock()
	for range 3 { // net/http retries a GET once on a reused connection
		f.fake.FailNext("file", 0, "", 0) // the connection drops
	}
	f.fake.SendDocument(group, adminUID, "/import qb-10", "cards.txt", newCards)
	f.settle(1)
	msgs := f.fake.Messages(group)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "文件没有读完") {
		t.Fatalf("reply = %+v, want the broken-upload text", msgs)
	}
	if got := f.stock(); got != before {
		t.Errorf("stock = %d, want %d", got, before)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "import file download failed") || !strings.Contains(logs, "<redacted>") {
		t.Errorf("the failure is not logged with the token redacted:\n%s", logs)
	}
}

func TestImportDocumentOver20MBIsNotFetched(t *testing.T) {
	f := newFixture(t)
	f.start()
	big := bytes.Repeat([]byte("TG-BIG-0001,PW-BIG\n"), (20<<20)/19+1)
	f.fake.SendDocument(group, adminUID, "/import qb-10", "big.txt", big)
	f.settle(1)
	msgs := f.fake.Messages(group)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "20 MB") {
		t.Fatalf("reply = %+v", msgs)
	}
	if f.fake.Calls("file") != 0 {
		t.Errorf("downloaded %d times", f.fake.Calls("file"))
	}
}
