package texts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// Defaults are the texts a new brand starts with, version 1 of each kind in
// Turkish and in English, filled in with the company's name and MERSIS
// number and the brand's name. They are a sound starting point written for
// the consent flow izin runs; a company's lawyers will usually publish
// their own versions (with the company's address and contact points for
// KVKK applications, for instance).
//
// Bodies are plain text, paragraphs separated by a blank line. The ETK
// text does not name the channels: the consent page lists the types asked.
func Defaults(company, brand, mersis string) []NewText {
	r := strings.NewReplacer("{company}", company, "{brand}", brand, "{mersis}", mersis)
	out := make([]NewText, 0, len(defaultTexts))
	for _, d := range defaultTexts {
		out = append(out, NewText{Kind: d.kind, Language: d.lang, Title: d.title, Body: r.Replace(d.body)})
	}
	return out
}

// Seed publishes the default texts (see Defaults) of a brand for every kind
// and language that has no version yet, so a new brand can use the consent
// page at once; a brand that has its own texts keeps them. It returns what
// it published. Calling it again publishes nothing.
func Seed(ctx context.Context, st Publisher, t *store.Tenant, b *store.Brand, now time.Time) ([]store.ConsentText, error) {
	have, err := st.ListConsentTexts(ctx, store.ConsentTextFilter{TenantID: t.ID, BrandID: b.ID})
	if err != nil {
		return nil, errs.Internal(err, "list consent texts of brand %s", b.Code)
	}
	type key struct {
		kind store.TextKind
		lang string
	}
	exists := map[key]bool{}
	for _, c := range have {
		exists[key{c.Kind, c.Language}] = true
	}
	var out []store.ConsentText
	for _, d := range Defaults(t.Name, b.Name, t.Mersis) {
		if exists[key{d.Kind, d.Language}] {
			continue
		}
		n, err := Normalize(d)
		if err != nil {
			return out, errs.Wrap(err, "default consent text")
		}
		c := &store.ConsentText{ID: uuid.NewString(), TenantID: t.ID, BrandID: b.ID, Kind: n.Kind, Language: n.Language,
			Title: n.Title, Body: n.Body, SHA256: Hash(n.Title, n.Body), CreatedAt: now.UTC().Truncate(time.Microsecond)}
		switch err := st.CreateConsentText(ctx, c); {
		case errors.Is(err, store.ErrConflict):
			// Someone published this kind and language meanwhile: theirs stands.
			continue
		case err != nil:
			return out, errs.Internal(err, "publish default %s/%s consent text of brand %s", KindName(n.Kind), n.Language, b.Code)
		}
		out = append(out, *c)
	}
	return out, nil
}

type defaultText struct {
	kind  store.TextKind
	lang  string
	title string
	body  string
}

var defaultTexts = []defaultText{
	{store.TextETK, "tr", "Ticari Elektronik İleti Onayı", etkTR},
	{store.TextETK, "en", "Consent to Commercial Electronic Messages", etkEN},
	{store.TextPrivacy, "tr", "Kişisel Verilerin İşlenmesine İlişkin Aydınlatma Metni", privacyTR},
	{store.TextPrivacy, "en", "Privacy Notice on the Processing of Personal Data", privacyEN},
	{store.TextExplicit, "tr", "Açık Rıza Beyanı", explicitTR},
	{store.TextExplicit, "en", "Explicit Consent Statement", explicitEN},
}

// The texts name the company and the brand only before postpositions and
// nouns ("… tarafından", "… markası"), so no Turkish suffix has to agree
// with a name the texts cannot know.

const etkTR = `{company} (MERSIS No: {mersis}) tarafından {brand} markası ile kampanya, indirim, yeni ürün ve hizmet tanıtımı, kutlama ve tebrik gibi amaçlarla, bu sayfada belirtilen iletişim kanalları aracılığıyla tarafıma ticari elektronik ileti gönderilmesine, 6563 sayılı Elektronik Ticaretin Düzenlenmesi Hakkında Kanun ve ilgili mevzuat uyarınca onay veriyorum.

Bu onayı dilediğim zaman, hiçbir gerekçe göstermeden ve ücretsiz olarak geri alabileceğimi biliyorum. Ret hakkımı; bana gönderilen her iletide belirtilen ret yolu ile (örneğin RET yazıp belirtilen numaraya SMS göndererek), onayımın ardından gönderilen bilgilendirme mesajındaki bağlantıdan veya İleti Yönetim Sistemi (İYS) üzerinden, İYS'nin internet sitesi (iys.org.tr), mobil uygulaması ya da e-Devlet Kapısı aracılığıyla kullanabilirim. Ret bildirimim en geç üç iş günü içinde uygulanır.

Onay vermek isteğe bağlıdır; onay vermemem ürün ve hizmetlerden yararlanmamı etkilemez.`

