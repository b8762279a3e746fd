package iysfile

import (
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

// İYS's daily change file, and an export with Turkish headings, give each
// row's transaction id and creation date besides the consent.
func TestRecords(t *testing.T) {
	for _, tc := range []struct {
		name, content string
	}{
		{"daily file", "creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n" +
			"2024-03-02 09:00:00,tx-1,+905321234567,BIREYSEL,MESAJ,RET,2024-03-02 08:59:58,IYS_MOBIL\n" +
			"2024-03-02 09:00:01,tx-2,+905321234568,TACIR,ARAMA,ONAY,2024-03-01 10:00:00,HS_WEB\n" +
			"03.2024,tx-3,+905321234569,BIREYSEL,MESAJ,ONAY,2024-03-01 10:00:00,HS_WEB\n"},
		{"Turkish headings", "Oluşturma Tarihi;İşlem No;Alıcı;Alıcı Tipi;İzin Tipi;Durum;İzin Tarihi;Kaynak\n" +
			"2024-03-02 09:00:00;tx-1;+905321234567;BİREYSEL;MESAJ;RET;2024-03-02 08:59:58;IYS_MOBIL\n" +
			"2024-03-02 09:00:01;tx-2;+905321234568;TACİR;ARAMA;ONAY;2024-03-01 10:00:00;HS_WEB\n" +
			"03.2024;tx-3;+905321234569;BİREYSEL;MESAJ;ONAY;2024-03-01 10:00:00;HS_WEB\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(write(t, "changes.csv", []byte(tc.content)), "")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if len(f.Ignored) != 0 {
				t.Errorf("ignored columns %v", f.Ignored)
			}
			var recs []Record
			for r, err := range f.Records() {
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r)
			}
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3", len(recs))
			}
			r := recs[0]
			created := time.Date(2024, 3, 2, 9, 0, 0, 0, istanbul)
			if r.Refused != nil || r.TransactionID != "tx-1" || r.CreationTime == nil || !r.CreationTime.Equal(created) ||
				r.Status != store.StatusRejected || r.IYSSource != "IYS_MOBIL" || r.Line != 2 {
				t.Errorf("first record %+v", r)
			}
			if r := recs[1]; r.Refused != nil || r.RecipientType != store.Merchant || r.Type != store.ConsentCall || r.TransactionID != "tx-2" {
				t.Errorf("second record %+v", r)
			}
			if r := recs[2]; r.Refused == nil || r.Refused.Field != "creation_time" || r.Refused.Line != 4 {
				t.Errorf("a bad creation date: %+v, want the row refused on creation_time", r)
			}
		})
	}
}
