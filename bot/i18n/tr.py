"""Türkçe: the bot's messages and its commands' texts in Turkish (keys as in ``en.py``).

Terms: seed = başlangıç metni, temperature = sıcaklık, held-out loss = doğrulama kaybı,
fine-tuning = ince ayar, job = eğitim işi, worker = eğitim süreci, epoch = epoch,
Manage Server = Sunucuyu Yönet (as Discord's Turkish settings name it). Commands keep their
English names (/generate, `effort:thorough`).
"""

MESSAGES: dict[str, str] = {
    # -- errors ----------------------------------------------------------------------------
    "error.unexpected": "Bende bir şeyler ters gitti; kaydedildi. Lütfen tekrar deneyin.",
    "error.cooldown": "Biraz yavaş: bunu {seconds} sn sonra yeniden kullanabilirsiniz.",
    "error.missing_permissions": "Bunun için {permissions} iznine ihtiyacınız var.",
    "error.no_dm": "Bu komut özel mesajlarda değil, bir sunucuda çalışır.",
    "error.check_failed": "Bu komutu burada kullanamazsınız.",
    "error.bad_value": "Bu değer bu seçenek için uygun değil: {value}.",
    "error.model": "Model kullanılamadı: {detail}",
    "permission.manage_guild": "Sunucuyu Yönet",
    # -- models ----------------------------------------------------------------------------
    "model.not_found": (
        "Burada {name} adında bir model yok. Bu sunucunun kullanabileceği modeller için "
        "`/model list` komutuna bakın."
    ),
    "model.damaged_builtin": (
        "`{name}` modeli kullanılamıyor: dosyaları bozuk ({problem}). Başka bir model "
        "deneyin; botun yöneticisi bunu düzeltebilir."
    ),
    "model.damaged_server": (
        "`{name}` modeli kullanılamıyor: dosyaları bozuk ({problem}). Başka bir model "
        "deneyin; sahibi bunu düzeltebilir (`/model delete`)."
    ),
    "model.deleted_while_writing": "Ben yazarken `{name}` modeli silindi.",
    "model.stopped_working": "`{name}` modeli çalışmayı durdurdu; bu kaydedildi.",
    "model.busy": "`{name}` modeli şu anda kullanılamıyor; tekrar deneyin.",
    "model.shutting_down": "Bot kapanıyor; bir dakika sonra tekrar deneyin.",
    "model.builtin": "yerleşik",
    "model.server": "sunucunun",
    "model.by": "yapan: {user}",
    "model.unavailable": "kullanılamıyor",
    "loss.nats": "{loss} nat/karakter",
    "loss.unknown": "bilinmiyor",
    # -- /generate and the replies' buttons -------------------------------------------------
    "generate.seed_empty": "Başlangıç metni boş: devam ettirmem için bana biraz metin verin.",
    "generate.too_long": "Burada en fazla {limit} karakter yazabiliyorum.",
    "generate.out_of_range": (
        "Aralık dışında: temperature 0-2, top_p 0,01-1, length en az 1 olmalı."
    ),
    "generate.bad_seed": (
        "Bu başlangıç metnini devam ettiremiyorum: {detail}. `{name}` modeli yalnızca "
        "eğitildiği metindeki karakterleri tanır."
    ),
    "generate.footer": "{model} · sıcaklık {temperature}",
    "generate.chars": "{count} karakter",
    "generate.skipped": "bilinmeyen karakterler atlandı: {chars}",
    "generate.writing": "yazıyor…",
    "bot.restarting": "Yeniden başlatılıyorum; birazdan tekrar deneyin.",
    "generate.stopped": "durduruldu: Devam et'e basın",
    "generate.attached": "metnin tamamı ekte",
    "button.continue": "Devam et",
    "button.regenerate": "Yeniden yaz",
    "buttons.busy": "Bu metni zaten devam ettiriyorum; bitmesini bekleyin.",
    "buttons.model_gone": (
        "Bu metni yazan model silinmiş, bu yüzden devam edemiyorum. `/generate` ile başka "
        "bir model deneyin."
    ),
    "buttons.unreadable": (
        "Bu yanıtın metnini geri okuyamıyorum, bu yüzden devam edemiyorum. `/generate` ile "
        "yeniden başlayın."
    ),
    "continue.still_writing": "Bu yanıt hâlâ yazılıyor; bitince tekrar deneyin.",
    "continue.unreadable": "Bu yanıtın metnini artık okuyamıyorum, bu yüzden devam ettiremem.",
    "download.try_again": (
        "Yanıtın metnini şu anda Discord'dan indiremedim ({why}); birazdan tekrar deneyin."
    ),
    "download.timeout": "çok uzun sürdü",
    "download.network_error": "ağ hatası",
    "continue.empty": "Bu mesajda devam ettirebileceğim bir metin yok.",
    "continue.attachments_only": (
        "Bu mesajda yalnızca ekler var; ben bir mesajın metnini devam ettirebilirim."
    ),
    "continue.embeds_only": (
        "Bu mesajda yalnızca gömülü içerik var (bir botun kartı gibi); ben bir mesajın "
        "metnini devam ettirebilirim."
    ),
    # -- /model ----------------------------------------------------------------------------
    "list.title": "Bu sunucudaki modeller",
    "list.damaged": "kullanılamıyor: dosyaları bozuk",
    "list.base": "temel model {base}",
    "list.loss": "doğrulama kaybı {loss} · oluşturulma {date}",
    "list.default": "varsayılan",
    "list.footer": "sayfa {page}/{pages} · kayıp ne kadar düşükse üslup o kadar yakın",
    "list.previous": "Önceki",
    "list.next": "Sonraki",
    "list.not_yours": "Sayfaları çevirmek için `/model list` komutunu kendiniz çalıştırın.",
    "card.title": "{name} modeli",
    "card.made_by": "Yapan",
    "card.base": "Temel model",
    "card.from_scratch": "— (sıfırdan eğitildi)",
    "card.loss": "{loss} ({bits} bit/karakter)",
    "card.network": "Ağ",
    "card.network_value": "{layers}× LSTM({units}), {vocab} karakter",
    "card.training": "{epochs} epoch, {minutes} dk",
    "card.sample": "Örnek (sıcaklık 0,5)",
    "card.created": "oluşturulma",
    "default.set": (
        "`{name}` artık bu sunucunun varsayılan modeli: model belirtilmediğinde "
        "`/generate` ve *Continue this text* onu kullanır."
    ),
    "default.gone": "`{name}` az önce silindi, bu yüzden bu sunucunun varsayılanı olamaz.",
    "delete.builtin": "`{name}` yerleşik bir model; silinemez.",
    "delete.not_allowed": (
        "Onu yalnızca modelin sahibi ya da Sunucuyu Yönet iznine sahip biri silebilir."
    ),
    "delete.ask": "`{name}` silinsin mi? Ağırlıkları da gider; bu geri alınamaz.",
    "delete.confirm": "Sil",
    "delete.cancel": "Vazgeç",
    "delete.deleting": "`{name}` siliniyor…",
    "delete.done": "`{name}` silindi (ağırlıkları ve kaydı).",
    "delete.was_default": (
        "Bu sunucunun varsayılan modeliydi: `/generate` artık yerleşik varsayılanı, "
        "`{default}` modelini kullanıyor."
    ),
    "delete.gone": "`{name}` zaten silinmiş; başka bir şey silinmedi.",
    "delete.kept": "Hiçbir şey silinmedi.",
    "delete.not_yours": "Yalnızca soran kişi onaylayabilir.",
    # -- /train ----------------------------------------------------------------------------
    "train.bad_name": (
        "{name} bir model adı olamaz: harf ya da rakamla başlayan, 2-32 küçük harf, "
        "rakam, - veya _ kullanın."
    ),
    "train.not_txt": "{file} bir .txt dosyası değil. Düz UTF-8 metin yükleyin.",
    "train.file_empty": "Bu dosya boş.",
    "train.file_too_big": (
        "Bu dosya {size} bayt; sınır {limit} bayt ({mb} MB). Daha kısa bir metin yükleyin."
    ),
    "train.name_taken": "Burada zaten `{name}` adında bir model var.",
    "train.too_many_models": (
        "Bu sunucunun {count} modeli var, olabilecek en fazla sayı bu. Önce `/model delete` "
        "ile birini silin."
    ),
    "train.bad_text": "Bu metinle eğitim yapamam: {detail}",
    "train.refused": "Eğitim işi kabul edilmedi: {detail}",
    "train.download_failed": (
        "{file} dosyasını Discord'dan indiremedim ({why}). Lütfen yeniden yükleyin."
    ),
    "train.download_try_again": (
        "{file} dosyasını şu anda Discord'dan indiremedim ({why}); "
        "birazdan `/train` komutunu tekrar deneyin."
    ),
    "train.queued": (
        "#{id} numaralı iş kuyruğa alındı: `{name}` eğitiliyor ({how}, {effort} çaba), "
        "{chars} karakter üzerinde."
    ),
    "train.position": "Kuyrukta {position}. sırada.",
    "train.progress_here": "İlerleme bu kanalda görünecek; `/job cancel` onu durdurur.",
    "effort.quick": "hızlı",
    "effort.normal": "normal",
    "effort.thorough": "kapsamlı",
    # -- /job and the channel's job messages -----------------------------------------------
    "status.queued": "kuyrukta",
    "status.running": "çalışıyor",
    "status.succeeded": "başarılı",
    "status.failed": "başarısız",
    "status.cancelled": "iptal edildi",
    "job.not_found": "Bu sunucuda #{id} numaralı bir iş yok.",
    "job.none_yours": "Bu sunucuda hiç eğitim işiniz yok. `/train` deneyin.",
    "job.none_here": "Bu sunucuda henüz eğitim işi yok.",
    "job.list_title": "Eğitim işleri",
    "job.cancel_not_allowed": (
        "Onu yalnızca işin sahibi ya da Sunucuyu Yönet iznine sahip biri iptal edebilir."
    ),
    "job.already_finished": "#{id} numaralı iş zaten bitti: {status}.",
    "job.cancelled_before_start": "#{id} numaralı iş başlamadan iptal edildi.",
    "job.stopping": "#{id} numaralı iş durduruluyor; eğitim süreci birkaç saniye içinde durur.",
    "job.place": "kuyrukta {position}. sırada",
    "job.cancelling": "iptal ediliyor",
    "job.by": "başlatan: {user}",
    "job.ago": "{duration} önce",
    "job.title": "{icon} `{name}` eğitiliyor (iş #{id}, {how})",
    "job.how_finetune": "{base} modeline ince ayar",
    "job.how_scratch": "sıfırdan",
    "job.waiting": "Boşta bir eğitim süreci bekleniyor…",
    "job.starting": "Başlıyor…",
    "job.epoch": "epoch {epoch}/{epochs} · kayıp {loss}",
    "job.heldout": "doğrulama {loss}",
    "job.speed": "{speed} karakter/sn · kalan süre {eta}",
    "job.learned_little": "Bitti, ama `{name}` pek az şey öğrendi: sonuca bakın.",
    "job.done": "Bitti: `{name}` hazır. `/generate` deneyin.",
    "job.failed": "Eğitim başarısız oldu: {error}",
    "job.unknown_reason": "bilinmeyen bir neden",
    "job.cancelled": "İptal edildi.",
    "job.device": "eğitim cihazı: {device}",
    "job.sample_after": "{epoch}. epoch sonrası örnek",
    "note.starting": "Eğitim başlıyor…",
    "note.resuming": "{epoch}. epoch'tan sonra devam ediliyor…",
    "note.retrying": "Yeniden deneniyor: {reason}",
    "result.title": "✅ `{name}` eğitildi",
    "result.title_little": "⚠️ `{name}` eğitildi ama pek az şey öğrendi",
    "result.usage": "`/generate model:{name}` ile kullanın",
    "result.description": "başlatan: {user} · {usage}",
    "result.description_little": (
        "başlatan: {user} · {shortfall} {advice} Yine de {usage} ya da `/model delete` ile silin."
    ),
    "result.chars": "{chars} karakter",
    "result.new_chars": ", {count} yeni",
    "result.training": "{epochs} epoch{steps}, {duration}",
    "result.steps": " ({steps} adım)",
    "field.heldout": "Doğrulama kaybı",
    "field.corpus": "Metin",
    "field.training": "Eğitim",
    "field.sample": "Örnek",
    "outcome.figures": "{loss} nat/karakter ({others})",
    "outcome.base": "temel model: {loss}",
    "outcome.uniform": "tekdüze tahmin: {loss}",
    "outcome.below_uniform": (
        "Doğrulama kaybı ({loss}), her karakteri eşit olasılıkla tahmin etmekten ({uniform}) "
        "daha iyi değil."
    ),
    "outcome.below_base": (
        "Doğrulama kaybı ({loss}), temel modelinkinden ({base}) daha iyi değil: bu metnin "
        "üslubunu öğrenmedi."
    ),
    "advice.more_small": (
        "En çok daha fazla metin yardımcı olur (bu metin {chars} karakterdi; {small} ya da "
        "daha fazlası bir üslubu iyi öğretir)"
    ),
    "advice.more": "Daha uzun bir metin yardımcı olur",
    "advice.scratch": (
        "{more}; sıfırdan eğitim, ince ayara (varsayılan) göre çok daha fazla metin ister."
    ),
    "advice.enough_effort": "{more}.",
    "advice.effort": "{more}; `effort:thorough` da yardımcı olur.",
    # -- why a job failed or is retried (jobs/reasons.py) -------------------------------------
    # -- yüklenen metnin sorunları ----------------------------------------------------------
    "seed.empty": "başlangıç metni boş",
    "seed.unknown_chars": "model başlangıç metnindeki karakterlerin hiçbirini tanımıyor ({chars})",
    "corpus.empty": "Dosya boş.",
    "corpus.unprintable": (
        "Dosya çoğunlukla yazdırılamayan karakterlerden oluşuyor, düz metin değil: bir .txt "
        "dosyası yükleyin."
    ),
    "corpus.one_char": (
        "Dosyada yalnızca tek bir farklı karakter var ({char}); öğrenilecek bir üslup yok."
    ),
    "corpus.too_short": ("Dosya öğrenmek için çok kısa ({chars} karakter; en az {min} gerekir)."),
    "corpus.too_short_to_split": "Metin eğitim için çok kısa ({chars} karakter).",
    "corpus.damaged": (
        "Dosya {encoding} olarak işaretli ama {byte}. baytta bozuk; UTF-8 olarak kaydedin "
        "(Not Defteri'nde: Dosya > Farklı kaydet > Kodlama: UTF-8)."
    ),
    "corpus.utf16_without_bom": (
        "Dosya bayt sırası işareti olmayan UTF-16'ya benziyor, güvenilir biçimde okunamaz; "
        "UTF-8 olarak kaydedin (Not Defteri'nde: Dosya > Farklı kaydet > Kodlama: UTF-8)."
    ),
    "corpus.binary": (
        "Dosya ikili görünüyor (NUL baytları içeriyor), düz metin değil: UTF-8 olarak "
        "kaydedilmiş bir .txt dosyası yükleyin."
    ),
    "corpus.not_utf8": (
        "Dosya UTF-8 değil ({position}. konumdaki {byte} baytı geçerli UTF-8 değil; dosya "
        "Windows-1252 ya da Latin-1 olabilir): UTF-8 olarak kaydedin (Not Defteri'nde: Dosya > "
        "Farklı kaydet > Kodlama: UTF-8)."
    ),
    "reason.temporary": "eğitim süreci geçici bir sorunla karşılaştı (depolama, bellek ya da ağ)",
    "reason.unexpected": (
        "eğitim beklenmedik bir hata yüzünden durdu; botun yöneticisi ayrıntıları eğitim "
        "sürecinin kayıtlarında bulabilir"
    ),
    "reason.bad_settings": "işin eğitim ayarları geçersiz",
    "reason.diverged": (
        "eğitim kararsızlaştı (kayıp artık bir sayı değildi) ve durduruldu; yeniden denense de "
        "aynı şekilde başarısız olur: başka ya da daha uzun bir metin deneyin"
    ),
    "reason.bad_text": "bu metinle eğitim yapılamıyor: {detail}",
    "reason.invalid_name": "iş geçersiz bir model adı içeriyor",
    "reason.upload_damaged": "yüklenen metin bozuk ulaştı; lütfen yeniden yükleyin",
    "reason.upload_gone": "yüklenen metin artık yok (eğitimden önce silindi)",
    "reason.base_missing": "'{name}' temel modeli eğitim sürecinde kurulu değil",
    "reason.base_outdated": (
        "eğitim sürecindeki '{name}' kopyası botunkinden farklı; yöneticinin eğitim sürecindeki "
        "lstm-bot'u güncellemesi gerekiyor"
    ),
    "reason.base_damaged": "'{name}' temel modeli artık yok ya da bozuk ulaştı",
    "reason.base_unloadable": "'{name}' temel modeli yüklenemedi",
    "reason.worker_stopped": "eğitim süreci kapandı",
    "reason.worker_unresponsive": "işi eğiten süreç yanıt vermeyi bıraktı",
    "reason.worker_gave_up": "eğitim süreci defalarca yanıt vermeyi bıraktı",
    "reason.result_damaged": "eğitilen model bozuk ulaştı; yeniden eğitin",
    "reason.result_refused": (
        "eğitilen model geçerli bir sunucu ya da model adı içermiyor; yeniden eğitin"
    ),
    "reason.name_taken_meanwhile": (
        "bu arada '{name}' adında bir model oluşturuldu; başka bir adla yeniden eğitin"
    ),
    # -- /privacy --------------------------------------------------------------------------
    "privacy.kept": " (bu botun yöneticisi onları saklıyor: LSTM_BOT_KEEP_CORPORA)",
    "privacy.text": (
        "**lstm-bot neleri saklar**\n"
        "• **Yüklenen metinler** (`/train`): eğitim işiyle birlikte botun iş kuyruğunda "
        "saklanır, eğitim sürecine gönderilir ve iş biter bitmez silinir{keep}.\n"
        "• **Modeller**: eğitilmiş ağırlıklar ve bir model kartı (ad, yapan, temel model, "
        "metin boyutu, eğitim değerleri). Bir sunucunun modellerini yalnızca o sunucu "
        "görebilir ve kullanabilir.\n"
        "• **İşler**: her eğitim işi için onu kimin, hangi kanalda başlattığı, Discord "
        "dili (işin mesajları için), durumu ve ilerleme kaydı (kayıplar, örnekler). "
        "`/job list` gösterebilsin diye saklanır.\n"
        "• **Sunucu ayarları**: bu sunucunun varsayılan modeli (`/model default`).\n"
        "• **Yazılmakta olan yanıtlar**: mesajın, kanalının ve sunucusunun kimlikleri, "
        "model, seçenekler ve yazdıranın Discord dili, yalnızca yanıt yazılırken (yeniden "
        "başlatma onu bitirebilsin diye); metni asla.\n"
        "• **Saklanmayanlar**: `/generate` başlangıç metinleri ve sonuçları, "
        "*Continue this text* ile kullanılan mesajlar ve kanal mesajları. Devam et ve "
        "Yeniden yaz düğmeleri metni botun kendi yanıtından (mesajından ya da "
        "`generated.txt` dosyasından) geri okur; yalnızca modeli ve seçenekleri taşırlar. "
        "Bot mesaj geçmişini asla okumaz.\n\n"
        "**Nasıl silinir**\n"
        "• `/job cancel` bir işi durdurur ve yüklenen metnini siler.\n"
        "• `/model delete` bir modelin ağırlıklarını, kartını ve kaydını siler (sahibi ya da "
        "Sunucuyu Yönet iznine sahip herkes).\n"
        "• Bu sunucuya ait her şeyin silinmesi için botun yöneticisine başvurun."
    ),
}