const etkEN = `I consent to {company} (MERSIS No: {mersis}) sending me commercial electronic messages under the {brand} brand, such as campaigns, discounts, announcements of new products and services, and greetings, through the communication channels stated on this page, in accordance with Law No. 6563 on the Regulation of Electronic Commerce and the related legislation.

I understand that I can withdraw this consent at any time, without giving a reason and free of charge: through the opt-out route stated in every message sent to me (for example, by sending RET by SMS), through the link in the message confirming my consent, or through the Message Management System (İYS) on its website (iys.org.tr), its mobile app or the e-Devlet gateway. My opt-out takes effect within three business days at the latest.

Giving this consent is optional; not giving it does not affect my use of the products and services.`

const privacyTR = `Bu aydınlatma metni, 6698 sayılı Kişisel Verilerin Korunması Kanunu'nun (“KVKK”) 10. maddesi uyarınca, veri sorumlusu sıfatıyla {company} (MERSIS No: {mersis}; “Şirket”) tarafından, {brand} markası için ticari elektronik ileti onayınız alınırken işlenen kişisel verileriniz hakkında sizi bilgilendirmek amacıyla hazırlanmıştır.

İşlenen kişisel veriler: adınız ve soyadınız; cep telefonu numaranız ve/veya e-posta adresiniz; onay ve ret kayıtlarınız (onayın verildiği veya geri alındığı tarih ve saat, kanal, ileti türleri, size gösterilen metinlerin sürümü ve doğrulama mesajlarının kayıtları); bu sayfayı açtığınız cihazın IP adresi ve tarayıcı bilgisi.

İşleme amaçları: ticari elektronik ileti onayınızın alınması, doğrulanması ve kaydedilmesi; onay ve ret bildirimlerinizin İleti Yönetim Sistemi'ne (İYS) kaydedilmesi; onay verdiğiniz kanallardan size kampanya ve tanıtım iletileri gönderilmesi; ret taleplerinizin yerine getirilmesi; onayın ispatı ile denetim ve uyuşmazlıklarda delil olarak kullanılması; işlem güvenliğinin sağlanması ve kötüye kullanımın önlenmesi; açık rıza vermeniz hâlinde pazarlama, kampanya ve kişiselleştirme (profilleme) faaliyetlerinin yürütülmesi.

Hukuki sebepler (KVKK m. 5): Onay verdiğiniz kanallardan ticari elektronik ileti gönderilmesi, 6563 sayılı Kanun'un 6. maddesinde öngörülen onayınıza ve kanunlarda açıkça öngörülme (m. 5/2-a) hukuki sebebine; pazarlama, profilleme ve kişiselleştirme amaçlı işleme ise açık rızanıza (m. 5/1) dayanır. Onay ve ret kayıtlarının tutulması, İYS'ye kaydedilmesi ve saklanması, 6563 sayılı Kanun ile Ticari İletişim ve Ticari Elektronik İletiler Hakkında Yönetmelik'ten doğan hukuki yükümlülüğümüzün yerine getirilmesi (m. 5/2-ç) için; onayın ispatı bir hakkın tesisi, kullanılması veya korunması (m. 5/2-e) için; IP adresi ve tarayıcı bilgisinin işlenmesi de işlem güvenliğine ilişkin meşru menfaatimiz (m. 5/2-f) için zorunludur.

Aktarım: Kişisel verileriniz, yalnızca yukarıdaki amaçlarla sınırlı olarak, mevzuat gereği İleti Yönetim Sistemi A.Ş.'ye, iletilerin gönderimi için hizmet aldığımız SMS ve e-posta hizmet sağlayıcılarına ve bilişim altyapısı tedarikçilerimize, talep etmeleri hâlinde de yetkili kamu kurum ve kuruluşları ile yargı mercilerine aktarılabilir.

Toplama yöntemi: Verileriniz, bilgilerinizi ilettiğiniz satış veya iletişim kanalımız (mağaza, çağrı merkezi, internet sitesi, mobil uygulama gibi) ile size SMS ile gönderilen bağlantıdaki bu sayfa aracılığıyla, elektronik ortamda ve otomatik yollarla toplanır.

Saklama süresi: Onay ve ret kayıtları, mevzuatın öngördüğü süre boyunca ve her hâlde onayın sona erdiği tarihten itibaren en az üç yıl saklanır. Diğer veriler, işleme amacının gerektirdiği süre sonunda silinir, yok edilir veya anonim hâle getirilir.

Haklarınız (KVKK m. 11): Kişisel verilerinizin işlenip işlenmediğini öğrenme, işlenmişse bilgi talep etme, işlenme amacını ve amacına uygun kullanılıp kullanılmadığını öğrenme, yurt içinde veya yurt dışında aktarıldığı üçüncü kişileri bilme, eksik veya yanlış işlenmişse düzeltilmesini, KVKK m. 7 çerçevesinde silinmesini veya yok edilmesini ve bu işlemlerin aktarıldığı üçüncü kişilere bildirilmesini isteme, münhasıran otomatik sistemlerle analiz edilmesi sonucu aleyhinize bir sonuç çıkmasına itiraz etme ve kanuna aykırı işleme nedeniyle uğradığınız zararın giderilmesini talep etme haklarına sahipsiniz.

Başvuru: Bu haklarınızı kullanmak için, Veri Sorumlusuna Başvuru Usul ve Esasları Hakkında Tebliğ'e uygun olarak, Şirket'in MERSIS'te kayıtlı adresine yazılı olarak ya da kayıtlı elektronik posta (KEP) adresine, güvenli elektronik imza, mobil imza veya daha önce Şirket'e bildirdiğiniz ve sistemimizde kayıtlı e-posta adresiniz ile başvurabilirsiniz. Başvurunuz en geç otuz gün içinde ve kural olarak ücretsiz sonuçlandırılır.`

