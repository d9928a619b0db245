"""Português (Brasil): the bot's messages and its commands' texts in Brazilian Portuguese
(keys as in ``en.py``).

Terms: seed = texto inicial, temperature = temperatura, held-out loss = perda de validação,
fine-tuning = ajuste fino, job = tarefa de treino, worker = processo de treino,
epoch = época, Manage Server = Gerenciar servidor (as Discord's Portuguese settings name it).
Commands keep their English names (/generate, `effort:thorough`).
"""

MESSAGES: dict[str, str] = {
    # -- errors ----------------------------------------------------------------------------
    "error.unexpected": "Algo deu errado do meu lado; já foi registrado. Tente de novo.",
    "error.cooldown": "Calma: você poderá usar isto de novo em {seconds} s.",
    "error.missing_permissions": "Você precisa da permissão {permissions} para isso.",
    "error.no_dm": "Esse comando funciona em um servidor, não em mensagens diretas.",
    "error.check_failed": "Você não pode usar esse comando aqui.",
    "error.bad_value": "Esse valor não serve para esta opção: {value}.",
    "error.model": "Não foi possível usar o modelo: {detail}",
    "permission.manage_guild": "Gerenciar servidor",
    # -- models ----------------------------------------------------------------------------
    "model.not_found": (
        "Não há nenhum modelo chamado {name} aqui. Veja em `/model list` os modelos que este "
        "servidor pode usar."
    ),
    "model.damaged_builtin": (
        "O modelo `{name}` está indisponível: seus arquivos estão danificados ({problem}). "
        "Tente outro modelo; o operador do bot pode consertá-lo."
    ),
    "model.damaged_server": (
        "O modelo `{name}` está indisponível: seus arquivos estão danificados ({problem}). "
        "Tente outro modelo; quem o criou pode resolver (`/model delete`)."
    ),
    "model.deleted_while_writing": "O modelo `{name}` foi excluído enquanto eu escrevia.",
    "model.stopped_working": "O modelo `{name}` parou de funcionar; já foi registrado.",
    "model.busy": "O modelo `{name}` não está disponível agora; tente de novo.",
    "model.shutting_down": "O bot está sendo desligado; tente de novo daqui a um minuto.",
    "model.builtin": "integrado",
    "model.server": "do servidor",
    "model.by": "de {user}",
    "model.unavailable": "indisponível",
    "loss.nats": "{loss} nats/caractere",
    "loss.unknown": "desconhecida",
    # -- /generate and the replies' buttons -------------------------------------------------
    "generate.seed_empty": "O texto inicial está vazio: me dê algum texto para continuar.",
    "generate.too_long": "O máximo que escrevo aqui são {limit} caracteres.",
    "generate.out_of_range": (
        "Fora do intervalo: temperature de 0 a 2, top_p de 0,01 a 1, length 1 ou mais."
    ),
    "generate.bad_seed": (
        "Não consigo continuar esse texto inicial: {detail}. O modelo `{name}` só conhece os "
        "caracteres do texto com que foi treinado."
    ),
    "generate.footer": "{model} · temperatura {temperature}",
    "generate.chars": "{count} caracteres",
    "generate.skipped": "caracteres desconhecidos ignorados: {chars}",
    "generate.writing": "escrevendo…",
    "bot.restarting": "Estou reiniciando; tente de novo em instantes.",
    "generate.stopped": "interrompido: aperte Continuar",
    "generate.attached": "texto completo em anexo",
    "button.continue": "Continuar",
    "button.regenerate": "Gerar de novo",
    "buttons.busy": "Já estou continuando este texto; espere terminar.",
    "buttons.model_gone": (
        "O modelo que escreveu este texto foi excluído, então não consigo continuá-lo. "
        "Tente `/generate` com outro modelo."
    ),
    "buttons.unreadable": (
        "Não consigo reler o texto desta resposta, então não consigo continuá-lo. "
        "Comece de novo com `/generate`."
    ),
    "continue.still_writing": (
        "Essa resposta ainda está sendo escrita; tente de novo quando terminar."
    ),
    "continue.unreadable": (
        "Não consigo mais ler o texto dessa resposta, então não posso continuá-lo."
    ),
    "download.try_again": (
        "Não consegui baixar o texto da resposta do Discord agora ({why}); "
        "tente de novo em instantes."
    ),
    "download.timeout": "demorou demais",
    "download.network_error": "erro de rede",
    "continue.empty": "Essa mensagem não tem texto para eu continuar.",
    "continue.attachments_only": (
        "Essa mensagem só tem anexos; eu consigo continuar o texto de uma mensagem."
    ),
    "continue.embeds_only": (
        "Essa mensagem só tem embeds (como o cartão de um bot); eu consigo continuar o texto "
        "de uma mensagem."
    ),
    # -- /model ----------------------------------------------------------------------------
    "list.title": "Modelos deste servidor",
    "list.damaged": "indisponível: arquivos danificados",
    "list.base": "base {base}",
    "list.loss": "perda de validação {loss} · criado em {date}",
    "list.default": "padrão",
    "list.footer": "página {page}/{pages} · perda menor = mais perto do estilo",
    "list.previous": "Anterior",
    "list.next": "Próxima",
    "list.not_yours": "Use `/model list` você mesmo para folhear as páginas.",
    "card.title": "Modelo {name}",
    "card.made_by": "Criado por",
    "card.base": "Modelo base",
    "card.from_scratch": "— (treinado do zero)",
    "card.loss": "{loss} ({bits} bits/caractere)",
    "card.network": "Rede",
    "card.network_value": "{layers}× LSTM({units}), {vocab} caracteres",
    "card.training": "{epochs} épocas, {minutes} min",
    "card.sample": "Amostra (temperatura 0,5)",
    "card.created": "criado",
    "default.set": (
        "`{name}` agora é o modelo padrão deste servidor: `/generate` e *Continue this text* "
        "o usam quando nenhum modelo é indicado."
    ),
    "default.gone": "`{name}` acabou de ser excluído, então não pode ser o padrão deste servidor.",
    "delete.builtin": "`{name}` é um modelo integrado; não pode ser excluído.",
    "delete.not_allowed": (
        "Só quem criou o modelo ou alguém com Gerenciar servidor pode excluí-lo."
    ),
    "delete.ask": "Excluir `{name}`? Os pesos vão junto; não dá para desfazer.",
    "delete.confirm": "Excluir",
    "delete.cancel": "Cancelar",
    "delete.deleting": "Excluindo `{name}`…",
    "delete.done": "`{name}` foi excluído (seus pesos e seu registro).",
    "delete.was_default": (
        "Era o modelo padrão deste servidor: `/generate` agora usa o padrão integrado, `{default}`."
    ),
    "delete.gone": "`{name}` já foi excluído; nada mais foi excluído.",
    "delete.kept": "Nada foi excluído.",
    "delete.not_yours": "Só quem pediu pode confirmar.",
    # -- /train ----------------------------------------------------------------------------
    "train.bad_name": (
        "{name} não pode ser nome de modelo: use de 2 a 32 letras minúsculas, algarismos, "
        "- ou _, começando com uma letra ou um algarismo."
    ),
    "train.not_txt": "{file} não é um arquivo .txt. Envie texto simples em UTF-8.",
    "train.file_empty": "Esse arquivo está vazio.",
    "train.file_too_big": (
        "Esse arquivo tem {size} bytes; o limite é {limit} bytes ({mb} MB). "
        "Envie um texto mais curto."
    ),
    "train.name_taken": "Já existe um modelo chamado `{name}` aqui.",
    "train.too_many_models": (
        "Este servidor tem {count} modelos, o máximo permitido. Exclua um com "
        "`/model delete` primeiro."
    ),
    "train.bad_text": "Não consigo treinar com esse texto: {detail}",
    "train.refused": "A tarefa de treino não foi aceita: {detail}",
    "train.download_failed": (
        "Não consegui baixar {file} do Discord ({why}). Envie o arquivo de novo."
    ),
    "train.download_try_again": (
        "Não consegui baixar {file} do Discord agora ({why}); tente `/train` de novo em instantes."
    ),
    "train.queued": (
        "Tarefa #{id} na fila: treinando `{name}` ({how}, esforço {effort}) com {chars} caracteres."
    ),
    "train.position": "Ela é a número {position} da fila.",
    "train.progress_here": "O progresso vai aparecer neste canal; `/job cancel` a interrompe.",
    "effort.quick": "rápido",
    "effort.normal": "normal",
    "effort.thorough": "completo",
    # -- /job and the channel's job messages -----------------------------------------------
    "status.queued": "na fila",
    "status.running": "em andamento",
    "status.succeeded": "concluída",
    "status.failed": "falhou",
    "status.cancelled": "cancelada",
    "job.not_found": "Não há nenhuma tarefa #{id} neste servidor.",
    "job.none_yours": "Você não tem tarefas de treino neste servidor. Experimente `/train`.",
    "job.none_here": "Ainda não há tarefas de treino neste servidor.",
    "job.list_title": "Tarefas de treino",
    "job.cancel_not_allowed": (
        "Só quem iniciou a tarefa ou alguém com Gerenciar servidor pode cancelá-la."
    ),
    "job.already_finished": "A tarefa #{id} já terminou: {status}.",
    "job.cancelled_before_start": "A tarefa #{id} foi cancelada antes de começar.",
    "job.stopping": ("Interrompendo a tarefa #{id}; o processo de treino para em alguns segundos."),
    "job.place": "posição {position} na fila",
    "job.cancelling": "cancelando",
    "job.by": "de {user}",
    "job.ago": "há {duration}",
    "job.title": "{icon} Treinando `{name}` (tarefa #{id}, {how})",
    "job.how_finetune": "ajuste fino de {base}",
    "job.how_scratch": "do zero",
    "job.waiting": "Esperando um processo de treino livre…",
    "job.starting": "Começando…",
    "job.epoch": "época {epoch}/{epochs} · perda {loss}",
    "job.heldout": "validação {loss}",
    "job.speed": "{speed} caracteres/s · faltam {eta}",
    "job.learned_little": "Terminou, mas `{name}` aprendeu pouco: veja o resultado.",
    "job.done": "Pronto: `{name}` está disponível. Experimente `/generate`.",
    "job.failed": "O treino falhou: {error}",
    "job.unknown_reason": "motivo desconhecido",
    "job.cancelled": "Cancelada.",
    "job.device": "treinando em {device}",
    "job.sample_after": "Amostra após a época {epoch}",
    "note.starting": "Começando o treino…",
    "note.resuming": "Retomando após a época {epoch}…",
    "note.retrying": "Tentando de novo: {reason}",
    "result.title": "✅ `{name}` está treinado",
    "result.title_little": "⚠️ `{name}` está treinado, mas aprendeu pouco",
    "result.usage": "use-o com `/generate model:{name}`",
    "result.description": "de {user} · {usage}",
    "result.description_little": (
        "de {user} · {shortfall} {advice} Você ainda pode {usage}, ou excluí-lo com "
        "`/model delete`."
    ),
    "result.chars": "{chars} caracteres",
    "result.new_chars": ", {count} novos",
    "result.training": "{epochs} épocas{steps} em {duration}",
    "result.steps": " ({steps} passos)",
    "field.heldout": "Perda de validação",
    "field.corpus": "Texto",
    "field.training": "Treino",
    "field.sample": "Amostra",
    "outcome.figures": "{loss} nats/caractere ({others})",
    "outcome.base": "modelo base: {loss}",
    "outcome.uniform": "palpite uniforme: {loss}",
    "outcome.below_uniform": (
        "A perda de validação ({loss}) não é melhor do que chutar cada caractere de modo "
        "uniforme ({uniform})."
    ),
    "outcome.below_base": (
        "A perda de validação ({loss}) não é melhor do que a do modelo base ({base}): ele não "
        "aprendeu o estilo deste texto."
    ),
    "advice.more_small": (
        "Mais texto ajudaria mais (este tinha {chars} caracteres; com {small} ou mais "
        "um estilo é bem aprendido)"
    ),
    "advice.more": "Um texto mais longo ajudaria",
    "advice.scratch": (
        "{more}; treinar do zero exige muito mais texto do que o ajuste fino (o padrão)."
    ),
    "advice.enough_effort": "{more}.",
    "advice.effort": "{more}, e `effort:thorough` também.",
    # -- why a job failed or is retried (jobs/reasons.py) -------------------------------------
    # -- por que um texto enviado não serve para treinar ------------------------------------
    "seed.empty": "o texto inicial está vazio",
    "seed.unknown_chars": "o modelo não conhece nenhum dos caracteres do texto inicial ({chars})",
    "corpus.empty": "O arquivo está vazio.",
    "corpus.unprintable": (
        "O arquivo tem sobretudo caracteres não imprimíveis, não é texto simples: envie um "
        "arquivo .txt."
    ),
    "corpus.one_char": (
        "O arquivo tem um único caractere distinto ({char}); não há estilo para aprender."
    ),
    "corpus.too_short": (
        "O arquivo é curto demais para aprender ({chars} caracteres; no mínimo {min})."
    ),
    "corpus.too_short_to_split": "O texto é curto demais para treinar ({chars} caracteres).",
    "corpus.damaged": (
        "O arquivo está marcado como {encoding}, mas está danificado no byte {byte}; salve-o "
        "como UTF-8 (no Bloco de Notas: Arquivo > Salvar como > Codificação: UTF-8)."
    ),
    "corpus.utf16_without_bom": (
        "O arquivo parece UTF-16 sem marca de ordem de bytes, o que não dá para ler com "
        "segurança; salve-o como UTF-8 (no Bloco de Notas: Arquivo > Salvar como > "
        "Codificação: UTF-8)."
    ),
    "corpus.binary": (
        "O arquivo parece binário (contém bytes NUL), não texto simples: envie um arquivo .txt "
        "salvo como UTF-8."
    ),
    "corpus.not_utf8": (
        "O arquivo não está em UTF-8 (o byte {byte} na posição {position} não é UTF-8 válido; "
        "o arquivo pode estar em Windows-1252 ou Latin-1): salve-o como UTF-8 (no Bloco de "
        "Notas: Arquivo > Salvar como > Codificação: UTF-8)."
    ),
    "reason.temporary": (
        "o processo de treino teve um problema passageiro (armazenamento, memória ou rede)"
    ),
    "reason.unexpected": (
        "o treino parou por um erro inesperado; o operador do bot encontra os detalhes no log "
        "do processo de treino"
    ),
    "reason.bad_settings": "as configurações de treino da tarefa são inválidas",
    "reason.diverged": (
        "o treino ficou instável (a perda deixou de ser um número) e foi interrompido; falharia "
        "do mesmo jeito de novo: tente um texto diferente ou mais longo"
    ),
    "reason.bad_text": "não dá para treinar com este texto: {detail}",
    "reason.invalid_name": "a tarefa indica um modelo com nome inválido",
    "reason.upload_damaged": "o texto enviado chegou danificado; envie-o de novo",
    "reason.upload_gone": "o texto enviado não existe mais (foi removido antes do treino)",
    "reason.base_missing": "o modelo base '{name}' não está instalado no processo de treino",
    "reason.base_outdated": (
        "a cópia de '{name}' no processo de treino é diferente da do bot; o operador deve "
        "atualizar o lstm-bot na máquina de treino"
    ),
    "reason.base_damaged": "o modelo base '{name}' não existe mais ou chegou danificado",
    "reason.base_unloadable": "não foi possível carregar o modelo base '{name}'",
    "reason.worker_stopped": "o processo de treino foi encerrado",
    "reason.worker_unresponsive": "o processo que treinava a tarefa parou de responder",
    "reason.worker_gave_up": "o processo de treino parou de responder vezes demais",
    "reason.result_damaged": "o modelo treinado chegou danificado; treine-o de novo",
    "reason.result_refused": (
        "o modelo treinado não indica um servidor ou nome de modelo válido; treine-o de novo"
    ),
    "reason.name_taken_meanwhile": (
        "um modelo chamado '{name}' foi criado nesse meio-tempo; treine de novo com outro nome"
    ),
    # -- /privacy --------------------------------------------------------------------------
    "privacy.kept": " (o operador deste bot os guarda: LSTM_BOT_KEEP_CORPORA)",
    "privacy.text": (
        "**O que o lstm-bot guarda**\n"
        "• **Textos enviados** (`/train`): guardados com a tarefa de treino na fila do bot, "
        "enviados ao processo de treino e excluídos assim que a tarefa termina{keep}.\n"
        "• **Modelos**: os pesos treinados e um cartão do modelo (nome, quem o criou, modelo "
        "base, tamanho do texto, números do treino). Só este servidor pode ver ou usar os "
        "modelos dele.\n"
        "• **Tarefas**: para cada tarefa de treino, quem a iniciou, em que canal, o idioma "
        "do Discord dessa pessoa (para as mensagens da tarefa), o status e o registro de "
        "progresso (perdas, amostras). Guardados para que `/job list` possa mostrá-los.\n"
        "• **Configurações do servidor**: o modelo padrão deste servidor (`/model default`).\n"
        "• **Respostas sendo escritas**: os ids da mensagem, do canal e do servidor, o "
        "modelo, as opções e o idioma do Discord de quem pediu, só enquanto a resposta é "
        "escrita (para que um reinício possa terminá-la); nunca o texto.\n"
        "• **Não é guardado**: textos iniciais e resultados do `/generate`, as mensagens em "
        "que *Continue this text* é usado e as mensagens dos canais. Os botões Continuar e "
        "Gerar de novo releem o texto na própria resposta do bot (a mensagem ou o "
        "`generated.txt`); eles levam só o modelo e as opções. O bot nunca lê o histórico "
        "de mensagens.\n\n"
        "**Como excluir**\n"
        "• `/job cancel` interrompe uma tarefa e exclui o texto enviado.\n"
        "• `/model delete` remove os pesos, o cartão e o registro de um modelo (quem o criou "
        "ou qualquer pessoa com Gerenciar servidor).\n"
        "• Para remover tudo deste servidor, fale com o operador do bot."
    ),
}