COMMANDS: dict[str, str] = {
    # /generate
    "Continue your text in a learned style": "Metninizi öğrenilmiş bir üslupla sürdürün",
    "Text to start from (the model continues it)": ("Başlangıç metni (model onu sürdürür)"),
    "Randomness: 0 = most likely text, 0.5 = balanced, 1+ = wild": (
        "Rastgelelik: 0 = en olası metin, 0,5 = dengeli, 1+ = çılgın"
    ),
    "Model to write with (default: this server's default model)": (
        "Yazacak model (varsayılan: bu sunucunun varsayılan modeli)"
    ),
    "How many characters to add (default 400)": "Kaç karakter eklensin (varsayılan 400)",
    "Only sample from the most likely characters covering this probability": (
        "Yalnızca bu olasılığı kapsayan en olası karakterlerden seç"
    ),
    "Random seed: the same seed and options give the same text": (
        "Rastgele tohum: aynı tohum ve seçenekler aynı metni verir"
    ),
    # /model
    "Browse and manage models": "Modellere göz atın ve onları yönetin",
    "The models this server can use": "Bu sunucunun kullanabileceği modeller",
    "A model's card, with a short sample": "Bir modelin kartı ve kısa bir örnek",
    "The model": "Model",
    "Choose the model /generate uses here when none is named": (
        "Model belirtilmediğinde /generate'in burada kullanacağı modeli seçin"
    ),
    "The model (Manage Server)": "Model (Sunucuyu Yönet)",
    "Delete a model of this server": "Bu sunucunun bir modelini silin",
    "The model to delete": "Silinecek model",
    # /train
    "Train a new model on a .txt file": "Bir .txt dosyasıyla yeni bir model eğitin",
    "A .txt file (UTF-8, or UTF-16 from Notepad) with the text whose style to learn": (
        "Üslubu öğrenilecek metni içeren bir .txt dosyası (UTF-8 ya da Not Defteri'nden UTF-16)"
    ),
    "Name of the new model (2-32 lowercase letters, digits, - or _)": (
        "Yeni modelin adı (2-32 küçük harf, rakam, - veya _)"
    ),
    "Model to fine-tune (default: the built-in one)": (
        "İnce ayar yapılacak model (varsayılan: yerleşik olan)"
    ),
    "quick (up to 5 min), normal (15), thorough (60); sized to your text, stops once it stops "
    "improving": (
        "hızlı (en çok 5 dk), normal (15), kapsamlı (60); metne göre ayarlanır, gelişme "
        "durunca biter"
    ),
    "Train a new network instead of fine-tuning (needs much more text)": (
        "İnce ayar yerine yeni bir ağ eğitin (çok daha fazla metin gerekir)"
    ),
    "quick": "hızlı",
    "normal": "normal",
    "thorough": "kapsamlı",
    # /job
    "Training jobs": "Eğitim işleri",
    "Where a training job is": "Bir eğitim işinin durumu",
    "Job number (default: your latest job here)": "İş numarası (varsayılan: buradaki son işiniz)",
    "This server's recent training jobs": "Bu sunucunun son eğitim işleri",
    "Stop a training job": "Bir eğitim işini durdurun",
    "Job number": "İş numarası",
    # /privacy
    "What the bot stores and how to delete it": "Botun neleri sakladığı ve nasıl silineceği",
}