const privacyEN = `Under Article 10 of the Personal Data Protection Law No. 6698 (“KVKK”), {company} (MERSIS No: {mersis}; the “Company”), as data controller, informs you about the personal data processed when your consent to commercial electronic messages for the {brand} brand is obtained.

Data processed: your name; your mobile phone number and/or e-mail address; your consent and opt-out records (date and time, channel, message types, the versions of the texts shown to you, and the verification messages); and the IP address and browser information of the device you opened this page on.

Purposes: obtaining, verifying and recording your consent; registering your consents and opt-outs with the Message Management System (İYS); sending you campaign and promotional messages through the channels you consented to; honouring your opt-outs; proving the consent in inspections and disputes; keeping transactions secure and preventing abuse; and, with your explicit consent, marketing, campaign and personalisation (profiling) activities.

Legal grounds (KVKK Art. 5): sending commercial electronic messages relies on your consent under Article 6 of Law No. 6563, processing expressly provided for by law (Art. 5(2)(a)); processing for marketing, profiling and personalisation relies on your explicit consent (Art. 5(1)). Keeping consent and opt-out records and registering them with İYS fulfils our legal obligations under Law No. 6563 and the Regulation on Commercial Communication and Commercial Electronic Messages (Art. 5(2)(ç)); proving the consent is necessary to establish, exercise or protect a right (Art. 5(2)(e)); and the IP address and browser information are processed for our legitimate interest in transaction security (Art. 5(2)(f)).

Recipients: for these purposes only, your personal data may be transferred to İleti Yönetim Sistemi A.Ş. (İYS) as the law requires, to the SMS, e-mail and IT service providers we use, and, on request, to competent public authorities and courts.

Collection: electronically, by automated means, through the sales or contact channel you gave your details to (such as a store, call centre, website or mobile app) and through this page, reached by the link sent to you by SMS.

Retention: consent and opt-out records are kept as long as the legislation requires, and at least three years after the consent ends. Other data is deleted, destroyed or anonymised when its purpose no longer requires it.

Your rights (KVKK Art. 11): to learn whether your personal data is processed and to request information about it; to learn the purpose of processing and whether the data is used accordingly; to know the third parties in Turkey or abroad to whom it is transferred; to request its correction if incomplete or inaccurate, its deletion or destruction under KVKK Art. 7, and that those third parties be notified of this; to object to a result against you arising solely from automated analysis; and to claim compensation for damage caused by unlawful processing.

How to apply: under the Communiqué on the Procedures and Principles of Applications to the Data Controller, write to the Company's address registered in MERSIS, or apply through its registered e-mail (KEP) address, with a secure electronic or mobile signature, or from an e-mail address already registered with the Company. Applications are answered within thirty days, as a rule free of charge.`

const explicitTR = `{company} (MERSIS No: {mersis}; “Şirket”) tarafından {brand} markası için hazırlanan Aydınlatma Metni'ni okudum. Bu metin kapsamında; adım, soyadım, telefon numaram, e-posta adresim ve izin tercihlerimin pazarlama, kampanya ve tanıtım faaliyetleri ile bana özel teklif ve öneriler sunulması amacıyla işlenmesine, bu amaçla analiz edilerek segmentlere ayrılmasına (profilleme) ve yalnızca bu amaçlarla sınırlı olarak Şirket'in hizmet aldığı SMS, e-posta ve bilişim hizmet sağlayıcılarına aktarılmasına açık rıza veriyorum.

Açık rıza vermek isteğe bağlıdır. Açık rıza vermemem, ticari elektronik ileti onayı vermeme ve ürün ve hizmetlerden yararlanmama engel değildir.

Açık rızamı dilediğim zaman, Aydınlatma Metni'nde belirtilen başvuru yollarıyla Şirket'e bildirerek geri alabilirim; geri alma, o ana kadar yapılmış işlemeleri etkilemez.`

const explicitEN = `I have read the Privacy Notice prepared by {company} (MERSIS No: {mersis}; the “Company”) for the {brand} brand. On that basis, I give my explicit consent to the processing of my first and last name, phone number, e-mail address and consent preferences for marketing, campaign and promotional activities and for making me personalised offers and recommendations; to their analysis and segmentation for that purpose (profiling); and to their transfer, limited to these purposes, to the SMS, e-mail and IT service providers the Company uses.

Giving explicit consent is optional. Not giving it does not prevent me from consenting to commercial electronic messages or from using the products and services.

I can withdraw my explicit consent at any time by notifying the Company through the application channels stated in the Privacy Notice; withdrawal does not affect processing carried out before it.`
