"""What the embedded planner writes to customers, in each language it can answer in.

Every locale holds the same messages with the same placeholders, so a fact that
reaches a customer in English reaches them in Spanish too. Amounts keep the
store's notation (``45.00 EUR``) in every language: the guardrails check every
figure in a reply against the order, and a localised ``45,00`` would read as
another amount. Order numbers keep their ``#``. Replies on kinds that move no
money must not mention refunds, credit or vouchers in any language (see
``agents.guardrails``), so only the money kinds' messages use those words.
"""

from __future__ import annotations

from string import Formatter
from typing import Any

from tenants.models import Tenant

DEFAULT = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "hello_named": "Hi {first},",
        "hello": "Hi,",
        "the_carrier": "the carrier",
        "label_created": "label created",
        "eta": " Estimated delivery: {date}.",
        "no_order": "{hello} thanks for reaching out. Could you send us your order number "
        "so we can look into this?",
        "specialist": "{hello} thanks for your message about order #{number}. A specialist is "
        "looking into it and will get back to you shortly.",
        "specialist_short": "{hello} a specialist is looking at order #{number} and will get "
        "back to you shortly.",
        "refunded_in_full": "{hello} order #{number} has already been refunded in full.",
        "refund_in_transit": "{hello} order #{number} is still on its way; a specialist will "
        "see whether it can be stopped and refunded.",
        "refund": "{hello} we have refunded {amount} {currency} for order #{number} to your "
        "original payment method. It usually shows within 5-10 business days.",
        "already_cancelled": "{hello} order #{number} is already cancelled.",
        "cancel_shipped": "{hello} order #{number} has already left our warehouse, so we cannot "
        "cancel it any more; a specialist will help you return it instead.",
        "cancel": "{hello} we have cancelled order #{number} before it shipped and refunded "
        "{amount} {currency} to your original payment method. It usually shows within 5-10 "
        "business days.",
        "address_shipped": "{hello} order #{number} has already shipped; a specialist will "
        "check with the carrier whether the parcel can be redirected.",
        "address": "{hello} we have updated the delivery address of order #{number}.",
        "return_review": "{hello} thanks for your message about order #{number}. A specialist "
        "is checking your return against our policy and will get back to you shortly.",
        "keep_item_refund": "{hello} we are sorry about this. {message} We have refunded "
        "{amount} {currency} for order #{number} to your original payment method; there is no "
        "need to send the item back.",
        "return_label": "{hello} your return for order #{number} is approved. We are sending "
        "you a prepaid return label; once the item is back we refund {amount} {currency}.",
        "store_credit": "{hello} your return for order #{number} is approved. We have added "
        "{amount} {currency} in store credit to your account and are sending you a prepaid "
        "return label for the item.",
        "replacement": "{hello} we are sorry about this. {message} We will ship a replacement "
        "for order #{number}.",
        "shipping_unknown": "{hello} we are checking the shipping details of order #{number} "
        "and will update you today.",
        "delivery_problem": "{hello} we are sorry about the trouble with order #{number}. We "
        "are checking with {carrier} and will update you today.",
        "status_pending": "{hello} your order #{number} has not been handed to the carrier "
        "yet; we will send you the tracking link as soon as it ships.",
        "status_info_received": "{hello} your order #{number} is packed and the label is "
        "created; {carrier} will pick it up shortly (tracking {tracking}).",
        "status_in_transit": "{hello} your order #{number} is on its way with {carrier} "
        "(tracking {tracking}). Latest scan: {last}.{eta}",
        "status_out_for_delivery": "{hello} good news: your order #{number} is out for "
        "delivery today with {carrier} (tracking {tracking}).",
        "status_available_for_pickup": "{hello} your order #{number} is waiting for you at the "
        "pickup point: {last}. Bring an ID and tracking number {tracking}.",
        "status_delivered": "{hello} {carrier} shows your order #{number} as delivered: {last}. "
        "If you cannot find it, reply and we will help.",
        "status_failed_attempt": "{hello} {carrier} tried to deliver order #{number} but could "
        "not: {last}. They will try again on the next business day; you can also arrange a "
        "redelivery with tracking number {tracking}.",
    },
    "es": {
        "hello_named": "Hola, {first},",
        "hello": "Hola,",
        "the_carrier": "la empresa de transporte",
        "label_created": "etiqueta creada",
        "eta": " Entrega prevista: {date}.",
        "no_order": "{hello} gracias por escribirnos. ¿Nos puedes enviar tu número de pedido "
        "para que podamos revisarlo?",
        "specialist": "{hello} gracias por tu mensaje sobre el pedido #{number}. Un "
        "especialista lo está revisando y te responderá en breve.",
        "specialist_short": "{hello} un especialista está revisando el pedido #{number} y te "
        "responderá en breve.",
        "refunded_in_full": "{hello} el pedido #{number} ya se ha reembolsado por completo.",
        "refund_in_transit": "{hello} el pedido #{number} todavía está en camino; un "
        "especialista verá si se puede detener y reembolsar.",
        "refund": "{hello} te hemos reembolsado {amount} {currency} del pedido #{number} en tu "
        "método de pago original. Suele aparecer en un plazo de 5 a 10 días hábiles.",
        "already_cancelled": "{hello} el pedido #{number} ya está cancelado.",
        "cancel_shipped": "{hello} el pedido #{number} ya ha salido de nuestro almacén, así que "
        "ya no podemos cancelarlo; un especialista te ayudará a devolverlo.",
        "cancel": "{hello} hemos cancelado el pedido #{number} antes de su envío y te hemos "
        "reembolsado {amount} {currency} en tu método de pago original. Suele aparecer en un "
        "plazo de 5 a 10 días hábiles.",
        "address_shipped": "{hello} el pedido #{number} ya se ha enviado; un especialista "
        "consultará con la empresa de transporte si se puede cambiar el destino del paquete.",
        "address": "{hello} hemos actualizado la dirección de entrega del pedido #{number}.",
        "return_review": "{hello} gracias por tu mensaje sobre el pedido #{number}. Un "
        "especialista está revisando tu devolución según nuestra política y te responderá en "
        "breve.",
        "keep_item_refund": "{hello} sentimos mucho lo ocurrido. {message} Te hemos "
        "reembolsado {amount} {currency} del pedido #{number} en tu método de pago original; "
        "no hace falta que nos devuelvas el artículo.",
        "return_label": "{hello} tu devolución del pedido #{number} está aprobada. Te enviamos "
        "una etiqueta de devolución prepagada; cuando recibamos el artículo te reembolsaremos "
        "{amount} {currency}.",
        "store_credit": "{hello} tu devolución del pedido #{number} está aprobada. Hemos añadido "
        "{amount} {currency} de saldo en tienda a tu cuenta y te enviamos una etiqueta de "
        "devolución prepagada para el artículo.",
        "replacement": "{hello} sentimos mucho lo ocurrido. {message} Te enviaremos un "
        "artículo de sustitución del pedido #{number}.",
        "shipping_unknown": "{hello} estamos comprobando los datos de envío del pedido "
        "#{number} y te informaremos hoy mismo.",
        "delivery_problem": "{hello} sentimos los problemas con el pedido #{number}. Lo estamos "
        "consultando con {carrier} y te informaremos hoy mismo.",
        "status_pending": "{hello} tu pedido #{number} todavía no se ha entregado a la empresa "
        "de transporte; te enviaremos el enlace de seguimiento en cuanto salga.",
        "status_info_received": "{hello} tu pedido #{number} está empaquetado y la etiqueta "
        "está creada; {carrier} lo recogerá en breve (seguimiento {tracking}).",
        "status_in_transit": "{hello} tu pedido #{number} está en camino con {carrier} "
        "(seguimiento {tracking}). Último escaneo: {last}.{eta}",
        "status_out_for_delivery": "{hello} ¡buenas noticias! Tu pedido #{number} está en "
        "reparto hoy con {carrier} (seguimiento {tracking}).",
        "status_available_for_pickup": "{hello} tu pedido #{number} te espera en el punto de "
        "recogida: {last}. Lleva un documento de identidad y el número de seguimiento "
        "{tracking}.",
        "status_delivered": "{hello} según {carrier}, tu pedido #{number} se entregó: {last}. "
        "Si no lo encuentras, respóndenos y te ayudaremos.",
        "status_failed_attempt": "{hello} {carrier} intentó entregar el pedido #{number}, pero "
        "no pudo: {last}. Lo volverá a intentar el próximo día hábil; también puedes programar "
        "una nueva entrega con el número de seguimiento {tracking}.",
    },
    "de": {
        "hello_named": "Hallo {first},",
        "hello": "Hallo,",
        "the_carrier": "dem Versanddienstleister",
        "label_created": "Versandetikett erstellt",
        "eta": " Voraussichtliche Zustellung: {date}.",
        "no_order": "{hello} danke für Ihre Nachricht. Könnten Sie uns Ihre Bestellnummer "
        "schicken, damit wir der Sache nachgehen können?",
        "specialist": "{hello} danke für Ihre Nachricht zur Bestellung #{number}. Ein "
        "Mitarbeiter kümmert sich darum und meldet sich in Kürze bei Ihnen.",
        "specialist_short": "{hello} ein Mitarbeiter sieht sich die Bestellung #{number} an "
        "und meldet sich in Kürze bei Ihnen.",
        "refunded_in_full": "{hello} die Bestellung #{number} wurde bereits vollständig erstattet.",
        "refund_in_transit": "{hello} die Bestellung #{number} ist noch unterwegs; ein "
        "Mitarbeiter prüft, ob sie gestoppt und erstattet werden kann.",
        "refund": "{hello} wir haben Ihnen {amount} {currency} für die Bestellung #{number} "
        "auf Ihre ursprüngliche Zahlungsmethode erstattet. Der Betrag ist meist innerhalb von "
        "5-10 Werktagen sichtbar.",
        "already_cancelled": "{hello} die Bestellung #{number} ist bereits storniert.",
        "cancel_shipped": "{hello} die Bestellung #{number} hat unser Lager bereits verlassen, "
        "daher können wir sie nicht mehr stornieren; ein Mitarbeiter hilft Ihnen stattdessen "
        "bei der Rücksendung.",
        "cancel": "{hello} wir haben die Bestellung #{number} vor dem Versand storniert und "
        "Ihnen {amount} {currency} auf Ihre ursprüngliche Zahlungsmethode erstattet. Der "
        "Betrag ist meist innerhalb von 5-10 Werktagen sichtbar.",
        "address_shipped": "{hello} die Bestellung #{number} wurde bereits versendet; ein "
        "Mitarbeiter klärt mit dem Versanddienstleister, ob das Paket umgeleitet werden kann.",
        "address": "{hello} wir haben die Lieferadresse der Bestellung #{number} geändert.",
        "return_review": "{hello} danke für Ihre Nachricht zur Bestellung #{number}. Ein "
        "Mitarbeiter prüft Ihre Rücksendung anhand unserer Richtlinien und meldet sich in "
        "Kürze bei Ihnen.",
        "keep_item_refund": "{hello} das tut uns leid. {message} Wir haben Ihnen {amount} "
        "{currency} für die Bestellung #{number} auf Ihre ursprüngliche Zahlungsmethode "
        "erstattet; Sie müssen den Artikel nicht zurücksenden.",
        "return_label": "{hello} Ihre Rücksendung für die Bestellung #{number} ist genehmigt. "
        "Wir schicken Ihnen ein frankiertes Rücksendeetikett; sobald der Artikel bei uns ist, "
        "erstatten wir {amount} {currency}.",
        "store_credit": "{hello} Ihre Rücksendung für die Bestellung #{number} ist genehmigt. "
        "Wir haben Ihrem Kundenkonto ein Guthaben von {amount} {currency} gutgeschrieben und "
        "schicken Ihnen ein frankiertes Rücksendeetikett für den Artikel.",
        "replacement": "{hello} das tut uns leid. {message} Wir schicken Ihnen einen "
        "Ersatzartikel für die Bestellung #{number}.",
        "shipping_unknown": "{hello} wir prüfen gerade die Versanddaten der Bestellung "
        "#{number} und melden uns noch heute.",
        "delivery_problem": "{hello} es tut uns leid, dass es mit der Bestellung #{number} "
        "Probleme gibt. Wir klären das mit {carrier} und melden uns noch heute.",
        "status_pending": "{hello} Ihre Bestellung #{number} wurde noch nicht an den "
        "Versanddienstleister übergeben; wir schicken Ihnen den Sendungslink, sobald sie "
        "versendet ist.",
        "status_info_received": "{hello} Ihre Bestellung #{number} ist verpackt und das "
        "Versandetikett erstellt; {carrier} holt sie in Kürze ab (Sendungsnummer {tracking}).",
        "status_in_transit": "{hello} Ihre Bestellung #{number} ist mit {carrier} unterwegs "
        "(Sendungsnummer {tracking}). Letzter Scan: {last}.{eta}",
        "status_out_for_delivery": "{hello} gute Nachrichten: Ihre Bestellung #{number} wird "
        "heute von {carrier} zugestellt (Sendungsnummer {tracking}).",
        "status_available_for_pickup": "{hello} Ihre Bestellung #{number} liegt für Sie an der "
        "Abholstelle bereit: {last}. Bitte bringen Sie einen Ausweis und die Sendungsnummer "
        "{tracking} mit.",
        "status_delivered": "{hello} laut {carrier} wurde Ihre Bestellung #{number} zugestellt: "
        "{last}. Falls Sie sie nicht finden, antworten Sie uns und wir helfen Ihnen.",
        "status_failed_attempt": "{hello} {carrier} konnte die Bestellung #{number} nicht "
        "zustellen: {last}. Am nächsten Werktag folgt ein neuer Versuch; Sie können mit der "
        "Sendungsnummer {tracking} auch selbst eine neue Zustellung vereinbaren.",
    },
    "fr": {
        "hello_named": "Bonjour {first},",
        "hello": "Bonjour,",
        "the_carrier": "le transporteur",
        "label_created": "étiquette créée",
        "eta": " Livraison prévue : {date}.",
        "no_order": "{hello} merci de nous avoir écrit. Pourriez-vous nous envoyer votre "
        "numéro de commande afin que nous puissions regarder cela ?",
        "specialist": "{hello} merci pour votre message concernant la commande #{number}. Un "
        "conseiller s'en occupe et reviendra vers vous très vite.",
        "specialist_short": "{hello} un conseiller examine la commande #{number} et reviendra "
        "vers vous très vite.",
        "refunded_in_full": "{hello} la commande #{number} a déjà été remboursée en totalité.",
        "refund_in_transit": "{hello} la commande #{number} est encore en route ; un conseiller "
        "va voir si elle peut être arrêtée et remboursée.",
        "refund": "{hello} nous vous avons remboursé {amount} {currency} pour la commande "
        "#{number} sur votre moyen de paiement d'origine. Le montant apparaît en général sous "
        "5 à 10 jours ouvrés.",
        "already_cancelled": "{hello} la commande #{number} est déjà annulée.",
        "cancel_shipped": "{hello} la commande #{number} a déjà quitté notre entrepôt, nous ne "
        "pouvons donc plus l'annuler ; un conseiller vous aidera plutôt à la retourner.",
        "cancel": "{hello} nous avons annulé la commande #{number} avant son expédition et vous "
        "avons remboursé {amount} {currency} sur votre moyen de paiement d'origine. Le montant "
        "apparaît en général sous 5 à 10 jours ouvrés.",
        "address_shipped": "{hello} la commande #{number} est déjà expédiée ; un conseiller "
        "vérifiera avec le transporteur si le colis peut être redirigé.",
        "address": "{hello} nous avons mis à jour l'adresse de livraison de la commande #{number}.",
        "return_review": "{hello} merci pour votre message concernant la commande #{number}. "
        "Un conseiller vérifie votre retour au regard de notre politique et reviendra vers "
        "vous très vite.",
        "keep_item_refund": "{hello} nous en sommes désolés. {message} Nous vous avons "
        "remboursé {amount} {currency} pour la commande #{number} sur votre moyen de paiement "
        "d'origine ; inutile de nous renvoyer l'article.",
        "return_label": "{hello} votre retour pour la commande #{number} est accepté. Nous vous "
        "envoyons une étiquette de retour prépayée ; dès réception de l'article, nous vous "
        "remboursons {amount} {currency}.",
        "store_credit": "{hello} votre retour pour la commande #{number} est accepté. Nous "
        "avons ajouté {amount} {currency} d'avoir sur votre compte client et vous envoyons une "
        "étiquette de retour prépayée pour l'article.",
        "replacement": "{hello} nous en sommes désolés. {message} Nous vous envoyons un article "
        "de remplacement pour la commande #{number}.",
        "shipping_unknown": "{hello} nous vérifions les informations d'expédition de la "
        "commande #{number} et vous tiendrons informé(e) aujourd'hui.",
        "delivery_problem": "{hello} nous sommes désolés pour ce souci avec la commande "
        "#{number}. Nous vérifions auprès de {carrier} et vous tiendrons informé(e) "
        "aujourd'hui.",
        "status_pending": "{hello} votre commande #{number} n'a pas encore été remise au "
        "transporteur ; nous vous enverrons le lien de suivi dès son expédition.",
        "status_info_received": "{hello} votre commande #{number} est emballée et l'étiquette "
        "est créée ; {carrier} va bientôt la prendre en charge (suivi {tracking}).",
        "status_in_transit": "{hello} votre commande #{number} est en route avec {carrier} "
        "(suivi {tracking}). Dernier scan : {last}.{eta}",
        "status_out_for_delivery": "{hello} bonne nouvelle : votre commande #{number} est en "
        "cours de livraison aujourd'hui avec {carrier} (suivi {tracking}).",
        "status_available_for_pickup": "{hello} votre commande #{number} vous attend au point "
        "relais : {last}. Munissez-vous d'une pièce d'identité et du numéro de suivi "
        "{tracking}.",
        "status_delivered": "{hello} d'après {carrier}, votre commande #{number} a été livrée : "
        "{last}. Si vous ne la trouvez pas, répondez-nous et nous vous aiderons.",
        "status_failed_attempt": "{hello} {carrier} a tenté de livrer la commande #{number} "
        "sans succès : {last}. Une nouvelle tentative aura lieu le prochain jour ouvré ; vous "
        "pouvez aussi programmer une nouvelle livraison avec le numéro de suivi {tracking}.",
    },
    "it": {
        "hello_named": "Ciao {first},",
        "hello": "Ciao,",
        "the_carrier": "il corriere",
        "label_created": "etichetta creata",
        "eta": " Consegna prevista: {date}.",
        "no_order": "{hello} grazie per averci scritto. Puoi inviarci il numero del tuo ordine "
        "così possiamo verificare?",
        "specialist": "{hello} grazie per il tuo messaggio sull'ordine #{number}. Un operatore "
        "se ne sta occupando e ti risponderà a breve.",
        "specialist_short": "{hello} un operatore sta verificando l'ordine #{number} e ti "
        "risponderà a breve.",
        "refunded_in_full": "{hello} l'ordine #{number} è già stato rimborsato per intero.",
        "refund_in_transit": "{hello} l'ordine #{number} è ancora in viaggio; un operatore "
        "verificherà se è possibile fermarlo e rimborsarlo.",
        "refund": "{hello} ti abbiamo rimborsato {amount} {currency} per l'ordine #{number} sul "
        "metodo di pagamento originale. Di solito l'importo compare entro 5-10 giorni "
        "lavorativi.",
        "already_cancelled": "{hello} l'ordine #{number} è già stato annullato.",
        "cancel_shipped": "{hello} l'ordine #{number} ha già lasciato il nostro magazzino, "
        "quindi non possiamo più annullarlo; un operatore ti aiuterà a effettuare il reso.",
        "cancel": "{hello} abbiamo annullato l'ordine #{number} prima della spedizione e ti "
        "abbiamo rimborsato {amount} {currency} sul metodo di pagamento originale. Di solito "
        "l'importo compare entro 5-10 giorni lavorativi.",
        "address_shipped": "{hello} l'ordine #{number} è già stato spedito; un operatore "
        "verificherà con il corriere se il pacco può essere reindirizzato.",
        "address": "{hello} abbiamo aggiornato l'indirizzo di consegna dell'ordine #{number}.",
        "return_review": "{hello} grazie per il tuo messaggio sull'ordine #{number}. Un "
        "operatore sta verificando il tuo reso secondo la nostra politica e ti risponderà a "
        "breve.",
        "keep_item_refund": "{hello} ci dispiace molto. {message} Ti abbiamo rimborsato "
        "{amount} {currency} per l'ordine #{number} sul metodo di pagamento originale; non "
        "serve restituire l'articolo.",
        "return_label": "{hello} il reso dell'ordine #{number} è approvato. Ti inviamo "
        "un'etichetta di reso prepagata; quando riceveremo l'articolo ti rimborseremo {amount} "
        "{currency}.",
        "store_credit": "{hello} il reso dell'ordine #{number} è approvato. Abbiamo aggiunto "
        "{amount} {currency} di credito negozio al tuo account e ti inviamo un'etichetta di "
        "reso prepagata per l'articolo.",
        "replacement": "{hello} ci dispiace molto. {message} Ti spediremo un articolo "
        "sostitutivo per l'ordine #{number}.",
        "shipping_unknown": "{hello} stiamo verificando i dati di spedizione dell'ordine "
        "#{number} e ti aggiorneremo oggi stesso.",
        "delivery_problem": "{hello} ci dispiace per il problema con l'ordine #{number}. Stiamo "
        "verificando con {carrier} e ti aggiorneremo oggi stesso.",
        "status_pending": "{hello} il tuo ordine #{number} non è ancora stato affidato al "
        "corriere; ti invieremo il link di tracciamento appena partirà.",
        "status_info_received": "{hello} il tuo ordine #{number} è imballato e l'etichetta è "
        "pronta; {carrier} lo ritirerà a breve (tracking {tracking}).",
        "status_in_transit": "{hello} il tuo ordine #{number} è in viaggio con {carrier} "
        "(tracking {tracking}). Ultima scansione: {last}.{eta}",
        "status_out_for_delivery": "{hello} buone notizie: il tuo ordine #{number} è in "
        "consegna oggi con {carrier} (tracking {tracking}).",
        "status_available_for_pickup": "{hello} il tuo ordine #{number} ti aspetta al punto di "
        "ritiro: {last}. Porta un documento d'identità e il numero di tracking {tracking}.",
        "status_delivered": "{hello} secondo {carrier} il tuo ordine #{number} è stato "
        "consegnato: {last}. Se non lo trovi, rispondi a questo messaggio e ti aiuteremo.",
        "status_failed_attempt": "{hello} {carrier} ha tentato di consegnare l'ordine "
        "#{number} senza riuscirci: {last}. Riproverà il prossimo giorno lavorativo; puoi anche "
        "fissare una nuova consegna con il numero di tracking {tracking}.",
    },
    "pt": {
        "hello_named": "Olá {first},",
        "hello": "Olá,",
        "the_carrier": "a transportadora",
        "label_created": "etiqueta criada",
        "eta": " Entrega prevista: {date}.",
        "no_order": "{hello} obrigado pelo contacto. Pode enviar-nos o número do seu pedido "
        "para podermos verificar?",
        "specialist": "{hello} obrigado pela sua mensagem sobre o pedido #{number}. Um "
        "especialista está a tratar do assunto e responderá em breve.",
        "specialist_short": "{hello} um especialista está a analisar o pedido #{number} e "
        "responderá em breve.",
        "refunded_in_full": "{hello} o pedido #{number} já foi reembolsado na totalidade.",
        "refund_in_transit": "{hello} o pedido #{number} ainda está a caminho; um especialista "
        "vai ver se pode ser travado e reembolsado.",
        "refund": "{hello} reembolsámos {amount} {currency} do pedido #{number} para o seu "
        "método de pagamento original. Normalmente aparece em 5 a 10 dias úteis.",
        "already_cancelled": "{hello} o pedido #{number} já está cancelado.",
        "cancel_shipped": "{hello} o pedido #{number} já saiu do nosso armazém, por isso já não "
        "o podemos cancelar; um especialista vai ajudá-lo a devolvê-lo.",
        "cancel": "{hello} cancelámos o pedido #{number} antes do envio e reembolsámos {amount} "
        "{currency} para o seu método de pagamento original. Normalmente aparece em 5 a 10 "
        "dias úteis.",
        "address_shipped": "{hello} o pedido #{number} já foi enviado; um especialista vai "
        "confirmar com a transportadora se a encomenda pode ser redirecionada.",
        "address": "{hello} atualizámos a morada de entrega do pedido #{number}.",
        "return_review": "{hello} obrigado pela sua mensagem sobre o pedido #{number}. Um "
        "especialista está a verificar a sua devolução de acordo com a nossa política e "
        "responderá em breve.",
        "keep_item_refund": "{hello} lamentamos muito. {message} Reembolsámos {amount} "
        "{currency} do pedido #{number} para o seu método de pagamento original; não precisa "
        "de devolver o artigo.",
        "return_label": "{hello} a devolução do pedido #{number} foi aprovada. Vamos enviar-lhe "
        "uma etiqueta de devolução pré-paga; quando o artigo chegar, reembolsamos {amount} "
        "{currency}.",
        "store_credit": "{hello} a devolução do pedido #{number} foi aprovada. Adicionámos "
        "{amount} {currency} em crédito de loja à sua conta e vamos enviar-lhe uma etiqueta de "
        "devolução pré-paga para o artigo.",
        "replacement": "{hello} lamentamos muito. {message} Vamos enviar um artigo de "
        "substituição para o pedido #{number}.",
        "shipping_unknown": "{hello} estamos a verificar os dados de envio do pedido #{number} "
        "e damos-lhe notícias ainda hoje.",
        "delivery_problem": "{hello} lamentamos o problema com o pedido #{number}. Estamos a "
        "verificar com {carrier} e damos-lhe notícias ainda hoje.",
        "status_pending": "{hello} o seu pedido #{number} ainda não foi entregue à "
        "transportadora; enviaremos o link de seguimento assim que for expedido.",
        "status_info_received": "{hello} o seu pedido #{number} está embalado e a etiqueta "
        "está criada; {carrier} vai recolhê-lo em breve (seguimento {tracking}).",
        "status_in_transit": "{hello} o seu pedido #{number} está a caminho com {carrier} "
        "(seguimento {tracking}). Último registo: {last}.{eta}",
        "status_out_for_delivery": "{hello} boas notícias: o seu pedido #{number} está em "
        "distribuição hoje com {carrier} (seguimento {tracking}).",
        "status_available_for_pickup": "{hello} o seu pedido #{number} está à sua espera no "
        "ponto de recolha: {last}. Leve um documento de identificação e o número de "
        "seguimento {tracking}.",
        "status_delivered": "{hello} segundo {carrier}, o seu pedido #{number} foi entregue: "
        "{last}. Se não o encontrar, responda a esta mensagem e ajudamos.",
        "status_failed_attempt": "{hello} {carrier} tentou entregar o pedido #{number}, mas não "
        "conseguiu: {last}. Vai tentar de novo no próximo dia útil; também pode combinar uma "
        "nova entrega com o número de seguimento {tracking}.",
    },
}
LANGUAGES = tuple(MESSAGES)