COMMANDS: dict[str, str] = {
    # /generate
    "Continue your text in a learned style": "Continue seu texto em um estilo aprendido",
    "Text to start from (the model continues it)": "Texto inicial (o modelo o continua)",
    "Randomness: 0 = most likely text, 0.5 = balanced, 1+ = wild": (
        "Aleatoriedade: 0 = texto mais provável, 0,5 = equilibrado, 1+ = ousado"
    ),
    "Model to write with (default: this server's default model)": (
        "Modelo que vai escrever (padrão: o modelo padrão deste servidor)"
    ),
    "How many characters to add (default 400)": "Quantos caracteres acrescentar (padrão 400)",
    "Only sample from the most likely characters covering this probability": (
        "Sortear só entre os caracteres mais prováveis que somam esta probabilidade"
    ),
    "Random seed: the same seed and options give the same text": (
        "Semente aleatória: a mesma semente e as mesmas opções dão o mesmo texto"
    ),
    # /model
    "Browse and manage models": "Veja e gerencie modelos",
    "The models this server can use": "Os modelos que este servidor pode usar",
    "A model's card, with a short sample": "O cartão de um modelo, com uma pequena amostra",
    "The model": "O modelo",
    "Choose the model /generate uses here when none is named": (
        "Escolha o modelo que /generate usa aqui quando nenhum é indicado"
    ),
    "The model (Manage Server)": "O modelo (Gerenciar servidor)",
    "Delete a model of this server": "Exclua um modelo deste servidor",
    "The model to delete": "O modelo a excluir",
    # /train
    "Train a new model on a .txt file": "Treine um novo modelo com um arquivo .txt",
    "A .txt file (UTF-8, or UTF-16 from Notepad) with the text whose style to learn": (
        "Um arquivo .txt (UTF-8, ou UTF-16 do Bloco de Notas) com o texto cujo estilo aprender"
    ),
    "Name of the new model (2-32 lowercase letters, digits, - or _)": (
        "Nome do novo modelo (2 a 32 letras minúsculas, algarismos, - ou _)"
    ),
    "Model to fine-tune (default: the built-in one)": (
        "Modelo para o ajuste fino (padrão: o integrado)"
    ),
    "quick (up to 5 min), normal (15), thorough (60); sized to your text, stops once it stops "
    "improving": (
        "rápido (até 5 min), normal (15), completo (60); ajustado ao texto, para quando "
        "deixa de melhorar"
    ),
    "Train a new network instead of fine-tuning (needs much more text)": (
        "Treinar uma rede nova em vez de fazer ajuste fino (exige muito mais texto)"
    ),
    "quick": "rápido",
    "normal": "normal",
    "thorough": "completo",
    # /job
    "Training jobs": "Tarefas de treino",
    "Where a training job is": "Como está uma tarefa de treino",
    "Job number (default: your latest job here)": (
        "Número da tarefa (padrão: sua tarefa mais recente aqui)"
    ),
    "This server's recent training jobs": "As tarefas de treino recentes deste servidor",
    "Stop a training job": "Interrompa uma tarefa de treino",
    "Job number": "Número da tarefa",
    # /privacy
    "What the bot stores and how to delete it": "O que o bot guarda e como excluir",
}
