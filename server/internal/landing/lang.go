package landing

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

// The languages of the pages. Turkish is the default; English is offered to
// phones that prefer it and through the switch link.
const (
	langTR = "tr"
	langEN = "en"
)

// validLang reports whether s names a language the pages speak.
func validLang(s string) bool { return s == langTR || s == langEN }

// pickLang chooses the language of an answer: an explicit choice (the form's
// hidden field or ?lang=) wins, then the browser's Accept-Language, then
// Turkish.
func pickLang(r *http.Request, explicit ...string) string {
	for _, e := range explicit {
		if validLang(e) {
			return e
		}
	}
	if q := r.URL.Query().Get("lang"); validLang(q) {
		return q
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage returns English only when the header prefers English
// to Turkish: a higher weight, or the same weight listed first. Anything
// else, including no header, a malformed one or neither language, is
// Turkish.
func fromAcceptLanguage(header string) string {
	type pref struct {
		q   float64
		pos int
	}
	best := map[string]pref{}
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != langTR && primary != langEN {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.TrimSpace(k) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		if q == 0 {
			continue
		}
		if cur, ok := best[primary]; !ok || q > cur.q {
			best[primary] = pref{q: q, pos: i}
		}
	}
	en, hasEN := best[langEN]
	tr, hasTR := best[langTR]
	switch {
	case !hasEN:
		return langTR
	case !hasTR:
		return langEN
	case en.q > tr.q || en.q == tr.q && en.pos < tr.pos:
		return langEN
	}
	return langTR
}

// messages is the wording of the pages in one language. Strings with %s
// or %d take arguments with fmt (the templates call printf); the results
// are escaped by html/template like any other value.
type messages struct {
	// The link to the other language: its code and its name in itself.
	SwitchCode, SwitchLabel string
	MersisLabel             string
	SkipToContent           string
	ErrorPrefix             string

	FormTitle, FormIntro                  string
	YourDetails, NameLabel, PhoneLabel    string
	BrandLabel, TypesLabel, NotYou        string
	ETKFallback, PrivacyFallback          string
	ExplicitFallback                      string
	ETKBox, Required, ETKError, ErrorHead string
	KVKKBox, Optional, KVKKNote           string
	VersionLabel                          string
	Submit, SubmitNote, LinkValidUntil    string

	SentTitle, SentBody, GiveToSource, GiveToStaff string
	CodeValidUntil, DontShare, NoCode              string
	KVKKGiven, KVKKNotGiven                        string
	CodeExpiredTitle, CodeExpiredBody              string

	DoneTitle, DoneBody, DoneReject string

	NotFoundTitle, NotFoundBody string
	ExpiredTitle, ExpiredBody   string
	UsedTitle, UsedBody         string
	UsedPending, UsedVerified   string
	UsedCancelled, UsedFailed   string
	UsedExpired, AskNewLink     string
	CSRFTitle, CSRFBody, Reload string
	RateTitle, RateBody         string
	RateMinutes                 string
	ErrorTitle, ErrorBody       string
	BadFormTitle, BadFormBody   string

	RejectTitle, RejectIntro, RejectButton, RejectNote string
	RejectedTitle, RejectedBody, RejectedAt            string
	PhoneOf, TypesOf                                   string

	// Names of the consent types, and the word joining the last two.
	SMS, Call, Email, And string
	Months                [12]string
}

var catalog = map[string]*messages{
	langTR: {
		SwitchCode: langEN, SwitchLabel: "English",
		MersisLabel:   "MERSIS No",
		SkipToContent: "İçeriğe geç",
		ErrorPrefix:   "Hata",

		FormTitle:        "Ticari ileti onayı",
		FormIntro:        "%s, size kampanya ve duyurularını iletebilmek için onayınızı istiyor. Lütfen bilgilerinizi kontrol edin ve aşağıdaki metinleri okuyun.",
		YourDetails:      "Bilgileriniz",
		NameLabel:        "Ad soyad",
		PhoneLabel:       "Telefon",
		BrandLabel:       "Marka",
		TypesLabel:       "İzin istenen kanallar",
		NotYou:           "Bu bilgiler size ait değilse lütfen formu göndermeyin.",
		ETKFallback:      "Ticari elektronik ileti onayı",
		PrivacyFallback:  "KVKK aydınlatma metni",
		ExplicitFallback: "KVKK açık rıza metni",
		ETKBox:           "Yukarıdaki metni okudum; %s tarafından %s yoluyla tarafıma ticari elektronik ileti gönderilmesine onay veriyorum.",
		Required:         "(zorunlu)",
		ETKError:         "Devam etmek için ticari ileti onay kutusunu işaretleyin.",
		ErrorHead:        "Formda düzeltilmesi gereken bir alan var:",
		KVKKBox:          "Açık rıza metnini okudum; kişisel verilerimin bu metinde açıklanan amaçlarla işlenmesine açık rıza veriyorum.",
		Optional:         "(isteğe bağlı)",
		KVKKNote:         "Bu kutu isteğe bağlıdır: işaretlemeseniz de devam edebilirsiniz. Tercihiniz her iki durumda da kaydedilir.",
		VersionLabel:     "sürüm",
		Submit:           "Onaylıyorum, kodu gönder",
		SubmitNote:       "Formu gönderdiğinizde telefonunuza SMS ile bir aktivasyon kodu gelir.",
		LinkValidUntil:   "Bu bağlantının son geçerlilik zamanı: %s (Türkiye saati).",

		SentTitle:        "Kodunuz SMS ile gönderildi",
		SentBody:         "Aktivasyon kodunuz %s numaralı telefona SMS ile gönderildi; birkaç saniye içinde ulaşır.",
		GiveToSource:     "Kodu, %s çalışanına (kasiyere ya da görüştüğünüz müşteri temsilcisine) iletin.",
		GiveToStaff:      "Kodu kasiyere ya da görüştüğünüz müşteri temsilcisine iletin.",
		CodeValidUntil:   "Kodun son geçerlilik saati: %s (Türkiye saati).",
		DontShare:        "Kodu yalnızca bu işlem için kullanın ve başka kimseyle paylaşmayın.",
		NoCode:           "Kod gelmezse görevliden yeni bir kod göndermesini isteyebilirsiniz.",
		KVKKGiven:        "KVKK açık rıza tercihiniz: verildi.",
		KVKKNotGiven:     "KVKK açık rıza tercihiniz: verilmedi.",
		CodeExpiredTitle: "Kodun süresi doldu",
		CodeExpiredBody:  "Size gönderilen kodun geçerlilik süresi doldu. Görevliden yeni bir kod göndermesini isteyebilirsiniz.",

		DoneTitle:  "İzniniz kaydedildi",
		DoneBody:   "%s size %s yoluyla ticari ileti gönderebilir. Onay SMS’i telefonunuza gönderildi.",
		DoneReject: "İzninizi dilediğiniz zaman, onay SMS’indeki bağlantıyla ücretsiz olarak geri alabilirsiniz.",

		NotFoundTitle: "Bağlantı bulunamadı",
		NotFoundBody:  "Bu bağlantı geçerli değil. Lütfen SMS’teki adresi eksiksiz açtığınızdan emin olun.",
		ExpiredTitle:  "Bağlantının süresi doldu",
		ExpiredBody:   "Güvenliğiniz için bağlantılar kısa bir süre geçerlidir. Yeni bir bağlantı için işleminizi yapan görevliye başvurun.",
		UsedTitle:     "Bu bağlantı artık kullanılamaz",
		UsedBody:      "Bu bağlantı daha önce kullanıldı ya da artık geçerli değil.",
		UsedPending:   "Bu form daha önce gönderildi ve aktivasyon kodu telefonunuza SMS ile gönderildi. Kodu işleminizi yapan görevliye iletin.",
		UsedVerified:  "Bu işlem tamamlandı: izniniz daha önce kaydedildi.",
		UsedCancelled: "Bu işlem iptal edildi.",
		UsedFailed:    "Bu işlem, hatalı kod denemeleri nedeniyle kapatıldı.",
		UsedExpired:   "Bu işlemin süresi doldu.",
		AskNewLink:    "Gerekirse görevliden yeni bir bağlantı isteyin.",
		CSRFTitle:     "Sayfanın süresi doldu",
		CSRFBody:      "Güvenliğiniz için formu doğrulayamadık. Lütfen sayfayı yeniden açıp tekrar deneyin.",
		Reload:        "Sayfayı yeniden aç",
		RateTitle:     "Çok fazla deneme",
		RateBody:      "Kısa sürede çok fazla SMS gönderildi. Lütfen biraz sonra yeniden deneyin.",
		RateMinutes:   "Yaklaşık %d dakika sonra yeniden deneyebilirsiniz.",
		ErrorTitle:    "Bir sorun oluştu",
		ErrorBody:     "İsteğinizi şu anda tamamlayamadık. Lütfen biraz sonra yeniden deneyin.",
		BadFormTitle:  "Form okunamadı",
		BadFormBody:   "Gönderdiğiniz formu okuyamadık. Lütfen sayfayı yeniden açıp tekrar deneyin.",

		RejectTitle:   "Ticari ileti iznini geri alma",
		RejectIntro:   "%s markasından aşağıdaki kanallarla ticari ileti almayı bırakmak için düğmeye basın.",
		RejectButton:  "Reddet (RET)",
		RejectNote:    "Ret ücretsizdir ve hemen geçerli olur.",
		RejectedTitle: "İzniniz geri alındı",
		RejectedBody:  "%s artık size %s yoluyla ticari ileti göndermeyecek.",
		RejectedAt:    "İşlem zamanı: %s (Türkiye saati).",
		PhoneOf:       "Telefon",
		TypesOf:       "Kanallar",

		SMS: "SMS", Call: "telefon araması", Email: "e-posta", And: "ve",
		Months: [12]string{"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül",
			"Ekim", "Kasım", "Aralık"},
	},
	langEN: {
		SwitchCode: langTR, SwitchLabel: "Türkçe",
		MersisLabel:   "MERSIS no.",
		SkipToContent: "Skip to content",
		ErrorPrefix:   "Error",

		FormTitle:        "Consent to commercial messages",
		FormIntro:        "%s would like your consent to send you its offers and news. Please check your details and read the texts below.",
		YourDetails:      "Your details",
		NameLabel:        "Name",
		PhoneLabel:       "Phone",
		BrandLabel:       "Brand",
		TypesLabel:       "Channels asked for",
		NotYou:           "If these details are not yours, please do not send the form.",
		ETKFallback:      "Consent to commercial electronic messages",
		PrivacyFallback:  "Privacy notice (KVKK)",
		ExplicitFallback: "Explicit consent (KVKK)",
		ETKBox:           "I have read the text above and I agree to receive commercial electronic messages from %s by %s.",
		Required:         "(required)",
		ETKError:         "To continue, tick the box for commercial messages.",
		ErrorHead:        "One field of the form needs your attention:",
		KVKKBox:          "I have read the explicit consent text and I consent to my personal data being processed for the purposes it describes.",
		Optional:         "(optional)",
		KVKKNote:         "This box is optional: you can continue without it. Your choice is recorded either way.",
		VersionLabel:     "version",
		Submit:           "I agree, send me the code",
		SubmitNote:       "When you send the form, an activation code comes to your phone by SMS.",
		LinkValidUntil:   "This link works until %s (Turkish time).",

		SentTitle:        "Your code is on its way",
		SentBody:         "We have sent your activation code by SMS to %s; it should arrive within a few seconds.",
		GiveToSource:     "Give the code to the staff of %s (the cashier or the agent you are talking to).",
		GiveToStaff:      "Give the code to the cashier or to the agent you are talking to.",
		CodeValidUntil:   "The code is valid until %s (Turkish time).",
		DontShare:        "Use the code only for this and do not share it with anyone else.",
		NoCode:           "If no code arrives, you can ask the staff to send a new one.",
		KVKKGiven:        "Your KVKK explicit consent: given.",
		KVKKNotGiven:     "Your KVKK explicit consent: not given.",
		CodeExpiredTitle: "The code has expired",
		CodeExpiredBody:  "The code we sent you is no longer valid. You can ask the staff to send you a new one.",

		DoneTitle:  "Your consent is recorded",
		DoneBody:   "%s may now send you commercial messages by %s. A confirmation SMS has been sent to your phone.",
		DoneReject: "You can withdraw your consent at any time, free of charge, with the link in the confirmation SMS.",

		NotFoundTitle: "Link not found",
		NotFoundBody:  "This link is not valid. Please make sure you opened the full address from the SMS.",
		ExpiredTitle:  "This link has expired",
		ExpiredBody:   "For your security, links work only for a short time. Please ask the staff who helped you for a new one.",
		UsedTitle:     "This link can no longer be used",
		UsedBody:      "This link was already used or is no longer valid.",
		UsedPending:   "This form was already sent and the activation code went to your phone by SMS. Give the code to the staff who are helping you.",
		UsedVerified:  "This is done: your consent was already recorded.",
		UsedCancelled: "This request was cancelled.",
		UsedFailed:    "This request was closed after too many wrong codes.",
		UsedExpired:   "This request has expired.",
		AskNewLink:    "If needed, ask the staff for a new link.",
		CSRFTitle:     "This page has expired",
		CSRFBody:      "For your security we could not verify the form. Please open the page again and retry.",
		Reload:        "Open the page again",
		RateTitle:     "Too many attempts",
		RateBody:      "Too many SMS were sent in a short time. Please try again a little later.",
		RateMinutes:   "You can try again in about %d minute(s).",
		ErrorTitle:    "Something went wrong",
		ErrorBody:     "We could not complete your request just now. Please try again in a little while.",
		BadFormTitle:  "The form could not be read",
		BadFormBody:   "We could not read the form you sent. Please open the page again and retry.",

		RejectTitle:   "Withdraw your consent",
		RejectIntro:   "Press the button to stop receiving commercial messages from %s by the channels below.",
		RejectButton:  "Reject (RET)",
		RejectNote:    "Rejecting is free and takes effect at once.",
		RejectedTitle: "Your consent is withdrawn",
		RejectedBody:  "%s will no longer send you commercial messages by %s.",
		RejectedAt:    "Done at %s (Turkish time).",
		PhoneOf:       "Phone",
		TypesOf:       "Channels",

		SMS: "SMS", Call: "phone calls", Email: "e-mail", And: "and",
		Months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
			"October", "November", "December"},
	},
}

// typeNames lists consent types in words: "SMS ve telefon araması".
func (m *messages) typeNames(types []store.ConsentType) string {
	names := make([]string, 0, len(types))
	for _, t := range types {
		switch t {
		case store.ConsentSMS:
			names = append(names, m.SMS)
		case store.ConsentCall:
			names = append(names, m.Call)
		case store.ConsentEmail:
			names = append(names, m.Email)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + m.And + " " + names[len(names)-1]
}

// turkeyTime is the time zone the pages show times in. Turkey has kept
// UTC+3 all year since 2016, so a fixed zone needs no tz database.
var turkeyTime = time.FixedZone("TRT", 3*60*60)

// clock shows t in Turkish time: "15:04" when it falls on the same day as
// now there, else with the date ("2 Ocak 2026 15:04").
func (m *messages) clock(t, now time.Time) string {
	t, now = t.In(turkeyTime), now.In(turkeyTime)
	if y, mo, d := t.Date(); y == now.Year() && mo == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return fmt.Sprintf("%d %s %d %s", t.Day(), m.Months[t.Month()-1], t.Year(), t.Format("15:04"))
}