# Words that promise money, in every language we answer in. A reply on a kind that
# moves no money must not use them, and carrier scans quoted to customers must not
# carry them (agents.guardrails, agents.planner).
MONEY_WORDS = (
    r"\b(refund(ed|s)?|store credit|voucher|gift card|discount code|coupon|compensat\w*|"
    r"reimburs\w*|chargeback"
    # es / pt
    r"|reembols\w*|saldo (en|na) tienda|cr[eé]dito (de|en|na) (tienda|loja)|cup[oóã]n|cupom|"
    r"c[oó]digo de (descuento|desconto)|tarjeta regalo|cart[aã]o (de )?oferta|indemniza\w*"
    # de
    r"|\w*erstatt\w*|gutschein\w*|gutschrift\w*|guthaben|rabattcode\w*|entsch[aä]dig\w*"
    # fr
    r"|rembours\w*|bon d'achat|code promo|carte cadeau|d[eé]dommag\w*|indemnis\w*|avoir sur"
    # it
    r"|rimbors\w*|buono (sconto|regalo|acquisto)|credito (negozio|del negozio)|"
    r"codice sconto|risarc\w*|indennizz\w*)\b"
)
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
}


def _language(locale: str | None) -> str:
    return (locale or "").replace("_", "-").split("-")[0].lower()


def reply_language(tenant: Tenant, detected: str | None) -> str:
    """The language to answer in: the customer's when the tenant allows it and we
    have it, else the tenant's own locale, else English."""
    wanted = _language(detected)
    allowed = {_language(code) for code in tenant.reply_languages or []}
    if wanted in allowed and wanted in MESSAGES:
        return wanted
    default = _language(tenant.locale)
    return default if default in MESSAGES else DEFAULT


def say(language: str, key: str, **values: Any) -> str:
    """One message in ``language`` (English when we do not have it)."""
    return MESSAGES.get(language, MESSAGES[DEFAULT])[key].format(**values)


def greeting(language: str, name: str) -> str:
    first = (name or "").split(" ")[0]
    return say(language, "hello_named", first=first) if first else say(language, "hello")


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field}
